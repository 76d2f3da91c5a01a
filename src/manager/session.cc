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

Result<std::unique_ptr<Session>> OpenSessionWithSigner(const CaConfig& ca,
                                                       store::AccountStore account,
                                                       std::unique_ptr<roles::Signer> signer) {
  BH_ASSIGN(std::unique_ptr<acme::HttpClient> http, acme::NewCurlHttpClient(HttpOptionsFor(ca)));
  auto session = std::make_unique<Session>(
      Session{ca, std::move(account), std::move(http), std::move(signer), nullptr});
  session->client =
      std::make_unique<acme::Client>(*session->http, *session->signer, ca.directory_url);
  BH_TRY(session->client->Init());
  return session;
}

Result<std::unique_ptr<Session>> OpenSession(const std::string& state_dir, const CaConfig& ca,
                                             bool require_registered) {
  BH_ASSIGN(store::AccountStore account, AccountStoreFor(state_dir, ca));
  BH_ASSIGN(Secret key_pem, account.ReadKey());
  BH_ASSIGN(std::unique_ptr<roles::Signer> signer, roles::NewLocalSigner(key_pem));
  key_pem.Wipe();
  std::string account_url;
  auto info = account.LoadInfo();
  if (info.ok() && info->contains("url") && (*info)["url"].is_string()) {
    account_url = (*info)["url"].get<std::string>();
  } else if (require_registered) {
    return ErrCode(ErrorCode::kNotFound,
                   "no account registered with {} in {}; run `bulkhead account register` first",
                   ca.directory_url, account.dir());
  }
  BH_ASSIGN(std::unique_ptr<Session> session,
            OpenSessionWithSigner(ca, std::move(account), std::move(signer)));
  if (!account_url.empty()) {
    session->client->SetAccountUrl(account_url);
  }
  return session;
}

}  // namespace bulkhead::manager
