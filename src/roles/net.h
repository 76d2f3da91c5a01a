// The net role: the only process that talks to the CA and parses what it
// sends. Everything it may do is here: the one sandbox policy every net role
// enters (CaNetPolicy: TCP to the CA's port only, the TLS trust store, no
// resolver), and the body of each operation, which holds no key (the signer
// or account role signs) and reports to the parent only checked messages.
//
//   body                 started by                    peers
//   RunNetRole           manager/issue_run (issue)     signer, challenge, store
//   RunRenewalInfoRole   manager FetchRenewalInfo      none (unauthenticated GET)
//   RunAccountNetRole    manager/account_ops           account (signs)
//   RunRevokeNetRole     manager/account_ops           signer
#ifndef BULKHEAD_ROLES_NET_H_
#define BULKHEAD_ROLES_NET_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "acme/http.h"
#include "crypto/key.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "roles/keys.h"
#include "sandbox/sandbox.h"

namespace bulkhead::roles {

// CaConfig names a CA and how to trust it.
struct CaConfig {
  std::string directory_url;
  std::string ca_bundle;  // "" = system trust store.
  // Bound on each HTTP request to the CA (connect included).
  long request_timeout_ms = 30000;
  // The CA host's addresses, resolved by PinCaAddresses in the parent
  // before any net role starts, as libcurl CURLOPT_RESOLVE entries
  // ("host:port:addr[,addr]"). A net role has no UDP socket and no resolver
  // files, so it never resolves a name itself. Empty for an IP-literal host.
  std::vector<std::string> pinned = {};
};

// HttpOptionsFor returns the transport settings for `ca` (with its pinned
// addresses).
acme::HttpOptions HttpOptionsFor(const CaConfig& ca);

// CaPort returns the TCP port of the CA's directory URL (443 by default),
// the only port a net role may connect to.
uint16_t CaPort(const CaConfig& ca);

// CaNetPolicy is the sandbox of every net role that talks to `ca`: read the
// TLS trust store and the CA bundle (no resolver or NSS files), create TCP
// sockets only (no UDP, raw, SCTP or MPTCP) and connect only to the CA's
// port; `parent_fd` is the role's channel to its parent. `ca` must have
// gone through PinCaAddresses.
sandbox::Policy CaNetPolicy(const CaConfig& ca, int parent_fd);

// kOrderTimeout bounds one whole order as seen from the parent: every wait
// inside is bounded too, this is the last line of defence against a hang.
inline constexpr std::chrono::minutes kOrderTimeout{20};

// kRenewalInfoTimeout bounds one ARI check end to end.
inline constexpr std::chrono::seconds kRenewalInfoTimeout{90};

// kCommandTimeout bounds one account command or revocation as the parent
// sees it; every request inside has its own, shorter bound.
inline constexpr std::chrono::minutes kCommandTimeout{5};

// OrderSpec is what one order asks the CA for (from the certificate's
// settings, planned by the parent).
struct OrderSpec {
  std::string name;                // The certificate's name (logs, hostile hooks).
  std::vector<std::string> names;  // The identifiers ordered.
  std::string server;              // Directory URL, recorded with the pending order.
  crypto::KeyType key_type = crypto::KeyType::kEc256;  // Recorded with the pending order.
  std::string profile;             // newOrder profile, "" for the CA's default.
  std::string replaces;            // ARI certID this order replaces, or "".
  std::string preferred_chain;     // Issuer CN of the chain to prefer, or "".
  std::string challenge_type = "http-01";  // What the challenge role answers.
  // How long the challenge role's WaitReady may take.
  std::chrono::seconds challenge_wait{std::chrono::seconds(30)};
};

// NetJob is everything the net role needs, inherited through fork().
struct NetJob {
  CaConfig ca;
  std::string account_url;
  OrderSpec order;
  PreparedKey key;
  ipc::KeySource key_source = ipc::KeySource::kPending;
  std::string resume_url;
  int64_t now = 0;
  bool require_full = false;
  ipc::OrderReportMsg report;  // What the order spent, for the parent's ledger.
};

// RunNetRole is the net role's body for issue and renew: it enters
// CaNetPolicy, connects, waits for the CSR the parent relays (an error
// there ends the role before any order exists), orders through the signer,
// challenge and store roles, and sends the parent first an OrderReport
// (what the order spent) and then an IssueResult or an Error. Returns the
// process exit status (0 also when the order failed and was reported).
int RunNetRole(ipc::Channel parent, ipc::Channel signer_ch, ipc::Channel challenge_ch,
               ipc::Channel store_ch, NetJob job);

// RunRenewalInfoRole is a net role for one unauthenticated GET of the CA's
// renewalInfo for `cert_id`: it sends the parent a RenewalInfo (supported =
// false when the CA offers no ARI) or an Error. Returns the exit status.
int RunRenewalInfoRole(ipc::Channel parent, const CaConfig& ca, const std::string& cert_id,
                       bool require_full);

// AccountCommand is one of `bulkhead account ...`.
enum class AccountCommand { kRegister, kShow, kRollover, kDeactivate };

// AccountNetJob is what the net role of an account command inherits; it
// holds no key and no EAB secret.
struct AccountNetJob {
  CaConfig ca;
  AccountCommand command = AccountCommand::kShow;
  std::string account_url;  // show/rollover/deactivate.
  bool key_existed = false;  // register.
  std::vector<std::string> contact;
  bool agree_tos = false;
  bool eab = false;
};

// RunAccountNetRole is the net role of an account command: the only process
// that talks to the CA. It reports an AccountResult or an Error to `parent`
// and returns the exit status (0 also when the CA refused).
int RunAccountNetRole(ipc::Channel parent, ipc::Channel signer_ch, const AccountNetJob& job,
                      bool require_full);

// RevokeNetJob is what the net role of a revocation inherits.
struct RevokeNetJob {
  CaConfig ca;
  std::string account_url;  // "" with the certificate's key.
  std::string cert_der;
  int reason = 0;
  bool with_cert_key = false;
};

// RunRevokeNetRole sends one revocation signed by the signer role and
// reports Ok or an Error to `parent`; returns the exit status.
int RunRevokeNetRole(ipc::Channel parent, ipc::Channel signer_ch, const RevokeNetJob& job,
                     bool require_full);

}  // namespace bulkhead::roles

#endif  // BULKHEAD_ROLES_NET_H_
