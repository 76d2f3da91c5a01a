// Which CA to talk to and where its account lives: the settings shared by
// every command that reaches a CA. The conversation itself always runs in a
// sandboxed net role (manager/compartments.h, manager/account_ops.h); no
// in-process client holding the account key exists any more.
#ifndef BULKHEAD_MANAGER_SESSION_H_
#define BULKHEAD_MANAGER_SESSION_H_

#include <memory>
#include <string>

#include "acme/client.h"
#include "acme/http.h"
#include "roles/roles.h"
#include "store/account_store.h"
#include "util/result.h"

namespace bulkhead::manager {

// CaConfig names a CA and how to trust it.
struct CaConfig {
  std::string directory_url;
  std::string ca_bundle;  // "" = system trust store.
  // Bound on each HTTP request to the CA (connect included).
  long request_timeout_ms = 30000;
};

// HttpOptionsFor returns the transport settings for `ca`.
acme::HttpOptions HttpOptionsFor(const CaConfig& ca);

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
