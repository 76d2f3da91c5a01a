#include "ipc/messages.h"

#include <algorithm>
#include <array>
#include <climits>
#include <exception>
#include <set>
#include <type_traits>
#include <span>
#include <utility>
#include <variant>

#include "acme/types.h"
#include "store/cert_store.h"
#include "util/base64url.h"
#include "util/json.h"
#include "util/text.h"

namespace bulkhead::ipc {
namespace {

using json = nlohmann::json;

// Kind is the JSON shape a field must have.
enum class Kind {
  kString,       // Any string up to max_len bytes (may be empty).
  kToken,        // Non-empty base64url, up to max_len: safe as a file name.
  kBytes,        // Non-empty base64url that decodes; max_len bounds the text.
  kBool,
  kUint,         // Non-negative integer up to max_len.
  kStringArray,  // 1..max_items non-empty strings of up to max_len bytes.
  kStringMap,    // Object of up to max_items string members of up to max_len.
  kStringList,   // 0..max_items non-empty strings of up to max_len bytes.
};

// Field is one row of a message schema. Every field is required.
struct Field {
  std::string_view name;
  Kind kind;
  size_t max_len;
  size_t max_items = 0;
};

// kMaxMapKeyLen bounds member names inside a kStringMap (JWK/JWS members
// are a few letters).
constexpr size_t kMaxMapKeyLen = 32;


constexpr Field kSignerHelloFields[] = {
    {"jwk", Kind::kStringMap, kMaxJwkMemberLen, kMaxJwkMembers},
    {"thumbprint", Kind::kToken, kMaxTokenLen},
};
constexpr Field kSignResponseFields[] = {
    {"jws", Kind::kStringMap, kMaxJwsMemberLen, 3},
};
constexpr Field kPublishForRequestFields[] = {
    {"identifier", Kind::kString, kMaxNameLen},
    {"token", Kind::kToken, kMaxTokenLen},
    {"key_authorization", Kind::kString, kMaxKeyAuthorizationLen},
};
constexpr Field kPrepareKeyResponseFields[] = {
    {"csr_der", Kind::kBytes, kMaxCsrDerB64Len},
    {"public_key_der", Kind::kBytes, kMaxPublicKeyDerB64Len},
};
constexpr Field kCommitRequestFields[] = {
    {"name", Kind::kString, kMaxNameLen},
    {"cert_pem", Kind::kString, kMaxPemLen},
    {"chain_pem", Kind::kString, kMaxPemLen},
    {"fullchain_pem", Kind::kString, kMaxPemLen},
    {"key_source", Kind::kString, 16},
};
constexpr size_t kMaxPendingOrderLen = 16 * 1024;
constexpr size_t kMaxUnixTime = 253402300799;  // 9999-12-31T23:59:59Z.
constexpr Field kSavePendingOrderFields[] = {
    {"order", Kind::kString, kMaxPendingOrderLen},
};
constexpr Field kIssueResultFields[] = {
    {"version", Kind::kUint, INT_MAX},
    {"subject", Kind::kString, kMaxTextLen},
    {"issuer", Kind::kString, kMaxTextLen},
    {"names", Kind::kStringArray, kMaxNameLen, kMaxNames},
    {"serial", Kind::kString, 128},
    {"not_before", Kind::kUint, kMaxUnixTime},
    {"not_after", Kind::kUint, kMaxUnixTime},
};
// failed_authz is a space-separated list (possibly empty, which a
// kStringArray cannot be); the parent checks each name.
constexpr Field kOrderReportFields[] = {
    {"new_order", Kind::kBool, 0},
    {"failed_authz", Kind::kString, kMaxNames * (kMaxNameLen + 1)},
};
constexpr Field kRenewalInfoFields[] = {
    {"supported", Kind::kBool, 0},
    {"start", Kind::kUint, kMaxUnixTime},
    {"end", Kind::kUint, kMaxUnixTime},
    {"retry_after", Kind::kUint, 366 * 86400},
    {"explanation", Kind::kString, kMaxUrlLen},
};
constexpr Field kAccountResultFields[] = {
    {"outcome", Kind::kString, 16},
    {"url", Kind::kString, kMaxUrlLen},
    {"status", Kind::kString, 16},
    {"contact", Kind::kStringList, kMaxContactLen, kMaxContacts},
};
constexpr Field kAccountCommitRequestFields[] = {
    {"save_info", Kind::kBool, 0},
    {"url", Kind::kString, kMaxUrlLen},
    {"status", Kind::kString, 16},
    {"contact", Kind::kStringList, kMaxContactLen, kMaxContacts},
};
constexpr Field kAccountCommitResponseFields[] = {
    {"key_type", Kind::kString, 16},
    {"thumbprint", Kind::kToken, kMaxTokenLen},
    {"warning", Kind::kString, kMaxTextLen},
};
constexpr Field kErrorFields[] = {
    {"message", Kind::kString, kMaxTextLen},
    {"code", Kind::kString, 16},
};

Status CheckString(const json& v, size_t max_len) {
  if (!v.is_string()) {
    return Err("is {}, expected a string", v.type_name());
  }
  size_t len = v.get_ref<const std::string&>().size();
  if (len > max_len) {
    return Err("{} bytes exceeds the cap of {}", len, max_len);
  }
  return OkStatus();
}

Status CheckField(const json& v, const Field& f) {
  switch (f.kind) {
    case Kind::kString:
      return CheckString(v, f.max_len);
    case Kind::kToken:
    case Kind::kBytes: {
      BH_TRY(CheckString(v, f.max_len));
      const auto& s = v.get_ref<const std::string&>();
      if (!IsBase64UrlToken(s)) {
        return Err("is not a non-empty base64url string");
      }
      if (f.kind == Kind::kBytes && !Base64UrlDecode(s).ok()) {
        return Err("has an impossible base64url length");
      }
      return OkStatus();
    }
    case Kind::kBool:
      if (!v.is_boolean()) {
        return Err("is {}, expected a boolean", v.type_name());
      }
      return OkStatus();
    case Kind::kUint:
      if (!v.is_number_unsigned()) {
        return Err("is {}, expected a non-negative integer", v.type_name());
      }
      if (v.get<uint64_t>() > f.max_len) {
        return Err("exceeds the maximum of {}", f.max_len);
      }
      return OkStatus();
    case Kind::kStringArray:
    case Kind::kStringList: {
      if (!v.is_array()) {
        return Err("is {}, expected an array of strings", v.type_name());
      }
      if ((f.kind == Kind::kStringArray && v.empty()) || v.size() > f.max_items) {
        return Err("has {} entries, expected 1 to {}", v.size(), f.max_items);
      }
      for (size_t i = 0; i < v.size(); ++i) {
        Status s = CheckString(v[i], f.max_len);
        if (!s.ok()) {
          return s.error().Wrap(fmt::format("entry {}", i));
        }
        if (v[i].get_ref<const std::string&>().empty()) {
          return Err("entry {} is empty", i);
        }
      }
      return OkStatus();
    }
    case Kind::kStringMap: {
      if (!v.is_object()) {
        return Err("is {}, expected an object", v.type_name());
      }
      if (v.size() > f.max_items) {
        return Err("has {} members, more than {}", v.size(), f.max_items);
      }
      for (const auto& [key, member] : v.items()) {
        if (key.empty() || key.size() > kMaxMapKeyLen) {
          return Err("has a member name of {} bytes", key.size());
        }
        Status s = CheckString(member, f.max_len);
        if (!s.ok()) {
          return s.error().Wrap(fmt::format("member \"{}\"", PrintableExcerpt(key, 32)));
        }
      }
      return OkStatus();
    }
  }
  return Err("unhandled field kind");
}

// ParseObject parses `payload` as one JSON object. Duplicate keys are an
// error at any depth: parsers disagree on which copy wins, which is exactly
// the ambiguity a hostile peer would use.
Result<json> ParseObject(std::string_view payload) {
  try {
    std::vector<std::set<std::string>> open_objects;
    bool duplicate = false;
    json::parser_callback_t track = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
      if (event == json::parse_event_t::object_start) {
        open_objects.emplace_back();
      } else if (event == json::parse_event_t::object_end && !open_objects.empty()) {
        open_objects.pop_back();
      } else if (event == json::parse_event_t::key && !open_objects.empty() && parsed.is_string()) {
        if (!open_objects.back().insert(parsed.get_ref<const std::string&>()).second) {
          duplicate = true;
        }
      }
      return true;
    };
    if (!JsonDepthWithin(payload)) {
      return Err("payload nests deeper than {} levels", kMaxJsonDepth);
    }
    json j = json::parse(payload.begin(), payload.end(), track, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return Err("payload is not valid JSON");
    }
    if (duplicate) {
      return Err("payload has a duplicate key");
    }
    if (!j.is_object()) {
      return Err("payload is {}, expected a JSON object", j.type_name());
    }
    return j;
  } catch (const std::exception& e) {
    return Err("payload could not be parsed: {}", e.what());
  }
}

// CheckFields accepts `j` only if its keys are exactly those of `fields`
// and each value has its field's shape.
Status CheckFields(const json& j, std::span<const Field> fields) {
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (const Field& f : fields) {
      known = known || f.name == key;
    }
    if (!known) {
      return Err("unknown key \"{}\"", PrintableExcerpt(key, 32));
    }
  }
  for (const Field& f : fields) {
    auto it = j.find(f.name);
    if (it == j.end()) {
      return Err("missing key \"{}\"", f.name);
    }
    Status s = CheckField(*it, f);
    if (!s.ok()) {
      return s.error().Wrap(fmt::format("key \"{}\"", f.name));
    }
  }
  return OkStatus();
}

