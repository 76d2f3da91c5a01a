// Session: everything needed to talk to one CA as one account — the
// transport, the account signer and the protocol client — wired together
// from the state directory.
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

struct Session {
  CaConfig ca;
  store::AccountStore account;
  std::unique_ptr<acme::HttpClient> http;
  std::unique_ptr<roles::Signer> signer;
  std::unique_ptr<acme::Client> client;
};

// OpenSession loads the account key (kNotFound if there is none, saying how
// to register), connects to the CA and reads its directory. With
// `require_registered` the account URL must be known (account.json).
Result<std::unique_ptr<Session>> OpenSession(const std::string& state_dir, const CaConfig& ca,
                                             bool require_registered);

// OpenSessionWithSigner is OpenSession for a signer the caller made (used
// by `account register` before the key is stored).
Result<std::unique_ptr<Session>> OpenSessionWithSigner(const CaConfig& ca,
                                                       store::AccountStore account,
                                                       std::unique_ptr<roles::Signer> signer);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_SESSION_H_
