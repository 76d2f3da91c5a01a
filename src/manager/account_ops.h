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
#include "manager/session.h"
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

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_ACCOUNT_OPS_H_
