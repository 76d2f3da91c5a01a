// Which CA to talk to and where its account lives: the settings shared by
// every command that reaches a CA. The conversation itself always runs in a
// sandboxed net role (manager/compartments.h, manager/account_ops.h); no
// in-process client holding the account key exists any more.
#ifndef BULKHEAD_MANAGER_SESSION_H_
#define BULKHEAD_MANAGER_SESSION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "acme/client.h"
#include "acme/http.h"
#include "sandbox/sandbox.h"
#include "store/account_store.h"
#include "util/result.h"

namespace bulkhead::manager {

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

// PinCaAddresses resolves the host of `ca->directory_url` (IPv4 and IPv6,
// through the system resolver, as the calling user) and records the
// addresses in `ca->pinned`; an IP-literal host needs no lookup. Call it in
// the parent before starting a net role. A host that does not resolve is an
// error naming it (kTransient for a temporary resolver failure).
Status PinCaAddresses(CaConfig* ca);

// CaNetPolicy is the sandbox of every net role that talks to `ca`: read the
// TLS trust store and the CA bundle (no resolver or NSS files), create TCP
// sockets only (no UDP, raw, SCTP or MPTCP) and connect only to the CA's
// port; `parent_fd` is the role's channel to its parent. `ca` must have
// gone through PinCaAddresses.
sandbox::Policy CaNetPolicy(const CaConfig& ca, int parent_fd);

// Well-known directory URLs for the --server aliases.
inline constexpr const char* kLetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory";
inline constexpr const char* kLetsEncryptStaging =
    "https://acme-staging-v02.api.letsencrypt.org/directory";

// ResolveServer maps "letsencrypt"/"letsencrypt-staging" to their URLs and
// accepts any https URL; anything else is a kUsage error.
Result<std::string> ResolveServer(std::string_view server);

// AccountStoreFor returns the account directory for `ca` under `state_dir`.
Result<store::AccountStore> AccountStoreFor(const std::string& state_dir, const CaConfig& ca,
                                            std::string_view account_name = "default");

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_SESSION_H_