// ParseChecked is the common front of every decoder: right frame type,
// JSON object, schema. Errors are prefixed with the message name.
Result<json> ParseChecked(const DecodedFrame& frame, MessageType want,
                          std::span<const Field> fields) {
  std::string context = fmt::format("{} message", MessageTypeName(want));
  if (frame.type != want) {
    return Err("{}: frame has type {}", context, MessageTypeName(frame.type));
  }
  auto j = ParseObject(frame.payload);
  if (!j.ok()) {
    return j.error().Wrap(context);
  }
  Status s = CheckFields(*j, fields);
  if (!s.ok()) {
    return s.error().Wrap(context);
  }
  return j;
}

const std::string& Str(const json& j, std::string_view key) {
  return j.find(key)->get_ref<const std::string&>();
}

std::string Dump(const json& j) {
  return j.dump(/*indent=*/-1, /*indent_char=*/' ', /*ensure_ascii=*/false,
                json::error_handler_t::replace);
}

std::string_view KeySourceName(KeySource s) {
  switch (s) {
    case KeySource::kPending:
      return "pending";
    case KeySource::kLive:
      return "live";
    case KeySource::kNone:
      return "none";
  }
  return "none";
}

std::string_view ErrorCodeName(ErrorCode c) {
  switch (c) {
    case ErrorCode::kFailure:
      return "failure";
    case ErrorCode::kUsage:
      return "usage";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kTransient:
      return "transient";
  }
  return "failure";
}

// IsKeyAuthorization enforces RFC 8555 section 8.1's shape,
// "<token>.<thumbprint>", so the publisher serves nothing else.
bool IsKeyAuthorization(std::string_view token, std::string_view key_authorization) {
  size_t dot = key_authorization.find('.');
  return dot != std::string_view::npos && key_authorization.substr(0, dot) == token &&
         IsBase64UrlToken(key_authorization.substr(dot + 1));
}

// IsVisibleAscii reports whether `s` is non-empty printable ASCII without
// spaces: URLs and contacts from the CA are printed by the parent, so no
// control character (terminal escape) may pass.
bool IsVisibleAscii(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) {
      return false;
    }
  }
  return true;
}

// CheckHttpsUrl accepts a printable https URL, naming `key` otherwise.
Status CheckHttpsUrl(std::string_view message, std::string_view key, std::string_view url) {
  if (!IsVisibleAscii(url) || url.rfind("https://", 0) != 0 || url.size() <= 8) {
    return Err("{} message: key \"{}\" is not a printable https URL", message, key);
  }
  return OkStatus();
}

constexpr std::pair<AccountOutcome, std::string_view> kOutcomeNames[] = {
    {AccountOutcome::kCreated, "created"},         {AccountOutcome::kFound, "found"},
    {AccountOutcome::kExists, "exists"},           {AccountOutcome::kFetched, "fetched"},
    {AccountOutcome::kDeactivated, "deactivated"}, {AccountOutcome::kKeyChanged, "key_changed"},
};

std::string_view OutcomeName(AccountOutcome o) {
  for (const auto& [value, name] : kOutcomeNames) {
    if (value == o) {
      return name;
    }
  }
  return "fetched";
}

// AccountFields holds the url/status/contact triple both account messages
// carry, checked the same way.
struct AccountFields {
  std::string url;
  std::string status;
  std::vector<std::string> contact;
};

Result<AccountFields> CheckAccountFields(std::string_view message, const json& j,
                                         bool status_may_be_empty) {
  AccountFields f{Str(j, "url"), Str(j, "status"), {}};
  BH_TRY(CheckHttpsUrl(message, "url", f.url));
  bool known = f.status == "valid" || f.status == "deactivated" || f.status == "revoked" ||
               (status_may_be_empty && f.status.empty());
  if (!known) {
    return Err("{} message: key \"status\" is not valid, deactivated or revoked", message);
  }
  for (const auto& c : j["contact"]) {
    const std::string& text = c.get_ref<const std::string&>();
    if (!IsVisibleAscii(text)) {
      return Err("{} message: key \"contact\" holds a non-printable entry", message);
    }
    f.contact.push_back(text);
  }
  return f;
}

