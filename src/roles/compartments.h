// Role process bodies and the proxies that stand for them in other
// processes. Each body opens what it needs, enters its sandbox (open, then
// sandbox, then parse), and only then reads from its channel. Bodies return
// the process exit status: 0 when the peer shut the role down cleanly.
//
//   body               serves on its channel                 proxy
//   RunSignerRole      SignerHello, SignRequest              NewRemoteSigner
//   RunChallengeRole   PublishFor/Remove/Describe/           NewRemotePublisher
//                      WaitReadyRequest
//   RunStoreRole       SavePendingOrder, CommitRequest       RemoteStore
//   RunKeysRole        (one PrepareKeyResponse, then exits)  ReceivePreparedKey
//   RunAccountRole     SignRequest, KeyChangeRequest,        (net's RemoteSigner)
//                      EabRequest; AccountCommitRequest
//
// The net role (roles/net.h) and the DNS role (roles/dns.h) have their own
// headers. Each role's sandbox policy is built by one function in its file:
// ChallengePolicy here, CaNetPolicy and DnsPolicy there; the signer, keys,
// store and account roles build theirs in their bodies.
#ifndef BULKHEAD_ROLES_COMPARTMENTS_H_
#define BULKHEAD_ROLES_COMPARTMENTS_H_

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "acme/sign_policy.h"
#include "challenge/publisher.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "jose/signer.h"
#include "roles/keys.h"
#include "sandbox/sandbox.h"
#include "store/cert_store.h"

namespace bulkhead::roles {

// kRoleIdleTimeout bounds how long a serving role waits for its next request:
// a whole order, with polling and retries, fits well within it.
inline constexpr std::chrono::minutes kRoleIdleTimeout{30};

// EnterSandbox enters `policy`, printing the role's name and the error to
// stderr on failure. Returns false if the role must exit.
bool EnterSandbox(const sandbox::Policy& policy, bool require_full);

// SignerJob is what the signer starts with, inherited through fork from
// the parent (never from net).
struct SignerJob {
  std::string key_path;             // The account key.
  std::string expected_thumbprint;  // account.json's record; "" skips the check.
  acme::SignPolicy policy;          // What this run may sign (acme/sign_policy.h).
};

// RunSignerRole reads the account key at `job.key_path`, refuses to serve
// if it is not the registered key (thumbprint differs), then signs for net
// what `job.policy` allows and refuses the rest, naming the request. With
// `parent` (issuing runs), the CSR finalize may carry arrives from the
// parent as a PrepareKeyResponse, the same answer the parent relays to net.
int RunSignerRole(ipc::Channel net, std::optional<ipc::Channel> parent, SignerJob job,
                  bool require_full);

// NewRemoteSigner waits for the signer's hello (JWK, thumbprint) and returns
// a Signer that forwards each Sign over `channel` (which must outlive it).
Result<std::unique_ptr<jose::Signer>> NewRemoteSigner(ipc::Channel& channel);

// ChallengeAccess is what the challenge role's sandbox must allow for one
// certificate: how it answers, where, and the checks it runs itself.
struct ChallengeAccess {
  enum class Kind { kTokenDir, kStandalone, kDnsDrop, kDnsRfc2136, kDnsHook };
  Kind kind = Kind::kTokenDir;
  // kTokenDir: the directory token files go to; kStandalone: the listener's
  // ADDR:PORT; kDnsDrop: the drop directory; kDnsRfc2136: the server's
  // ADDR:PORT; kDnsHook: the hook program (it runs outside the sandbox).
  std::string target;
  std::string dns_resolver;        // dns-01: ADDR:PORT, or "" (system resolver).
  bool preflight = false;          // http-01: the pre-flight self-check.
  int preflight_port = 80;         // Where the CA validates.
  std::string preflight_resolver;  // ADDR:PORT, or "" (system resolver).
};

// ChallengePolicy is the challenge role's sandbox for `access`: a token
// directory method may write only that directory; standalone may bind only
// the listener's port; dns-01 may use UDP and TCP to port 53, the resolver's
// and the RFC 2136 server's port, write only the drop directory, and read
// /etc/resolv.conf when no resolver is given; http-01 with the pre-flight
// check may also connect to the pre-flight port, 80, 443 and the resolver's
// port and read the resolver, NSS and TLS configuration. Never fails (an
// unparsable address adds no port).
sandbox::Policy ChallengePolicy(const ChallengeAccess& access);

// RunChallengeRole enters `policy`, then builds the publisher with `make`
// (so a standalone listener binds under the sandbox's port rule) and serves.
// The publisher, and with it every token, is gone before the role exits.
int RunChallengeRole(ipc::Channel channel, const sandbox::Policy& policy, bool require_full,
                     const std::function<Result<std::unique_ptr<challenge::Publisher>>()>& make);

// NewRemotePublisher waits until the challenge role is ready (its first
// message; an error if it could not set up) and returns a Publisher that
// forwards to it. `challenge_type` is what the role's publisher answers
// (challenge::kHttp01 or kDns01, known from the settings); WaitReady waits
// at most `wait_ready_timeout` for the role's propagation check.
Result<std::unique_ptr<challenge::Publisher>> NewRemotePublisher(
    ipc::Channel& channel, const std::string& challenge_type,
    std::chrono::seconds wait_ready_timeout);

// StoreJob is what the store role starts with (from the parent, by fork).
struct StoreJob {
  std::string name;                // The certificate it serves.
  std::vector<std::string> names;  // The names its certificate must carry.
  nlohmann::json settings;         // Saved as settings.json on commit.
};

// RunStoreRole writes only `certs.CertDir(job.name)`: it records pending
// orders and, on CommitRequest, checks the certificate (it parses, carries
// exactly `job.names` and the key in pending/pubkey.der), saves the
// settings, commits the set with the key taken from pending/ (never read)
// and clears pending/. A refused certificate is an error reply; nothing
// is written.
int RunStoreRole(ipc::Channel channel, const store::CertStore& certs, const StoreJob& job,
                 bool require_full);

// RemoteStore is the net role's handle on the store role. The order record
// (SavePendingOrder) is sent without waiting, its reply read after the
// order (roles/net.cc), so it has no method here.
class RemoteStore {
 public:
  explicit RemoteStore(ipc::Channel& channel) : channel_(channel) {}
  Result<int> Commit(const ipc::CommitRequestMsg& request);

