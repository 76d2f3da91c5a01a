// The account commands and revocation with every role in its own sandboxed
// process, as for issue (docs/COMPARTMENTS.md, "Account and revocation
// commands"). The parent validates, starts the roles and reports what the
// net role found, already checked by the IPC decoders; it never reads a
// private key and never parses what the CA sent.
//
//   account register|show|rollover|deactivate:
//     parent ──account (account key, new key; writes only the account dir)
//        └──net ──account (signs)
//   revoke:
//     parent ──net ──signer (account key, or the certificate's key)
#ifndef BULKHEAD_MANAGER_ACCOUNT_OPS_H_
#define BULKHEAD_MANAGER_ACCOUNT_OPS_H_

#include <optional>
#include <string>
#include <vector>

#include "crypto/key.h"
#include "ipc/messages.h"
#include "acme/sign_policy.h"
#include "manager/session.h"
#include "roles/compartments.h"
#include "roles/net.h"
#include "sandbox/identity.h"
#include "util/result.h"
#include "util/secret.h"

namespace bulkhead::manager {

// AccountCommand is one of `bulkhead account ...` (roles/net.h: the net
// role carries it).
using AccountCommand = roles::AccountCommand;

// AccountRequest is a validated account command.
struct AccountRequest {
  AccountCommand command = AccountCommand::kShow;
  std::vector<std::string> contact;  // register: "mailto:..." (empty: none).
  bool agree_tos = false;            // register.
  crypto::KeyType key_type = crypto::KeyType::kEc256;  // register: a new key's type.
  std::optional<crypto::KeyType> new_key_type;  // rollover: unset keeps the type.
  std::string eab_kid;  // register: external account binding, both or neither.
  Secret eab_hmac_key;
};

// AccountReport is what the parent prints.
struct AccountReport {
  ipc::AccountResultMsg account;     // From the net role.
  ipc::AccountCommitResponseMsg key;  // From the account role: the stored key.
  std::string key_path;              // account.key.
};

// RunAccountCommand runs `request` against `ca` for the default account
// under `state_dir`. register stores a new key and account.json only after
// the CA answered (an unreachable CA leaves the state directory as it was);
// rollover replaces account.key only after the CA accepted the new key.
// Fails with kNotFound when show/rollover/deactivate find no registered
// account, kUsage for the CA's terms of service or external account binding
// requirements, otherwise with the CA's or a role's error. `run_as` (root
// only) is the user the net role switches to; the account role keeps the
// caller's identity because it writes the caller's account directory.
Result<AccountReport> RunAccountCommand(const std::string& state_dir, const CaConfig& ca,
                                        AccountRequest request, bool require_full_sandbox,
                                        const std::optional<sandbox::RunAs>& run_as);

// RevokeRequest is one validated revocation.
struct RevokeRequest {
  std::string cert_der;       // The certificate to revoke.
  int reason = 0;             // RFC 5280 reason code.
  std::string cert_key_path;  // Non-empty: sign with this key (jwk) instead of the account.
};

// RevokeInCompartments asks the CA to revoke `request.cert_der`: a signer
// role reads the account key (or, with cert_key_path, the certificate's
// key) and the net role sends the request. Fails with kNotFound when no
// account is registered (account revocation), or with the CA's error.
Status RevokeInCompartments(const std::string& state_dir, const CaConfig& ca,
                            const RevokeRequest& request, bool require_full_sandbox,
                            const std::optional<sandbox::RunAs>& run_as);

// --- Planning: pure, no I/O (the runners above read the facts first) ------

// AccountFacts is what the parent found on disk for an account command.
struct AccountFacts {
  std::string account_dir;  // The only directory the account role may write.
  bool key_exists = false;  // register: account.key is already there.
  std::string account_url;  // show/rollover/deactivate: account.json's "url".
};

// AccountPlan is what the two roles of an account command start with.
struct AccountPlan {
  roles::AccountNetJob net;   // Runs as `run_as` when root; no key, no EAB secret.
  roles::AccountRoleJob role;  // Keeps the caller's identity; holds the keys.
};

// AccountSignPolicy is what the account role may sign for `request`: only
// the command the user gave, on the CA's origin, for `account_url` ("" when
// registering). Never fails.
acme::SignPolicy AccountSignPolicy(const AccountRequest& request, const CaConfig& ca,
                                   const std::string& account_url);

// PlanAccountCommand plans `request` (its EAB HMAC key moves into the plan
// and is wiped in `request`). Fails with kUsage when the EAB HMAC key is not
// base64url.
Result<AccountPlan> PlanAccountCommand(AccountRequest& request, const CaConfig& ca,
                                       const AccountFacts& facts);

// RevokePlan is what the two roles of a revocation start with.
struct RevokePlan {
  roles::RevokeNetJob net;
  roles::SignerJob signer;  // May sign only this revocation.
};

// PlanRevoke plans `request`: signed by the certificate's key when
// request.cert_key_path is set, else by the account (`account_url`);
// `key_path` is the key the signer reads. Never fails.
RevokePlan PlanRevoke(const RevokeRequest& request, const CaConfig& ca,
                      const std::string& account_url, const std::string& key_path);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_ACCOUNT_OPS_H_