json ContactJson(const std::vector<std::string>& contact) {
  json a = json::array();
  for (const std::string& c : contact) {
    a.push_back(c);
  }
  return a;
}

// Row binds one field of message M: its schema row (wire name, kind, cap)
// and the member it travels in. For the messages whose fields need no
// conversion, one table of rows is the whole description: it drives both
// the encoder and the decoder (EncodeRows, DecodeRows).
template <class M>
struct Row {
  Field field;
  std::variant<std::string M::*, bool M::*, uint32_t M::*, int M::*> member;
};

// EncodeRows writes every row's member under its name.
template <class M, size_t N>
std::string EncodeRows(const M& msg, const Row<M> (&rows)[N]) {
  json j = json::object();
  for (const Row<M>& r : rows) {
    std::visit([&](auto member) { j[std::string(r.field.name)] = msg.*member; }, r.member);
  }
  return Dump(j);
}

// DecodeRows checks the frame against the rows' schema (ParseChecked, so
// the errors are those of a Field table) and fills each member. Integer
// members are bounded by their row's cap, so the casts cannot wrap.
template <class M, size_t N>
Result<M> DecodeRows(const DecodedFrame& frame, const Row<M> (&rows)[N]) {
  std::array<Field, N> fields{};
  for (size_t i = 0; i < N; ++i) {
    fields[i] = rows[i].field;
  }
  BH_ASSIGN(json j, ParseChecked(frame, M::kType, fields));
  M msg;
  for (const Row<M>& r : rows) {
    const json& v = *j.find(r.field.name);
    std::visit(
        [&](auto member) {
          using T = std::remove_reference_t<decltype(msg.*member)>;
          if constexpr (std::is_same_v<T, std::string>) {
            msg.*member = v.get_ref<const std::string&>();
          } else if constexpr (std::is_same_v<T, bool>) {
            msg.*member = v.get<bool>();
          } else {
            msg.*member = static_cast<T>(v.get<uint64_t>());
          }
        },
        r.member);
  }
  return msg;
}

const Row<SignRequestMsg> kSignRequestRows[] = {
    {{"url", Kind::kString, kMaxUrlLen}, &SignRequestMsg::url},
    {{"nonce", Kind::kString, kMaxNonceLen}, &SignRequestMsg::nonce},
    {{"kid", Kind::kString, kMaxUrlLen}, &SignRequestMsg::kid},
    {{"payload", Kind::kString, kMaxSignPayloadLen}, &SignRequestMsg::payload},
};
const Row<RemoveRequestMsg> kRemoveRequestRows[] = {
    {{"token", Kind::kToken, kMaxTokenLen}, &RemoveRequestMsg::token},
};
const Row<DescribeResponseMsg> kDescribeResponseRows[] = {
    {{"text", Kind::kString, kMaxTextLen}, &DescribeResponseMsg::text},
};
const Row<CommitResponseMsg> kCommitResponseRows[] = {
    {{"version", Kind::kUint, INT_MAX}, &CommitResponseMsg::version},
};
// A TTL above 2^31-1 is treated as 0 by resolvers (RFC 2181 section 8).
const Row<TlsaObservationMsg> kTlsaObservationRows[] = {
    {{"published", Kind::kBool, 0}, &TlsaObservationMsg::published},
    {{"ttl", Kind::kUint, 2147483647}, &TlsaObservationMsg::ttl},
    {{"detail", Kind::kString, kMaxTextLen}, &TlsaObservationMsg::detail},
};
const Row<KeyChangeRequestMsg> kKeyChangeRequestRows[] = {
    {{"url", Kind::kString, kMaxUrlLen}, &KeyChangeRequestMsg::url},
    {{"account", Kind::kString, kMaxUrlLen}, &KeyChangeRequestMsg::account},
};
const Row<EabRequestMsg> kEabRequestRows[] = {
    {{"url", Kind::kString, kMaxUrlLen}, &EabRequestMsg::url},
};

}  // namespace

bool IsKnownMessageType(uint16_t value) {
  return MessageTypeName(static_cast<MessageType>(value)) != "unknown";
}

std::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kOk:
      return "Ok";
    case MessageType::kError:
      return "Error";
    case MessageType::kShutdown:
      return "Shutdown";
    case MessageType::kSignerHello:
      return "SignerHello";
    case MessageType::kSignRequest:
      return "SignRequest";
    case MessageType::kSignResponse:
      return "SignResponse";
    case MessageType::kRemoveRequest:
      return "RemoveRequest";
    case MessageType::kDescribeRequest:
      return "DescribeRequest";
    case MessageType::kDescribeResponse:
      return "DescribeResponse";
    case MessageType::kPublishForRequest:
      return "PublishForRequest";
    case MessageType::kWaitReadyRequest:
      return "WaitReadyRequest";
    case MessageType::kPrepareKeyResponse:
      return "PrepareKeyResponse";
    case MessageType::kCommitRequest:
      return "CommitRequest";
    case MessageType::kCommitResponse:
      return "CommitResponse";
    case MessageType::kSavePendingOrder:
      return "SavePendingOrder";
    case MessageType::kIssueResult:
      return "IssueResult";
    case MessageType::kOrderReport:
      return "OrderReport";
    case MessageType::kRenewalInfo:
      return "RenewalInfo";
    case MessageType::kTlsaObservation:
      return "TlsaObservation";
    case MessageType::kKeyChangeRequest:
      return "KeyChangeRequest";
    case MessageType::kEabRequest:
      return "EabRequest";
    case MessageType::kAccountResult:
      return "AccountResult";
    case MessageType::kAccountCommitRequest:
      return "AccountCommitRequest";
    case MessageType::kAccountCommitResponse:
      return "AccountCommitResponse";
    case MessageType::kProbeRun:
      return "ProbeRun";
    case MessageType::kProbeCert:
      return "ProbeCert";
    case MessageType::kProbeOutcome:
      return "ProbeOutcome";
  }
  return "unknown";
}

std::string Encode(const SignerHelloMsg& msg) {
  json j = json::object();
  j["jwk"] = msg.jwk;
  j["thumbprint"] = msg.thumbprint;
  return Dump(j);
}

std::string Encode(const SignRequestMsg& msg) { return EncodeRows(msg, kSignRequestRows); }

std::string Encode(const SignResponseMsg& msg) {
  json j = json::object();
  j["jws"] = msg.jws;
  return Dump(j);
}