 private:
  ipc::Channel& channel_;
};

// KeyChoice says which key the keys role starts from.
enum class KeyChoice {
  kFresh,    // Generate a new key.
  kLive,     // Reuse the live key (a fresh one if there is none yet).
  kPending,  // Reuse pending/privkey.pem: resuming an interrupted order.
  kNext,     // Use next/privkey.pem, the key made ahead for a DANE rollover.
};

// RunKeysRole prepares the domain key (reading only the certificate
// directory, writing only pending/), leaves it in pending/privkey.pem (the
// store links it from there) and sends the CSR and public key. With a user
// CSR in `request` no key is made.
int RunKeysRole(ipc::Channel channel, const store::CertStore& certs, const std::string& name,
                KeyRequest request, KeyChoice choice, bool require_full);

// RunNextKeyRole makes the certificate's next key (DANE rollover, see
// manager/dane.h): a fresh key of `type`, stored by CertStore::WriteNextKey
// (writing only next/); answers kOk (the parent reads next/pubkey.pem) or
// kError.
int RunNextKeyRole(ipc::Channel channel, const store::CertStore& certs, const std::string& name,
                   crypto::KeyType type, bool require_full);

// ReceivePreparedKey reads the keys role's answer (key_pem stays empty: the
// key itself never leaves the keys role).
Result<PreparedKey> ReceivePreparedKey(ipc::Channel& channel);

// AccountKeyMode says which keys the account role holds.
enum class AccountKeyMode {
  kExisting,  // account.key as stored (show, deactivate, register with a key).
  kCreate,    // A new key, stored as account.key only on commit (register).
  kRollover,  // account.key and a new key that replaces it on commit.
};

// AccountRoleJob is what the account role starts with (inherited through
// fork, never sent over a channel).
struct AccountRoleJob {
  std::string account_dir;  // The only directory the role may write; must exist.
  std::string server;       // Directory URL, recorded in account.json.
  std::string account_url;  // The registered account ("" if none): keyChange is
                            // signed only for this account.
  AccountKeyMode mode = AccountKeyMode::kExisting;
  std::optional<crypto::KeyType> new_key_type;  // Unset: the old key's type.
  std::string eab_kid;      // With eab_hmac_key: answers EabRequest.
  Secret eab_hmac_key;      // base64url, as the CA issued it.
  acme::SignPolicy policy;  // What net may have signed (acme/sign_policy.h).
};

// RunAccountRole is the signer of `account register|show|rollover|
// deactivate`: it reads account.key and/or generates the new key, enters a
// sandbox that may write only `job.account_dir` (no sockets), serves
// SignRequest, KeyChangeRequest (rollover) and EabRequest on `net` until net
// shuts it down, then waits on `parent`: AccountCommitRequest stores the
// new key and account.json and answers AccountCommitResponse; Shutdown (or
// a closed channel) discards the new key.
int RunAccountRole(ipc::Channel net, ipc::Channel parent, AccountRoleJob job, bool require_full);

}  // namespace bulkhead::roles

#endif  // BULKHEAD_ROLES_COMPARTMENTS_H_
