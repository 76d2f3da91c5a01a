#include "manager/manager.h"

#include <ctime>

#include "acme/issuance.h"
#include "challenge/http01.h"
#include "util/fs.h"
#include "util/log.h"

namespace bulkhead::manager {
namespace {

// kMaxCsrBytes bounds a user-supplied CSR file.
constexpr size_t kMaxCsrBytes = 64 * 1024;

Result<std::unique_ptr<challenge::Publisher>> MakePublisher(const CertSettings& s) {
  switch (s.method) {
    case ChallengeMethod::kWebroot:
      return challenge::NewDirectoryPublisher(s.challenge_target, /*webroot=*/true);
    case ChallengeMethod::kChallengeDir:
      return challenge::NewDirectoryPublisher(s.challenge_target, /*webroot=*/false);
    case ChallengeMethod::kStandalone:
      return challenge::NewStandalonePublisher(s.challenge_target);
  }
  return Err("unknown challenge method");
}

}  // namespace

// PendingOrderUsable reports whether pending/order.json describes an order
// for exactly these settings that is recent enough to still exist at the CA.
bool PendingOrderUsable(const nlohmann::json& p, const CertSettings& s, int64_t now) {
  constexpr int64_t kMaxPendingAge = 7 * 86400;  // ACME orders expire within days.
  return p.value("server", "") == s.server &&
         p.value("names", std::vector<std::string>{}) == s.names &&
         p.value("key_type", "") == crypto::KeyTypeName(s.key_type) &&
         now - p.value("created", int64_t{0}) < kMaxPendingAge && p.contains("url") &&
         p["url"].is_string();
}

Result<IssueOutcome> IssueCertificate(Session& session, const store::CertStore& certs,
                                      const CertSettings& settings, bool fresh_key) {
  const std::string& name = settings.name;
  BH_ASSIGN(FileLock lock, certs.Lock(name, /*wait=*/false));
  int64_t now = static_cast<int64_t>(std::time(nullptr));

  // An order left by an interrupted run is resumed with the key it was
  // made for, so no rate limit is spent twice.
  acme::OrderHooks hooks;
  roles::KeyRequest key_request;
  key_request.names = settings.names;
  key_request.type = settings.key_type;
  bool key_is_pending = false;
  auto pending = certs.LoadPendingOrder(name);
  if (pending.ok() && settings.csr_file.empty() && PendingOrderUsable(*pending, settings, now)) {
    auto pending_key = certs.ReadPendingKey(name);
    if (pending_key.ok()) {
      hooks.resume_url = (*pending)["url"].get<std::string>();
      key_request.reuse = true;
      key_request.existing_pem = std::move(pending_key).value();
      key_is_pending = true;
    }
  }
  if (!key_is_pending) {
    BH_TRY(certs.ClearPending(name));
    key_request.reuse = settings.reuse_key && !fresh_key;
    if (!settings.csr_file.empty()) {
      BH_ASSIGN(key_request.csr_pem, ReadFileCapped(settings.csr_file, kMaxCsrBytes));
    } else if (key_request.reuse) {
      auto existing = certs.ReadLiveKey(name);
      if (existing.ok()) {
        key_request.existing_pem = std::move(existing).value();
      } else if (existing.error().code != ErrorCode::kNotFound) {
        return existing.error();
      }
    }
  }
  BH_ASSIGN(roles::PreparedKey key, roles::PrepareKey(std::move(key_request)));
  bool has_key = !key.key_pem.empty();
  if (has_key && !key_is_pending) {
    BH_TRY(certs.WritePendingKey(name, key.key_pem));
  }
  key.key_pem.Wipe();  // From here on the key lives only in pending/.

  hooks.on_order = [&](const acme::Order& order) {
    nlohmann::json p = {{"url", order.url},
                        {"names", settings.names},
                        {"server", settings.server},
                        {"key_type", crypto::KeyTypeName(settings.key_type)},
                        {"created", now}};
    Status st = certs.SavePendingOrder(name, p);
    if (!st.ok()) {
      LogWarn("{}: could not record the order for resumption: {}", name, st.error().message);
    }
  };

  BH_ASSIGN(std::unique_ptr<challenge::Publisher> publisher, MakePublisher(settings));
  LogInfo("{}: ordering a certificate for {} names via http-01 ({})", name, settings.names.size(),
          publisher->Describe());
  auto chain = acme::ObtainCertificate(*session.client, *publisher, settings.names, key,
                                       settings.preferred_chain, hooks);
  publisher.reset();  // Tokens are gone before anything else happens.
  if (!chain.ok()) {
    return chain.error().Wrap(name);
  }

  store::CertFiles files;
  files.key_from_pending = has_key;
  files.cert_pem = chain->cert_pem;
  files.chain_pem = chain->chain_pem;
  files.fullchain_pem = chain->fullchain_pem;
  CertSettings saved = settings;
  saved.revoked_serial.clear();
  saved.revoked_key_compromise = false;
  BH_TRY(certs.SaveSettings(name, saved.ToJson()));
  auto version = certs.Commit(name, files);
  if (!version.ok()) {
    return version.error().Wrap(fmt::format("{}: storing the new certificate", name));
  }
  Status cleared = certs.ClearPending(name);
  if (!cleared.ok()) {
    LogWarn("{}: {}", name, cleared.error().message);
  }
  return IssueOutcome{*version, certs.CertDir(name) + "/live", chain->leaf};
}

Result<CertState> InspectCertificate(const store::CertStore& certs, std::string_view name,
                                     int64_t now, int days, bool force) {
  BH_ASSIGN(nlohmann::json j, certs.LoadSettings(name));
  std::string source = certs.CertDir(name) + "/settings.json";
  BH_ASSIGN(CertSettings settings, CertSettings::FromJson(j, source));
  CertState state{std::move(settings), std::nullopt, std::nullopt, {}};
  auto live = certs.LoadLive(name);
  if (!live.ok()) {
    if (live.error().code != ErrorCode::kNotFound) {
      return live.error();
    }
    state.decision = {true, now, "no live certificate"};
    return state;
  }
  auto leaf = crypto::ParseCertPem(live->cert_pem);
  state.live = std::move(live).value();
  if (!leaf.ok()) {
    state.decision = {true, now, "the live certificate does not parse: " + leaf.error().message};
    return state;
  }
  state.leaf = std::move(leaf).value();
  if (!state.settings.revoked_serial.empty() &&
      state.settings.revoked_serial == state.leaf->serial_hex) {
    state.decision = {true, now, "the live certificate was revoked"};
    return state;
  }
  state.decision = renew::Decide(state.leaf->not_before, state.leaf->not_after, now, days, force);
  return state;
}

}  // namespace bulkhead::manager
