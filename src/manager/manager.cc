#include "manager/manager.h"

namespace bulkhead::manager {

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
