// What the signer may sign: the one ACME operation a run performs, decided
// by the parent before any role starts and never by the net role.
//
// The net role parses everything the CA sends, so it is the role an
// attacker most likely controls. If the signer signed whatever net asked,
// a compromised net role could sign a keyChange to its own key (a permanent
// account takeover), deactivate the account, revoke any certificate or
// order any name. So the signer checks every request against a SignPolicy
// it received from the parent at fork time, and refuses the rest with an
// error naming the request. docs/COMPARTMENTS.md has the table.
//
//   operation       payloads the signer accepts (kid = the account URL
//                   unless said otherwise; every URL on the CA's origin;
//                   every request carries a nonce)
//   kIssue          ""  (POST-as-GET)       "{}" (challenge response)
//                   newOrder with exactly the run's identifiers and
//                   profile, and its replaces (or none: the retry after
//                   alreadyReplaced)
//                   finalize with exactly the CSR the keys role made
//                   (bytes relayed by the parent: AllowFinalize)
//   kRegister       newAccount (embedded JWK): {onlyReturnExisting:true}, or
//                   the run's contact, termsOfServiceAgreed as decided, an
//                   externalAccountBinding; an update to exactly the run's
//                   contact (any account URL: the CA names it); ""
//   kShow           "" to the account URL
//   kDeactivate     "" and {"status":"deactivated"} to the account URL
//   kRollover       "" and a keyChange whose inner JWS is for this account
//   kRevoke         revokeCert of exactly the run's certificate and reason
//                   (with the certificate's key: embedded JWK, no kid)
//
// Never, for any operation: a request without a nonce (an inner JWS), a URL
// of another origin, a payload that is not one of the above.
#ifndef BULKHEAD_ACME_SIGN_POLICY_H_
#define BULKHEAD_ACME_SIGN_POLICY_H_

#include <string>
#include <string_view>
#include <vector>

#include "jose/signer.h"
#include "util/result.h"

namespace bulkhead::acme {

// SignOperation is the one thing a run may ask the CA to do.
enum class SignOperation {
  kIssue,       // issue / renew: one order for one set of names.
  kRegister,    // account register.
  kShow,        // account show.
  kDeactivate,  // account deactivate.
  kRollover,    // account rollover (keyChange).
  kRevoke,      // revoke one certificate.
};

// SignOperationName returns "issue", "account register", ...
std::string_view SignOperationName(SignOperation op);

// SignPolicy is everything the signer knows about the run, all of it from
// the parent (inherited through fork).
struct SignPolicy {
  SignOperation operation = SignOperation::kIssue;
  std::string origin;       // "https://host[:port]" of the CA's directory URL.
  std::string account_url;  // The kid every request must carry ("" if none yet).
  // kIssue: the names of the order (any order, any case); the newOrder's
  // "profile" and "replaces" ("" = must be absent).
  std::vector<std::string> names;
  std::string profile;
  std::string replaces;
  // kIssue: the DER CSR finalize may carry; empty until AllowFinalize.
  std::string csr_der;
  // kRegister: the contact URLs and whether the terms are agreed to.
  std::vector<std::string> contact;
  bool agree_tos = false;
  // kRevoke: the certificate (DER) and reason code; with_cert_key: signed
  // with the certificate's key (embedded JWK, no kid).
  std::string revoke_cert_der;
  int revoke_reason = 0;
  bool with_cert_key = false;
};

// CheckSignRequest returns OK if `request` is one the policy allows, or an
// error (ErrorCode::kFailure) saying which request was refused and why. It
// parses the payload as hostile input: any size, any bytes.
Status CheckSignRequest(const SignPolicy& policy, const jose::SignRequest& request);

// CheckKeyChangeInner returns OK if the inner keyChange JWS may be made for
// `account` (only a kRollover run, only for its own account).
Status CheckKeyChangeInner(const SignPolicy& policy, std::string_view url,
                           std::string_view account);

}  // namespace bulkhead::acme

#endif  // BULKHEAD_ACME_SIGN_POLICY_H_