std::string Encode(const RemoveRequestMsg& msg) { return EncodeRows(msg, kRemoveRequestRows); }

std::string Encode(const PublishForRequestMsg& msg) {
  json j = json::object();
  j["identifier"] = msg.identifier;
  j["token"] = msg.token;
  j["key_authorization"] = msg.key_authorization;
  return Dump(j);
}

std::string Encode(const DescribeResponseMsg& msg) { return EncodeRows(msg, kDescribeResponseRows); }

std::string Encode(const PrepareKeyResponseMsg& msg) {
  json j = json::object();
  j["csr_der"] = Base64UrlEncode(msg.csr_der);
  j["public_key_der"] = Base64UrlEncode(msg.public_key_der);
  return Dump(j);
}

std::string Encode(const CommitRequestMsg& msg) {
  json j = json::object();
  j["name"] = msg.name;
  j["cert_pem"] = msg.cert_pem;
  j["chain_pem"] = msg.chain_pem;
  j["fullchain_pem"] = msg.fullchain_pem;
  j["key_source"] = KeySourceName(msg.key_source);
  return Dump(j);
}

std::string Encode(const CommitResponseMsg& msg) { return EncodeRows(msg, kCommitResponseRows); }

std::string Encode(const SavePendingOrderMsg& msg) {
  json j = json::object();
  j["order"] = Dump(msg.order);
  return Dump(j);
}

std::string Encode(const IssueResultMsg& msg) {
  json j = json::object();
  j["version"] = msg.version;
  j["subject"] = msg.subject;
  j["issuer"] = msg.issuer;
  j["names"] = msg.names;
  j["serial"] = msg.serial;
  j["not_before"] = msg.not_before < 0 ? 0 : msg.not_before;
  j["not_after"] = msg.not_after < 0 ? 0 : msg.not_after;
  return Dump(j);
}

std::string Encode(const OrderReportMsg& msg) {
  json j = json::object();
  j["new_order"] = msg.new_order;
  std::string failed;
  for (const std::string& n : msg.failed_authz) {
    failed += (failed.empty() ? "" : " ") + n;
  }
  j["failed_authz"] = failed;
  return Dump(j);
}

std::string Encode(const RenewalInfoMsg& msg) {
  json j = json::object();
  j["supported"] = msg.supported;
  j["start"] = msg.start < 0 ? 0 : msg.start;
  j["end"] = msg.end < 0 ? 0 : msg.end;
  j["retry_after"] = msg.retry_after < 0 ? 0 : msg.retry_after;
  j["explanation"] = msg.explanation;
  return Dump(j);
}

std::string Encode(const TlsaObservationMsg& msg) { return EncodeRows(msg, kTlsaObservationRows); }

std::string Encode(const ErrorMsg& msg) {
  json j = json::object();
  // Cut here, where the decoder's cap is known: a long CA problem (up to
  // 100 subproblems) must reach the user as its first lines, not as a
  // schema error about its length.
  j["message"] = TruncateUtf8(msg.message, kMaxTextLen);
  j["code"] = ErrorCodeName(msg.code);
  return Dump(j);
}

std::string Encode(const KeyChangeRequestMsg& msg) { return EncodeRows(msg, kKeyChangeRequestRows); }

std::string Encode(const EabRequestMsg& msg) { return EncodeRows(msg, kEabRequestRows); }

std::string Encode(const AccountResultMsg& msg) {
  json j = json::object();
  j["outcome"] = OutcomeName(msg.outcome);
  j["url"] = msg.url;
  j["status"] = msg.status;
  j["contact"] = ContactJson(msg.contact);
  return Dump(j);
}

std::string Encode(const AccountCommitRequestMsg& msg) {
  json j = json::object();
  j["save_info"] = msg.save_info;
  j["url"] = msg.url;
  j["status"] = msg.status;
  j["contact"] = ContactJson(msg.contact);
  return Dump(j);
}

std::string Encode(const AccountCommitResponseMsg& msg) {
  json j = json::object();
  j["key_type"] = crypto::KeyTypeName(msg.key_type);
  j["thumbprint"] = msg.thumbprint;
  j["warning"] = msg.warning;
  return Dump(j);
}

std::string EncodeEmpty() { return "{}"; }

Result<SignerHelloMsg> DecodeSignerHello(const DecodedFrame& frame) {
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kSignerHello, kSignerHelloFields));
  return SignerHelloMsg{j["jwk"], Str(j, "thumbprint")};
}

Result<SignRequestMsg> DecodeSignRequest(const DecodedFrame& frame) {
  return DecodeRows(frame, kSignRequestRows);
}

Result<SignResponseMsg> DecodeSignResponse(const DecodedFrame& frame) {
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kSignResponse, kSignResponseFields));
  for (std::string_view member : {"protected", "payload", "signature"}) {
    if (!j["jws"].contains(member)) {
      return Err("SignResponse message: key \"jws\": missing member \"{}\"", member);
    }
  }
  return SignResponseMsg{j["jws"]};
}

Result<RemoveRequestMsg> DecodeRemoveRequest(const DecodedFrame& frame) {
  return DecodeRows(frame, kRemoveRequestRows);
}

Result<PublishForRequestMsg> DecodePublishForRequest(const DecodedFrame& frame) {
  BH_ASSIGN(json j,
            ParseChecked(frame, MessageType::kPublishForRequest, kPublishForRequestFields));
  PublishForRequestMsg msg{Str(j, "identifier"), Str(j, "token"), Str(j, "key_authorization")};
  // The identifier becomes part of a DNS name, a file name or a program
  // argument in the challenge role.
  if (!acme::ValidateName(msg.identifier).ok()) {
    return Err("PublishForRequest message: key \"identifier\" is not a DNS name or IP address");
  }
  if (!IsKeyAuthorization(msg.token, msg.key_authorization)) {
    return Err("PublishForRequest message: key \"key_authorization\" is not \"<token>.<thumbprint>\"");
  }
  return msg;
}

Result<DescribeResponseMsg> DecodeDescribeResponse(const DecodedFrame& frame) {
  return DecodeRows(frame, kDescribeResponseRows);
}

Result<PrepareKeyResponseMsg> DecodePrepareKeyResponse(const DecodedFrame& frame) {
  BH_ASSIGN(json j,
            ParseChecked(frame, MessageType::kPrepareKeyResponse, kPrepareKeyResponseFields));
  // CheckFields has already proven both decode.
  BH_ASSIGN(std::string csr_der, Base64UrlDecode(Str(j, "csr_der")));
  BH_ASSIGN(std::string public_key_der, Base64UrlDecode(Str(j, "public_key_der")));
  return PrepareKeyResponseMsg{std::move(csr_der), std::move(public_key_der)};
}

