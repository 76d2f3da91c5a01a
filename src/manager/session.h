// Which CA to talk to and where its account lives: the settings shared by
// every command that reaches a CA. The conversation itself always runs in a
// sandboxed net role (roles/net.h); no
// in-process client holding the account key exists any more.
#ifndef BULKHEAD_MANAGER_SESSION_H_
#define BULKHEAD_MANAGER_SESSION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "acme/client.h"
#include "acme/http.h"
#include "roles/net.h"
#include "sandbox/sandbox.h"
#include "store/account_store.h"
#include "util/result.h"

namespace bulkhead::manager {

// CaConfig names a CA and how to trust it (roles/net.h, where the net role
// that talks to it lives; HttpOptionsFor, CaPort and CaNetPolicy are there).
using CaConfig = roles::CaConfig;

// PinCaAddresses resolves the host of `ca->directory_url` (IPv4 and IPv6,
// through the system resolver, as the calling user) and records the
// addresses in `ca->pinned`; an IP-literal host needs no lookup. Call it in
// the parent before starting a net role. A host that does not resolve is an
// error naming it (kTransient for a temporary resolver failure).
Status PinCaAddresses(CaConfig* ca);

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
