// Every message the role processes exchange, and its payload schema.
//
// A payload is one JSON object. Decoders accept exactly the keys listed for
// the type, each with its JSON type and a length cap, and reject unknown,
// missing and duplicate keys: a peer may be compromised, so nothing it sends
// is used before it has been checked. Binary values travel as base64url.
// Messages without fields carry "{}".
#ifndef BULKHEAD_IPC_MESSAGES_H_
#define BULKHEAD_IPC_MESSAGES_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/key.h"
#include "ipc/frame.h"
#include "util/result.h"

namespace bulkhead::ipc {

// MessageType numbers every message; the high byte groups them by role.
// Values are part of the wire format: never renumber, only append; the
// value of a deleted type stays retired (a peer of another build may
// still send it, and it must be rejected as unknown).
enum class MessageType : uint16_t {
  // generic: replies any role may send, and process control.
  kOk = 0x0001,                  // {}: the request succeeded, nothing to return.
  kError = 0x0002,               // {message, code}: the request failed.
  kShutdown = 0x0003,            // {}: finish and exit.
  // signer: holds the account key.
  kSignerHello = 0x0101,         // signer -> net {jwk, thumbprint}: the public account key.
  kSignRequest = 0x0102,         // net -> signer {url, nonce, kid, payload}.
  kSignResponse = 0x0103,        // signer -> net {jws}: flattened JWS object.
  kKeyChangeRequest = 0x0104,    // net -> signer {url, account}: the keyChange inner JWS,
                                 //  made by the new key over {account, oldKey} -> kSignResponse.
  kEabRequest = 0x0105,          // net -> signer {url}: the EAB JWS (HS256 over the account
                                 //  JWK) -> kSignResponse; the HMAC key stays in the signer.
  // challenge: owns the challenge directory or listener.
  // 0x0201 is retired (PublishRequest, superseded by kPublishForRequest).
  kRemoveRequest = 0x0202,       // {token} -> kOk.
  kDescribeRequest = 0x0203,     // {} -> kDescribeResponse.
  kDescribeResponse = 0x0204,    // {text}: the mechanism, for messages.
  kPublishForRequest = 0x0205,   // {identifier, token, key_authorization} -> kOk (dns-01).
  kWaitReadyRequest = 0x0206,    // {} -> kOk once the CA can see everything published.
  // keys: holds the certificate's domain key.
  // 0x0301 is retired (PrepareKeyRequest: the keys role's job comes by fork).
  kPrepareKeyResponse = 0x0302,  // {csr_der, public_key_der}, both base64url.
  // store: owns the certificate directory.
  kCommitRequest = 0x0401,       // {name, cert_pem, chain_pem, fullchain_pem, key_source}.
  kCommitResponse = 0x0402,      // {version}: the new live version.
  kSavePendingOrder = 0x0403,    // net -> store {order}: the order in progress -> kOk.
  // net -> parent: the outcome of the whole order.
  kIssueResult = 0x0501,         // {version, subject, issuer, names[], serial,
                                 //  not_before, not_after}: what was made live.
  kOrderReport = 0x0502,         // {new_order, failed_authz}: what the order spent,
                                 //  sent before kIssueResult or kError.
  kRenewalInfo = 0x0503,         // {supported, start, end, retry_after, explanation}:
                                 //  the CA's ARI answer (RFC 9773), checked.
  kTlsaObservation = 0x0505,     // {published, ttl, detail}: whether the next key's TLSA
                                 //  record is served (DANE rollover), checked.
  kAccountResult = 0x0504,       // {outcome, url, status, contact[]}: what the CA said about
                                 //  the account (account register/show/rollover/deactivate).
  // account: the signer of an account command, the only role that may write
  // the account directory (docs/COMPARTMENTS.md).
  kAccountCommitRequest = 0x0601,   // parent -> account {save_info, url, status, contact[]}:
                                    //  the CA accepted; store the key made for this run and
                                    //  (with save_info) account.json -> kAccountCommitResponse.
  kAccountCommitResponse = 0x0602,  // {key_type, thumbprint, warning}: the key now stored.
  // probe: connects to TLS servers and parses what they send (monitor,
  // serve's checks, reload-watch --verify); its job is inherited at fork.
  kProbeRun = 0x0701,      // parent -> probe {}: probe every request of the job once;
                           //  answered by kProbeCert/kProbeOutcome frames, then kOk.
  kProbeCert = 0x0702,     // probe -> parent {chain, depth, last, subject, ...}: one
                           //  certificate of a served chain not described before.
  kProbeOutcome = 0x0703,  // probe -> parent {index, error, code, chain, tls_version, ...}:
                           //  the checked result of one request.
};

// IsKnownMessageType reports whether `value` is a MessageType of this build.
bool IsKnownMessageType(uint16_t value);

// MessageTypeName returns the type's name without the "k" ("SignRequest"),
// or "unknown" for a value outside the enum.
std::string_view MessageTypeName(MessageType type);

// Caps on field sizes. Each is far above what honest use needs and far
// below kMaxPayload, so one oversized field is named in the error instead of
// only tripping the frame cap.
inline constexpr size_t kMaxTokenLen = 256;           // ACME tokens are ~43 chars.
inline constexpr size_t kMaxKeyAuthorizationLen = 512;
inline constexpr size_t kMaxUrlLen = 2048;
inline constexpr size_t kMaxNonceLen = 256;
inline constexpr size_t kMaxSignPayloadLen = 128 * 1024;  // Finalize with a large CSR.
inline constexpr size_t kMaxJwsMemberLen = 192 * 1024;    // base64url of the payload.
inline constexpr size_t kMaxJwkMembers = 16;
inline constexpr size_t kMaxJwkMemberLen = 2048;          // RSA-4096 "n" is 683 chars.
inline constexpr size_t kMaxNames = 100;                  // Let's Encrypt's SAN limit.
inline constexpr size_t kMaxNameLen = 253;                // Longest DNS name.
inline constexpr size_t kMaxPemLen = 192 * 1024;
inline constexpr size_t kMaxCsrDerB64Len = 96 * 1024;
inline constexpr size_t kMaxPublicKeyDerB64Len = 4096;
inline constexpr size_t kMaxTextLen = 4096;               // Error messages, Describe.

// SignerHelloMsg announces the account's public key.
struct SignerHelloMsg {
  static constexpr MessageType kType = MessageType::kSignerHello;
  nlohmann::json jwk;      // Object of string members (kty, crv, x, y / n, e).
  std::string thumbprint;  // RFC 7638, base64url.
};

// SignRequestMsg mirrors jose::SignRequest.
struct SignRequestMsg {
  static constexpr MessageType kType = MessageType::kSignRequest;
  std::string url;
  std::string nonce;    // Empty omits the nonce (keyChange inner JWS).
  std::string kid;      // Empty embeds the jwk.
  std::string payload;  // Serialized JSON, or "" for POST-as-GET.
  bool operator==(const SignRequestMsg&) const = default;
};

// SignResponseMsg carries the flattened JWS {protected, payload, signature}.
struct SignResponseMsg {
  static constexpr MessageType kType = MessageType::kSignResponse;
  nlohmann::json jws;
};

// RemoveRequestMsg withdraws a published token.
struct RemoveRequestMsg {
  static constexpr MessageType kType = MessageType::kRemoveRequest;
  std::string token;
  bool operator==(const RemoveRequestMsg&) const = default;
};

// PublishForRequestMsg asks the challenge role to publish
// `key_authorization` for `token` for the authorization of `identifier` (a
// DNS name, "*." for a wildcard, or an IP literal), which dns-01 needs to
// name its record. The token is base64url (it becomes a file name) and the
// key authorization is "<token>.<thumbprint>" (RFC 8555 section 8.1).
struct PublishForRequestMsg {
  static constexpr MessageType kType = MessageType::kPublishForRequest;
  std::string identifier;
  std::string token;
  std::string key_authorization;
  bool operator==(const PublishForRequestMsg&) const = default;
};

// DescribeResponseMsg names the challenge mechanism ("webroot /var/www").
struct DescribeResponseMsg {
  static constexpr MessageType kType = MessageType::kDescribeResponse;
  std::string text;
  bool operator==(const DescribeResponseMsg&) const = default;
};

// PrepareKeyResponseMsg holds raw DER; base64url is only the wire form.
struct PrepareKeyResponseMsg {
  static constexpr MessageType kType = MessageType::kPrepareKeyResponse;
  std::string csr_der;
  std::string public_key_der;
  bool operator==(const PrepareKeyResponseMsg&) const = default;
};

// KeySource says which key the store commits with the certificate.
enum class KeySource {
  kPending,  // The key the keys role just generated.
  kLive,     // The currently live key (reuse).
  kNone,     // No key: the user supplied the CSR.
};

// CommitRequestMsg asks the store to make a new certificate set live. The
// private key never travels here: the store takes it from `key_source`.
struct CommitRequestMsg {
  static constexpr MessageType kType = MessageType::kCommitRequest;
  std::string name;  // Must pass store::IsValidCertName.
  std::string cert_pem;
  std::string chain_pem;
  std::string fullchain_pem;
  KeySource key_source = KeySource::kPending;
  bool operator==(const CommitRequestMsg&) const = default;
};

// CommitResponseMsg returns the new live version.
struct CommitResponseMsg {
  static constexpr MessageType kType = MessageType::kCommitResponse;
  int version = 0;
  bool operator==(const CommitResponseMsg&) const = default;
};

// SavePendingOrderMsg asks the store to record the order in progress
// (pending/order.json) so an interrupted run can resume it.
struct SavePendingOrderMsg {
  static constexpr MessageType kType = MessageType::kSavePendingOrder;
  nlohmann::json order;  // An object; travels as JSON text of at most 16 KiB.
};

// IssueResultMsg tells the parent what was made live, for its report.
struct IssueResultMsg {
  static constexpr MessageType kType = MessageType::kIssueResult;
  int version = 0;
  std::string subject;
  std::string issuer;
  std::vector<std::string> names;
  std::string serial;
  int64_t not_before = 0;
  int64_t not_after = 0;
  bool operator==(const IssueResultMsg&) const = default;
};

// OrderReportMsg tells the parent what an order cost at the CA, for the
// rate-limit ledger: whether a new order was created, and the identifiers
// whose authorization failed.
struct OrderReportMsg {
  static constexpr MessageType kType = MessageType::kOrderReport;
  bool new_order = false;
  std::vector<std::string> failed_authz;  // Each passes acme::ValidateName.
  bool operator==(const OrderReportMsg&) const = default;
};

// RenewalInfoMsg is the CA's suggested renewal window for one certificate,
// already parsed strictly by the net role (renew::ParseRenewalInfo).
// `supported` false: the CA has no renewalInfo; the other fields are 0/"".
struct RenewalInfoMsg {
  static constexpr MessageType kType = MessageType::kRenewalInfo;
  bool supported = false;
  int64_t start = 0;        // Unix seconds.
  int64_t end = 0;          // Unix seconds, > start when supported.
  int64_t retry_after = 0;  // Seconds until the next check, already clamped.
  std::string explanation;  // explanationURL, or "".
  bool operator==(const RenewalInfoMsg&) const = default;
};

// TlsaObservationMsg is what a DNS role found about a certificate's next
// key (manager/dane.h): `published` when every asked server serves its
// TLSA record for every configured endpoint; `ttl` the largest TTL of
// those RRsets; `detail` one line saying what was (not) seen.
struct TlsaObservationMsg {
  static constexpr MessageType kType = MessageType::kTlsaObservation;
  bool published = false;
  uint32_t ttl = 0;
  std::string detail;
  bool operator==(const TlsaObservationMsg&) const = default;
};

// KeyChangeRequestMsg asks the signer of `account account rollover` for the
// inner JWS of a keyChange (RFC 8555 7.3.5): the signer builds the payload
// {"account": account, "oldKey": <its old JWK>} itself and signs it with the
// new key, so the new key signs nothing else. `account` must be the account
// URL the signer was started for.
struct KeyChangeRequestMsg {
  static constexpr MessageType kType = MessageType::kKeyChangeRequest;
  std::string url;      // The keyChange URL: https, printable ASCII.
  std::string account;  // The account URL: https, printable ASCII.
  bool operator==(const KeyChangeRequestMsg&) const = default;
};

// EabRequestMsg asks the signer for the external account binding JWS
// (RFC 8555 7.3.4) for the newAccount URL `url`.
struct EabRequestMsg {
  static constexpr MessageType kType = MessageType::kEabRequest;
  std::string url;  // https, printable ASCII.
  bool operator==(const EabRequestMsg&) const = default;
};

// AccountOutcome says what an account command did at the CA.
enum class AccountOutcome {
  kCreated,      // newAccount made a new account ("registered").
  kFound,        // newAccount answered with the existing account of the key.
  kExists,       // onlyReturnExisting found it (register with a stored key).
  kFetched,      // account show.
  kDeactivated,  // account deactivate.
  kKeyChanged,   // account rollover: the CA accepted the new key.
};

// kMaxContacts bounds an account's contact list.
inline constexpr size_t kMaxContacts = 16;
inline constexpr size_t kMaxContactLen = 512;

// AccountResultMsg is the net role's report on an account command, already
// parsed strictly: `url` and every contact are printable ASCII without
// spaces (the parent prints them), `status` is "", valid, deactivated or
// revoked ("" only for kKeyChanged, which does not fetch the account).
struct AccountResultMsg {
  static constexpr MessageType kType = MessageType::kAccountResult;
  AccountOutcome outcome = AccountOutcome::kFetched;
  std::string url;
  std::string status;
  std::vector<std::string> contact;  // 0..kMaxContacts.
  bool operator==(const AccountResultMsg&) const = default;
};

// AccountCommitRequestMsg tells the account role that the CA has accepted:
// it stores the key it made for this run (register: account.key, O_EXCL,
// 0400; rollover: replaces account.key, keeping the old one) and, with
// `save_info`, writes account.json from these fields plus what it knows
// itself (server, key type, thumbprint). Same field rules as
// AccountResultMsg.
struct AccountCommitRequestMsg {
  static constexpr MessageType kType = MessageType::kAccountCommitRequest;
  bool save_info = false;
  std::string url;
  std::string status;
  std::vector<std::string> contact;
  bool operator==(const AccountCommitRequestMsg&) const = default;
};

// AccountCommitResponseMsg describes the account key now stored.
// `warning` is non-empty when the key is stored but account.json could not
// be written (its text says why).
struct AccountCommitResponseMsg {
  static constexpr MessageType kType = MessageType::kAccountCommitResponse;
  crypto::KeyType key_type = crypto::KeyType::kEc256;
  std::string thumbprint;  // RFC 7638, base64url.
  std::string warning;
  bool operator==(const AccountCommitResponseMsg&) const = default;
};

// Caps of the probe role's messages. A served certificate is a few KiB;
// 64 KiB of DER is far beyond any real one and keeps a kProbeCert with
// kMaxProbeNames names within kMaxPayload.
inline constexpr size_t kMaxProbeCertDer = 64 * 1024;
inline constexpr size_t kMaxProbeNames = 500;
inline constexpr size_t kMaxProbeChainLength = 16;  // Longer chains are cut.
inline constexpr size_t kMaxProbeChains = 1 << 20;  // Distinct chains in one run.
inline constexpr size_t kMaxProbeRequests = 1 << 20;
inline constexpr size_t kMaxProbeHeaderLen = 1024;  // One HTTP header value.

// ProbeCertMsg describes one certificate of a chain a server served, as
// the probe role parsed it. Certificates of chain `chain` arrive in order,
// depth 0 (the leaf) first, the one with `last` set ending the chain; the
// probe numbers chains 0, 1, 2, ... and describes each once, before the
// first outcome that refers to it. The facts TLSA matching needs beyond the
// bytes (who signed whom) travel as booleans, so the parent never parses a
// certificate. Text is free of control characters and capped; times before
// 1970 are sent as 0.
struct ProbeCertMsg {
  static constexpr MessageType kType = MessageType::kProbeCert;
  uint32_t chain = 0;
  uint32_t depth = 0;
  bool last = false;
  std::string subject;     // RFC 2253, as crypto::CertInfo.
  std::string subject_cn;
  std::string issuer;
  std::vector<std::string> names;  // SAN entries; at most kMaxProbeNames.
  std::string serial_hex;          // Lower-case hex digits.
  std::string serial_der;          // Raw bytes (may be empty).
  std::string public_key_der;      // Raw SubjectPublicKeyInfo.
  std::string der;                 // Raw certificate, at most kMaxProbeCertDer.
  int64_t not_before = 0;
  int64_t not_after = 0;
  bool issued_by_next = false;  // Signed by the certificate at depth + 1.
  bool self_signed = false;     // Names itself as issuer, signature verifies.
  bool operator==(const ProbeCertMsg&) const = default;
};

// ProbeOutcomeMsg is the result of request `index` of the probe's job.
// `error` non-empty: no chain was obtained (then every other field but
// `code` is empty or zero). Otherwise `chain` names a chain described
// earlier. Only the HTTP headers the parent reports travel
// (strict-transport-security, content-security-policy, referrer-policy).
struct ProbeOutcomeMsg {
  static constexpr MessageType kType = MessageType::kProbeOutcome;
  uint32_t index = 0;
  std::string error;
  ErrorCode code = ErrorCode::kFailure;
  uint32_t chain = 0;
  std::string address;  // IP literal connected to.
  std::string tls_version;
  std::string cipher;
  std::string key_type;
  uint32_t key_bits = 0;
  std::string curve;
  std::string signature_algorithm;
  bool chain_valid = false;
  std::string chain_error;
  bool hostname_match = false;
  uint32_t http_status = 0;  // 0: no HTTP status.
  std::vector<std::pair<std::string, std::string>> http_headers;
  std::string http_error;
  uint64_t elapsed_us = 0;
  bool operator==(const ProbeOutcomeMsg&) const = default;
};

// ErrorMsg carries an Error across the channel.
struct ErrorMsg {
  static constexpr MessageType kType = MessageType::kError;
  std::string message;
  ErrorCode code = ErrorCode::kFailure;
  bool operator==(const ErrorMsg&) const = default;
};

// EmptyMsg is a message without fields, named by its type alone; its
// payload is "{}".
template <MessageType T>
struct EmptyMsg {
  static constexpr MessageType kType = T;
  bool operator==(const EmptyMsg&) const = default;
};
using OkMsg = EmptyMsg<MessageType::kOk>;
using ShutdownMsg = EmptyMsg<MessageType::kShutdown>;
using DescribeRequestMsg = EmptyMsg<MessageType::kDescribeRequest>;
using WaitReadyRequestMsg = EmptyMsg<MessageType::kWaitReadyRequest>;
using ProbeRunMsg = EmptyMsg<MessageType::kProbeRun>;

// Encode returns the JSON payload for a message. Strings are expected to be
// UTF-8 text; invalid UTF-8 is replaced by U+FFFD rather than failing, since
// every binary value has its own base64url field.
std::string Encode(const SignerHelloMsg& msg);
std::string Encode(const SignRequestMsg& msg);
std::string Encode(const SignResponseMsg& msg);
std::string Encode(const RemoveRequestMsg& msg);
std::string Encode(const PublishForRequestMsg& msg);
std::string Encode(const DescribeResponseMsg& msg);
std::string Encode(const PrepareKeyResponseMsg& msg);
std::string Encode(const CommitRequestMsg& msg);
std::string Encode(const CommitResponseMsg& msg);
std::string Encode(const SavePendingOrderMsg& msg);
std::string Encode(const IssueResultMsg& msg);
std::string Encode(const OrderReportMsg& msg);
std::string Encode(const RenewalInfoMsg& msg);
std::string Encode(const TlsaObservationMsg& msg);
std::string Encode(const ErrorMsg& msg);
std::string Encode(const KeyChangeRequestMsg& msg);
std::string Encode(const EabRequestMsg& msg);
std::string Encode(const AccountResultMsg& msg);
std::string Encode(const AccountCommitRequestMsg& msg);
std::string Encode(const AccountCommitResponseMsg& msg);
// The probe's encoders make every field fit its decoder: text loses control
// characters and is cut at its cap, names beyond the caps are dropped, times
// are clamped. A certificate above kMaxProbeCertDer must not be passed (the
// probe reports such a chain as an error instead).
std::string Encode(const ProbeCertMsg& msg);
std::string Encode(const ProbeOutcomeMsg& msg);

// EncodeEmpty returns the payload of kOk, kShutdown, kDescribeRequest,
// kWaitReadyRequest and kProbeRun.
std::string EncodeEmpty();
template <MessageType T>
std::string Encode(const EmptyMsg<T>& /*msg*/) {
  return EncodeEmpty();
}

// Decode* check that `frame` has the expected type and that its payload
// matches the schema above. They fail with a message naming the message
// type and the offending key (never echoing a value, which may be large or
// hostile).
Result<SignerHelloMsg> DecodeSignerHello(const DecodedFrame& frame);
Result<SignRequestMsg> DecodeSignRequest(const DecodedFrame& frame);
Result<SignResponseMsg> DecodeSignResponse(const DecodedFrame& frame);
Result<RemoveRequestMsg> DecodeRemoveRequest(const DecodedFrame& frame);
Result<PublishForRequestMsg> DecodePublishForRequest(const DecodedFrame& frame);
Result<DescribeResponseMsg> DecodeDescribeResponse(const DecodedFrame& frame);
Result<PrepareKeyResponseMsg> DecodePrepareKeyResponse(const DecodedFrame& frame);
Result<CommitRequestMsg> DecodeCommitRequest(const DecodedFrame& frame);
Result<CommitResponseMsg> DecodeCommitResponse(const DecodedFrame& frame);
Result<SavePendingOrderMsg> DecodeSavePendingOrder(const DecodedFrame& frame);
Result<IssueResultMsg> DecodeIssueResult(const DecodedFrame& frame);
Result<OrderReportMsg> DecodeOrderReport(const DecodedFrame& frame);
Result<RenewalInfoMsg> DecodeRenewalInfo(const DecodedFrame& frame);
Result<TlsaObservationMsg> DecodeTlsaObservation(const DecodedFrame& frame);
Result<ErrorMsg> DecodeError(const DecodedFrame& frame);
Result<KeyChangeRequestMsg> DecodeKeyChangeRequest(const DecodedFrame& frame);
Result<EabRequestMsg> DecodeEabRequest(const DecodedFrame& frame);
Result<AccountResultMsg> DecodeAccountResult(const DecodedFrame& frame);
Result<AccountCommitRequestMsg> DecodeAccountCommitRequest(const DecodedFrame& frame);
Result<AccountCommitResponseMsg> DecodeAccountCommitResponse(const DecodedFrame& frame);
Result<ProbeCertMsg> DecodeProbeCert(const DecodedFrame& frame);
Result<ProbeOutcomeMsg> DecodeProbeOutcome(const DecodedFrame& frame);

// DecodeEmpty checks a kOk, kShutdown, kDescribeRequest, kWaitReadyRequest
// or kProbeRun frame of type
// `type`: its payload must be exactly an empty JSON object.
Status DecodeEmpty(const DecodedFrame& frame, MessageType type);

// Decode<M> is the decoder of message M: Decode<SignRequestMsg> is
// DecodeSignRequest, Decode<OkMsg> is DecodeEmpty(frame, kOk), with the same
// checks and errors. It lets code name a message once, by its struct.
template <class M>
Result<M> Decode(const DecodedFrame& frame);
template <>
Result<SignerHelloMsg> Decode<SignerHelloMsg>(const DecodedFrame& frame);
template <>
Result<SignRequestMsg> Decode<SignRequestMsg>(const DecodedFrame& frame);
template <>
Result<SignResponseMsg> Decode<SignResponseMsg>(const DecodedFrame& frame);
template <>
Result<RemoveRequestMsg> Decode<RemoveRequestMsg>(const DecodedFrame& frame);
template <>
Result<PublishForRequestMsg> Decode<PublishForRequestMsg>(const DecodedFrame& frame);
template <>
Result<DescribeResponseMsg> Decode<DescribeResponseMsg>(const DecodedFrame& frame);
template <>
Result<PrepareKeyResponseMsg> Decode<PrepareKeyResponseMsg>(const DecodedFrame& frame);
template <>
Result<CommitRequestMsg> Decode<CommitRequestMsg>(const DecodedFrame& frame);
template <>
Result<CommitResponseMsg> Decode<CommitResponseMsg>(const DecodedFrame& frame);
template <>
Result<SavePendingOrderMsg> Decode<SavePendingOrderMsg>(const DecodedFrame& frame);
template <>
Result<IssueResultMsg> Decode<IssueResultMsg>(const DecodedFrame& frame);
template <>
Result<OrderReportMsg> Decode<OrderReportMsg>(const DecodedFrame& frame);
template <>
Result<RenewalInfoMsg> Decode<RenewalInfoMsg>(const DecodedFrame& frame);
template <>
Result<TlsaObservationMsg> Decode<TlsaObservationMsg>(const DecodedFrame& frame);
template <>
Result<ErrorMsg> Decode<ErrorMsg>(const DecodedFrame& frame);
template <>
Result<KeyChangeRequestMsg> Decode<KeyChangeRequestMsg>(const DecodedFrame& frame);
template <>
Result<EabRequestMsg> Decode<EabRequestMsg>(const DecodedFrame& frame);
template <>
Result<AccountResultMsg> Decode<AccountResultMsg>(const DecodedFrame& frame);
template <>
Result<AccountCommitRequestMsg> Decode<AccountCommitRequestMsg>(const DecodedFrame& frame);
template <>
Result<AccountCommitResponseMsg> Decode<AccountCommitResponseMsg>(const DecodedFrame& frame);
template <>
Result<ProbeCertMsg> Decode<ProbeCertMsg>(const DecodedFrame& frame);
template <>
Result<ProbeOutcomeMsg> Decode<ProbeOutcomeMsg>(const DecodedFrame& frame);
template <>
Result<OkMsg> Decode<OkMsg>(const DecodedFrame& frame);
template <>
Result<ShutdownMsg> Decode<ShutdownMsg>(const DecodedFrame& frame);
template <>
Result<DescribeRequestMsg> Decode<DescribeRequestMsg>(const DecodedFrame& frame);
template <>
Result<WaitReadyRequestMsg> Decode<WaitReadyRequestMsg>(const DecodedFrame& frame);
template <>
Result<ProbeRunMsg> Decode<ProbeRunMsg>(const DecodedFrame& frame);

// Reply decodes the one answer a short-lived role sends its parent: R, or
// the role's kError, which becomes an Error with the role's message and
// code as sent. Any other frame fails as Decode<R> does.
template <class R>
Result<R> Reply(const DecodedFrame& frame) {
  if (frame.type == MessageType::kError) {
    BH_ASSIGN(ErrorMsg e, DecodeError(frame));
    return Error{e.message, e.code};
  }
  return Decode<R>(frame);
}

// ValidatePayload runs the decoder matching `frame.type` and discards the
// result: the single entry point for fuzzing and for logging rejects.
Status ValidatePayload(const DecodedFrame& frame);

}  // namespace bulkhead::ipc

#endif  // BULKHEAD_IPC_MESSAGES_H_