Result<CommitRequestMsg> DecodeCommitRequest(const DecodedFrame& frame) {
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kCommitRequest, kCommitRequestFields));
  CommitRequestMsg msg{Str(j, "name"), Str(j, "cert_pem"), Str(j, "chain_pem"),
                       Str(j, "fullchain_pem")};
  // The name becomes a directory name in the store.
  if (!store::IsValidCertName(msg.name)) {
    return Err("CommitRequest message: key \"name\" is not a valid certificate name");
  }
  const std::string& source = Str(j, "key_source");
  if (source == "pending") {
    msg.key_source = KeySource::kPending;
  } else if (source == "live") {
    msg.key_source = KeySource::kLive;
  } else if (source == "none") {
    msg.key_source = KeySource::kNone;
  } else {
    return Err("CommitRequest message: key \"key_source\" is not pending, live or none");
  }
  return msg;
}

Result<CommitResponseMsg> DecodeCommitResponse(const DecodedFrame& frame) {
  return DecodeRows(frame, kCommitResponseRows);
}

Result<SavePendingOrderMsg> DecodeSavePendingOrder(const DecodedFrame& frame) {
  BH_ASSIGN(json j,
            ParseChecked(frame, MessageType::kSavePendingOrder, kSavePendingOrderFields));
  json order = ParseUntrustedJson(Str(j, "order"));
  if (order.is_discarded() || !order.is_object()) {
    return Err("SavePendingOrder message: key \"order\" is not a JSON object");
  }
  return SavePendingOrderMsg{std::move(order)};
}

Result<IssueResultMsg> DecodeIssueResult(const DecodedFrame& frame) {
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kIssueResult, kIssueResultFields));
  IssueResultMsg msg;
  msg.version = static_cast<int>(j["version"].get<uint64_t>());
  msg.subject = Str(j, "subject");
  msg.issuer = Str(j, "issuer");
  msg.names = j["names"].get<std::vector<std::string>>();
  msg.serial = Str(j, "serial");
  msg.not_before = static_cast<int64_t>(j["not_before"].get<uint64_t>());
  msg.not_after = static_cast<int64_t>(j["not_after"].get<uint64_t>());
  return msg;
}

Result<OrderReportMsg> DecodeOrderReport(const DecodedFrame& frame) {
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kOrderReport, kOrderReportFields));
  OrderReportMsg msg;
  msg.new_order = j["new_order"].get<bool>();
  std::string failed = Str(j, "failed_authz");
  size_t pos = 0;
  while (pos < failed.size()) {
    size_t sp = failed.find(' ', pos);
    std::string name = failed.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
    if (name.empty() || name.size() > kMaxNameLen || msg.failed_authz.size() >= kMaxNames ||
        !acme::ValidateName(name).ok()) {
      return Err("OrderReport: \"failed_authz\" holds a malformed identifier");
    }
    msg.failed_authz.push_back(std::move(name));
    pos = sp == std::string::npos ? failed.size() : sp + 1;
  }
  return msg;
}

Result<RenewalInfoMsg> DecodeRenewalInfo(const DecodedFrame& frame) {
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kRenewalInfo, kRenewalInfoFields));
  RenewalInfoMsg msg;
  msg.supported = j["supported"].get<bool>();
  msg.start = static_cast<int64_t>(j["start"].get<uint64_t>());
  msg.end = static_cast<int64_t>(j["end"].get<uint64_t>());
  msg.retry_after = static_cast<int64_t>(j["retry_after"].get<uint64_t>());
  msg.explanation = Str(j, "explanation");
  if (msg.supported && msg.end <= msg.start) {
    return Err("RenewalInfo: \"end\" is not after \"start\"");
  }
  return msg;
}

Result<TlsaObservationMsg> DecodeTlsaObservation(const DecodedFrame& frame) {
  return DecodeRows(frame, kTlsaObservationRows);
}

Result<ErrorMsg> DecodeError(const DecodedFrame& frame) {
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kError, kErrorFields));
  ErrorMsg msg{Str(j, "message")};
  const std::string& code = Str(j, "code");
  if (code == "failure") {
    msg.code = ErrorCode::kFailure;
  } else if (code == "usage") {
    msg.code = ErrorCode::kUsage;
  } else if (code == "not_found") {
    msg.code = ErrorCode::kNotFound;
  } else if (code == "transient") {
    msg.code = ErrorCode::kTransient;
  } else {
    return Err("Error message: key \"code\" is not failure, usage, not_found or transient");
  }
  return msg;
}

Result<KeyChangeRequestMsg> DecodeKeyChangeRequest(const DecodedFrame& frame) {
  BH_ASSIGN(KeyChangeRequestMsg msg, DecodeRows(frame, kKeyChangeRequestRows));
  BH_TRY(CheckHttpsUrl("KeyChangeRequest", "url", msg.url));
  BH_TRY(CheckHttpsUrl("KeyChangeRequest", "account", msg.account));
  return msg;
}

Result<EabRequestMsg> DecodeEabRequest(const DecodedFrame& frame) {
  BH_ASSIGN(EabRequestMsg msg, DecodeRows(frame, kEabRequestRows));
  BH_TRY(CheckHttpsUrl("EabRequest", "url", msg.url));
  return msg;
}

Result<AccountResultMsg> DecodeAccountResult(const DecodedFrame& frame) {
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kAccountResult, kAccountResultFields));
  AccountResultMsg msg;
  const std::string& outcome = Str(j, "outcome");
  bool known = false;
  for (const auto& [value, name] : kOutcomeNames) {
    if (name == outcome) {
      msg.outcome = value;
      known = true;
    }
  }
  if (!known) {
    return Err("AccountResult message: key \"outcome\" is not a known outcome");
  }
  BH_ASSIGN(AccountFields f,
            CheckAccountFields("AccountResult", j,
                               /*status_may_be_empty=*/msg.outcome == AccountOutcome::kKeyChanged));
  msg.url = std::move(f.url);
  msg.status = std::move(f.status);
  msg.contact = std::move(f.contact);
  return msg;
}

Result<AccountCommitRequestMsg> DecodeAccountCommitRequest(const DecodedFrame& frame) {
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kAccountCommitRequest,
                                 kAccountCommitRequestFields));
  AccountCommitRequestMsg msg;
  msg.save_info = j["save_info"].get<bool>();
  BH_ASSIGN(AccountFields f, CheckAccountFields("AccountCommitRequest", j,
                                                /*status_may_be_empty=*/!msg.save_info));
  msg.url = std::move(f.url);
  msg.status = std::move(f.status);
  msg.contact = std::move(f.contact);
  return msg;
}

