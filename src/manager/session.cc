#include "manager/session.h"

#include <algorithm>

namespace bulkhead::manager {

Result<std::string> ResolveServer(std::string_view server) {
  if (server == "letsencrypt") {
    return std::string(kLetsEncrypt);
  }
  if (server == "letsencrypt-staging") {
    return std::string(kLetsEncryptStaging);
  }
  if (server.rfind("https://", 0) == 0 && server.size() > 8) {
    return std::string(server);
  }
  return ErrCode(ErrorCode::kUsage,
                 "--server must be an https:// directory URL, letsencrypt or letsencrypt-staging "
                 "(got \"{}\")",
                 std::string(server.substr(0, 200)));
}

acme::HttpOptions HttpOptionsFor(const CaConfig& ca) {
  acme::HttpOptions options;
  options.ca_bundle = ca.ca_bundle;
  options.request_timeout_ms = ca.request_timeout_ms;
  options.connect_timeout_ms = std::min(options.connect_timeout_ms, ca.request_timeout_ms);
  return options;
}

Result<store::AccountStore> AccountStoreFor(const std::string& state_dir, const CaConfig& ca,
                                            std::string_view account_name) {
  BH_ASSIGN(std::string ca_dir, store::CaDirName(ca.directory_url));
  return store::AccountStore(
      fmt::format("{}/accounts/{}/{}", state_dir, ca_dir, std::string(account_name)));
}

}  // namespace bulkhead::manager