Result<AccountCommitResponseMsg> DecodeAccountCommitResponse(const DecodedFrame& frame) {
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kAccountCommitResponse,
                                 kAccountCommitResponseFields));
  auto type = crypto::ParseKeyType(Str(j, "key_type"));
  if (!type.ok()) {
    return Err("AccountCommitResponse message: key \"key_type\" is not a known key type");
  }
  return AccountCommitResponseMsg{*type, Str(j, "thumbprint"), Str(j, "warning")};
}

// The probe role's messages. Everything it sends was made from what a
// remote server chose, so the decoders check shape and content (hex serial,
// IP literal, known header names, no control characters) before anything
// reaches the parent's reports.
namespace {

constexpr Field kProbeCertFields[] = {
    {"chain", Kind::kUint, kMaxProbeChains - 1},
    {"depth", Kind::kUint, kMaxProbeChainLength - 1},
    {"last", Kind::kBool, 0},
    {"subject", Kind::kString, kMaxTextLen},
    {"subject_cn", Kind::kString, kMaxTextLen},
    {"issuer", Kind::kString, kMaxTextLen},
    {"names", Kind::kStringList, kMaxNameLen, kMaxProbeNames},
    {"serial_hex", Kind::kString, 128},
    {"serial_der", Kind::kString, 128},
    {"public_key_der", Kind::kBytes, kMaxPublicKeyDerB64Len},
    {"der", Kind::kBytes, (kMaxProbeCertDer + 2) / 3 * 4},
    {"not_before", Kind::kUint, kMaxUnixTime},
    {"not_after", Kind::kUint, kMaxUnixTime},
    {"issued_by_next", Kind::kBool, 0},
    {"self_signed", Kind::kBool, 0},
};
constexpr Field kProbeOutcomeFields[] = {
    {"index", Kind::kUint, kMaxProbeRequests - 1},
    {"error", Kind::kString, kMaxTextLen},
    {"code", Kind::kString, 16},
    {"chain", Kind::kUint, kMaxProbeChains - 1},
    {"address", Kind::kString, 64},
    {"tls_version", Kind::kString, 32},
    {"cipher", Kind::kString, 128},
    {"key_type", Kind::kString, 32},
    {"key_bits", Kind::kUint, 1 << 20},
    {"curve", Kind::kString, 64},
    {"signature_algorithm", Kind::kString, 128},
    {"chain_valid", Kind::kBool, 0},
    {"chain_error", Kind::kString, kMaxTextLen},
    {"hostname_match", Kind::kBool, 0},
    {"http_status", Kind::kUint, 999},
    {"http_headers", Kind::kStringMap, kMaxProbeHeaderLen, 3},
    {"http_error", Kind::kString, kMaxTextLen},
    {"elapsed_us", Kind::kUint, uint64_t{1} << 40},
};
constexpr std::string_view kProbeHeaderNames[] = {"strict-transport-security",
                                                  "content-security-policy", "referrer-policy"};

// CleanText makes peer-chosen text fit a field: control characters and
// bytes that are not UTF-8 become '?', and the text is cut at `cap` bytes
// on a character boundary.
std::string CleanText(std::string_view s, size_t cap) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    }
    if (!valid) {
      len = 1;
    }
    if (out.size() + (valid ? len : 1) > cap) {
      break;
    }
    if (!valid || c < 0x20 || c == 0x7f) {
      out.push_back('?');
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

// CheckClean rejects text with control characters (the JSON parser has
// already rejected invalid UTF-8).
Status CheckClean(std::string_view message, std::string_view key, std::string_view text) {
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      return Err("{} message: key \"{}\" holds a control character", message, key);
    }
  }
  return OkStatus();
}

int64_t ClampTime(int64_t t) {
  return std::clamp<int64_t>(t, 0, static_cast<int64_t>(kMaxUnixTime));
}

// DecodeOptionalBytes decodes base64url that may be empty.
Result<std::string> DecodeOptionalBytes(std::string_view message, std::string_view key,
                                        const std::string& text) {
  if (text.empty()) {
    return std::string();
  }
  auto raw = IsBase64UrlToken(text) ? Base64UrlDecode(text) : Result<std::string>(Err("bad"));
  if (!raw.ok()) {
    return Err("{} message: key \"{}\" is not base64url", message, key);
  }
  return std::move(raw).value();
}

}  // namespace

std::string Encode(const ProbeCertMsg& msg) {
  json j = json::object();
  j["chain"] = msg.chain;
  j["depth"] = msg.depth;
  j["last"] = msg.last;
  j["subject"] = CleanText(msg.subject, kMaxTextLen);
  j["subject_cn"] = CleanText(msg.subject_cn, kMaxTextLen);
  j["issuer"] = CleanText(msg.issuer, kMaxTextLen);
  json names = json::array();
  for (const std::string& n : msg.names) {
    if (names.size() < kMaxProbeNames && !n.empty() && n.size() <= kMaxNameLen) {
      names.push_back(CleanText(n, kMaxNameLen));
    }
  }
  j["names"] = std::move(names);
  j["serial_hex"] = msg.serial_hex.size() <= 128 ? msg.serial_hex : std::string();
  // 96 bytes are 128 base64url characters, the decoder's cap.
  j["serial_der"] = msg.serial_der.size() <= 96 ? Base64UrlEncode(msg.serial_der) : std::string();
  j["public_key_der"] = Base64UrlEncode(msg.public_key_der);
  j["der"] = Base64UrlEncode(msg.der);
  j["not_before"] = ClampTime(msg.not_before);
  j["not_after"] = ClampTime(msg.not_after);
  j["issued_by_next"] = msg.issued_by_next;
  j["self_signed"] = msg.self_signed;
  return Dump(j);
}

std::string Encode(const ProbeOutcomeMsg& msg) {
  json j = json::object();
  j["index"] = msg.index;
  j["error"] = CleanText(msg.error, kMaxTextLen);
  j["code"] = ErrorCodeName(msg.code);
  j["chain"] = msg.chain;
  j["address"] = CleanText(msg.address, 64);
  j["tls_version"] = CleanText(msg.tls_version, 32);
  j["cipher"] = CleanText(msg.cipher, 128);
  j["key_type"] = CleanText(msg.key_type, 32);
  j["key_bits"] = std::min<uint32_t>(msg.key_bits, 1 << 20);
  j["curve"] = CleanText(msg.curve, 64);
  j["signature_algorithm"] = CleanText(msg.signature_algorithm, 128);
  j["chain_valid"] = msg.chain_valid;
  j["chain_error"] = CleanText(msg.chain_error, kMaxTextLen);
  j["hostname_match"] = msg.hostname_match;
  j["http_status"] = msg.http_status <= 999 ? msg.http_status : 0;
  json headers = json::object();
  for (const auto& [name, value] : msg.http_headers) {
    if (std::find(std::begin(kProbeHeaderNames), std::end(kProbeHeaderNames), name) !=
        std::end(kProbeHeaderNames)) {
      headers[name] = CleanText(value, kMaxProbeHeaderLen);
    }
  }
  j["http_headers"] = std::move(headers);
  j["http_error"] = CleanText(msg.http_error, kMaxTextLen);
  j["elapsed_us"] = std::min<uint64_t>(msg.elapsed_us, uint64_t{1} << 40);
  return Dump(j);
}

Result<ProbeCertMsg> DecodeProbeCert(const DecodedFrame& frame) {
  constexpr std::string_view kName = "ProbeCert";
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kProbeCert, kProbeCertFields));
  ProbeCertMsg msg;
  msg.chain = static_cast<uint32_t>(j["chain"].get<uint64_t>());
  msg.depth = static_cast<uint32_t>(j["depth"].get<uint64_t>());
  msg.last = j["last"].get<bool>();
  msg.subject = Str(j, "subject");
  msg.subject_cn = Str(j, "subject_cn");
  msg.issuer = Str(j, "issuer");
  for (std::string_view key : {"subject", "subject_cn", "issuer"}) {
    BH_TRY(CheckClean(kName, key, Str(j, key)));
  }
  for (const auto& n : j["names"]) {
    BH_TRY(CheckClean(kName, "names", n.get_ref<const std::string&>()));
    msg.names.push_back(n.get<std::string>());
  }
  msg.serial_hex = Str(j, "serial_hex");
  for (char c : msg.serial_hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Err("ProbeCert message: key \"serial_hex\" is not lower-case hex");
    }
  }
  BH_ASSIGN(msg.serial_der, DecodeOptionalBytes(kName, "serial_der", Str(j, "serial_der")));
  BH_ASSIGN(msg.public_key_der, Base64UrlDecode(Str(j, "public_key_der")));
  BH_ASSIGN(msg.der, Base64UrlDecode(Str(j, "der")));
  if (msg.der.size() > kMaxProbeCertDer) {
    return Err("ProbeCert message: key \"der\" exceeds {} bytes", kMaxProbeCertDer);
  }
  msg.not_before = static_cast<int64_t>(j["not_before"].get<uint64_t>());
  msg.not_after = static_cast<int64_t>(j["not_after"].get<uint64_t>());
  msg.issued_by_next = j["issued_by_next"].get<bool>();
  msg.self_signed = j["self_signed"].get<bool>();
  if (msg.last && msg.issued_by_next) {
    return Err("ProbeCert message: the last certificate of a chain has no next one");
  }
  return msg;
}

Result<ProbeOutcomeMsg> DecodeProbeOutcome(const DecodedFrame& frame) {
  constexpr std::string_view kName = "ProbeOutcome";
  BH_ASSIGN(json j, ParseChecked(frame, MessageType::kProbeOutcome, kProbeOutcomeFields));
  for (std::string_view key : {"error", "address", "tls_version", "cipher", "key_type", "curve",
                               "signature_algorithm", "chain_error", "http_error"}) {
    BH_TRY(CheckClean(kName, key, Str(j, key)));
  }
  ProbeOutcomeMsg msg;
  msg.index = static_cast<uint32_t>(j["index"].get<uint64_t>());
  msg.error = Str(j, "error");
  bool known_code = false;
  for (ErrorCode c : {ErrorCode::kFailure, ErrorCode::kUsage, ErrorCode::kNotFound,
                      ErrorCode::kTransient}) {
    if (Str(j, "code") == ErrorCodeName(c)) {
      msg.code = c;
      known_code = true;
    }
  }
  if (!known_code) {
    return Err("ProbeOutcome message: key \"code\" is not failure, usage, not_found or transient");
  }
  msg.chain = static_cast<uint32_t>(j["chain"].get<uint64_t>());
  msg.address = Str(j, "address");
  msg.tls_version = Str(j, "tls_version");
  msg.cipher = Str(j, "cipher");
  msg.key_type = Str(j, "key_type");
  msg.key_bits = static_cast<uint32_t>(j["key_bits"].get<uint64_t>());
  msg.curve = Str(j, "curve");
  msg.signature_algorithm = Str(j, "signature_algorithm");
  msg.chain_valid = j["chain_valid"].get<bool>();
  msg.chain_error = Str(j, "chain_error");
  msg.hostname_match = j["hostname_match"].get<bool>();
  msg.http_status = static_cast<uint32_t>(j["http_status"].get<uint64_t>());
  for (const auto& [name, value] : j["http_headers"].items()) {
    if (std::find(std::begin(kProbeHeaderNames), std::end(kProbeHeaderNames), name) ==
        std::end(kProbeHeaderNames)) {
      return Err("ProbeOutcome message: key \"http_headers\" holds an unexpected header");
    }
    BH_TRY(CheckClean(kName, "http_headers", value.get_ref<const std::string&>()));
    msg.http_headers.emplace_back(name, value.get<std::string>());
  }
  msg.http_error = Str(j, "http_error");
  msg.elapsed_us = j["elapsed_us"].get<uint64_t>();
  bool failed = !msg.error.empty();
  if (failed && (!msg.address.empty() || !msg.tls_version.empty() || msg.chain != 0)) {
    return Err("ProbeOutcome message: an error outcome carries a result");
  }
  if (!failed && msg.address.empty()) {
    return Err("ProbeOutcome message: key \"address\" is empty");
  }
  return msg;
}

Status DecodeEmpty(const DecodedFrame& frame, MessageType type) {
  if (type != MessageType::kOk && type != MessageType::kShutdown &&
      type != MessageType::kDescribeRequest && type != MessageType::kWaitReadyRequest &&
      type != MessageType::kProbeRun) {
    return Err("{} message: not a message without fields", MessageTypeName(type));
  }
  auto j = ParseChecked(frame, type, std::span<const Field>());
  if (!j.ok()) {
    return j.error();
  }
  return OkStatus();
}

template <>
Result<SignerHelloMsg> Decode<SignerHelloMsg>(const DecodedFrame& frame) {
  return DecodeSignerHello(frame);
}
template <>
Result<SignRequestMsg> Decode<SignRequestMsg>(const DecodedFrame& frame) {
  return DecodeSignRequest(frame);
}
template <>
Result<SignResponseMsg> Decode<SignResponseMsg>(const DecodedFrame& frame) {
  return DecodeSignResponse(frame);
}
template <>
Result<RemoveRequestMsg> Decode<RemoveRequestMsg>(const DecodedFrame& frame) {
  return DecodeRemoveRequest(frame);
}
template <>
Result<PublishForRequestMsg> Decode<PublishForRequestMsg>(const DecodedFrame& frame) {
  return DecodePublishForRequest(frame);
}
template <>
Result<DescribeResponseMsg> Decode<DescribeResponseMsg>(const DecodedFrame& frame) {
  return DecodeDescribeResponse(frame);
}
template <>
Result<PrepareKeyResponseMsg> Decode<PrepareKeyResponseMsg>(const DecodedFrame& frame) {
  return DecodePrepareKeyResponse(frame);
}
template <>
Result<CommitRequestMsg> Decode<CommitRequestMsg>(const DecodedFrame& frame) {
  return DecodeCommitRequest(frame);
}
template <>
Result<CommitResponseMsg> Decode<CommitResponseMsg>(const DecodedFrame& frame) {
  return DecodeCommitResponse(frame);
}
template <>
Result<SavePendingOrderMsg> Decode<SavePendingOrderMsg>(const DecodedFrame& frame) {
  return DecodeSavePendingOrder(frame);
}
template <>
Result<IssueResultMsg> Decode<IssueResultMsg>(const DecodedFrame& frame) {
  return DecodeIssueResult(frame);
}
template <>
Result<OrderReportMsg> Decode<OrderReportMsg>(const DecodedFrame& frame) {
  return DecodeOrderReport(frame);
}
template <>
Result<RenewalInfoMsg> Decode<RenewalInfoMsg>(const DecodedFrame& frame) {
  return DecodeRenewalInfo(frame);
}
template <>
Result<TlsaObservationMsg> Decode<TlsaObservationMsg>(const DecodedFrame& frame) {
  return DecodeTlsaObservation(frame);
}
template <>
Result<ErrorMsg> Decode<ErrorMsg>(const DecodedFrame& frame) {
  return DecodeError(frame);
}
template <>
Result<KeyChangeRequestMsg> Decode<KeyChangeRequestMsg>(const DecodedFrame& frame) {
  return DecodeKeyChangeRequest(frame);
}
template <>
Result<EabRequestMsg> Decode<EabRequestMsg>(const DecodedFrame& frame) {
  return DecodeEabRequest(frame);
}
template <>
Result<AccountResultMsg> Decode<AccountResultMsg>(const DecodedFrame& frame) {
  return DecodeAccountResult(frame);
}
template <>
Result<AccountCommitRequestMsg> Decode<AccountCommitRequestMsg>(const DecodedFrame& frame) {
  return DecodeAccountCommitRequest(frame);
}
template <>
Result<AccountCommitResponseMsg> Decode<AccountCommitResponseMsg>(const DecodedFrame& frame) {
  return DecodeAccountCommitResponse(frame);
}
template <>
Result<ProbeCertMsg> Decode<ProbeCertMsg>(const DecodedFrame& frame) {
  return DecodeProbeCert(frame);
}
template <>
Result<ProbeOutcomeMsg> Decode<ProbeOutcomeMsg>(const DecodedFrame& frame) {
  return DecodeProbeOutcome(frame);
}
template <>
Result<OkMsg> Decode<OkMsg>(const DecodedFrame& frame) {
  BH_TRY(DecodeEmpty(frame, OkMsg::kType));
  return OkMsg{};
}
template <>
Result<ShutdownMsg> Decode<ShutdownMsg>(const DecodedFrame& frame) {
  BH_TRY(DecodeEmpty(frame, ShutdownMsg::kType));
  return ShutdownMsg{};
}
template <>
Result<DescribeRequestMsg> Decode<DescribeRequestMsg>(const DecodedFrame& frame) {
  BH_TRY(DecodeEmpty(frame, DescribeRequestMsg::kType));
  return DescribeRequestMsg{};
}
template <>
Result<WaitReadyRequestMsg> Decode<WaitReadyRequestMsg>(const DecodedFrame& frame) {
  BH_TRY(DecodeEmpty(frame, WaitReadyRequestMsg::kType));
  return WaitReadyRequestMsg{};
}
template <>
Result<ProbeRunMsg> Decode<ProbeRunMsg>(const DecodedFrame& frame) {
  BH_TRY(DecodeEmpty(frame, ProbeRunMsg::kType));
  return ProbeRunMsg{};
}

Status ValidatePayload(const DecodedFrame& frame) {
  auto keep_status = [](const auto& result) -> Status {
    if (!result.ok()) {
      return result.error();
    }
    return OkStatus();
  };
  switch (frame.type) {
    case MessageType::kOk:
    case MessageType::kShutdown:
    case MessageType::kDescribeRequest:
    case MessageType::kWaitReadyRequest:
    case MessageType::kProbeRun:
      return DecodeEmpty(frame, frame.type);
    case MessageType::kError:
      return keep_status(DecodeError(frame));
    case MessageType::kSignerHello:
      return keep_status(DecodeSignerHello(frame));
    case MessageType::kSignRequest:
      return keep_status(DecodeSignRequest(frame));
    case MessageType::kSignResponse:
      return keep_status(DecodeSignResponse(frame));
    case MessageType::kRemoveRequest:
      return keep_status(DecodeRemoveRequest(frame));
    case MessageType::kDescribeResponse:
      return keep_status(DecodeDescribeResponse(frame));
    case MessageType::kPublishForRequest:
      return keep_status(DecodePublishForRequest(frame));
    case MessageType::kPrepareKeyResponse:
      return keep_status(DecodePrepareKeyResponse(frame));
    case MessageType::kCommitRequest:
      return keep_status(DecodeCommitRequest(frame));
    case MessageType::kCommitResponse:
      return keep_status(DecodeCommitResponse(frame));
    case MessageType::kSavePendingOrder:
      return keep_status(DecodeSavePendingOrder(frame));
    case MessageType::kIssueResult:
      return keep_status(DecodeIssueResult(frame));
    case MessageType::kOrderReport:
      return keep_status(DecodeOrderReport(frame));
    case MessageType::kRenewalInfo:
      return keep_status(DecodeRenewalInfo(frame));
    case MessageType::kTlsaObservation:
      return keep_status(DecodeTlsaObservation(frame));
    case MessageType::kKeyChangeRequest:
      return keep_status(DecodeKeyChangeRequest(frame));
    case MessageType::kEabRequest:
      return keep_status(DecodeEabRequest(frame));
    case MessageType::kAccountResult:
      return keep_status(DecodeAccountResult(frame));
    case MessageType::kAccountCommitRequest:
      return keep_status(DecodeAccountCommitRequest(frame));
    case MessageType::kAccountCommitResponse:
      return keep_status(DecodeAccountCommitResponse(frame));
    case MessageType::kProbeCert:
      return keep_status(DecodeProbeCert(frame));
    case MessageType::kProbeOutcome:
      return keep_status(DecodeProbeOutcome(frame));
  }
  return Err("message type {} has no decoder", static_cast<unsigned>(frame.type));
}

}  // namespace bulkhead::ipc
