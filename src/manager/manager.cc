#include "manager/manager.h"

#include <unistd.h>

#include <chrono>

#include "ipc/channel.h"
#include "ipc/messages.h"
#include "manager/issue_run.h"
#include "roles/net.h"
#include "roles/process.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/nofollow.h"

namespace bulkhead::manager {
namespace {

// LoadAri returns ari.json if it exists, parses, and is about `cert_id`.
std::optional<renew::AriState> LoadAri(const store::CertStore& certs, std::string_view name,
                                       const std::string& cert_id) {
  std::string path = AriPath(certs, name);
  // The certificate directory belongs to the roles' user: no symlink or
  // FIFO in ari.json's place is followed.
  auto text = ReadFileNoFollow(path, 64 * 1024);
  if (!text.ok()) {
    if (text.error().code != ErrorCode::kNotFound) {
      LogWarn("{}", text.error().message);
    }
    return std::nullopt;
  }
  auto state = renew::AriState::FromJson(ParseUntrustedJson(*text), path);
  if (!state.ok()) {
    LogWarn("{}; ignoring it", state.error().message);
    return std::nullopt;
  }
  if (state->cert_id != cert_id) {
    return std::nullopt;
  }
  return std::move(state).value();
}

}  // namespace

std::string AriPath(const store::CertStore& certs, std::string_view name) {
  return certs.CertDir(name) + "/ari.json";
}

Status RefreshRenewalInfo(const store::CertStore& certs, const CaConfig& ca, CertState* state,
                          int64_t now, int days, bool force, bool require_full_sandbox,
                          const std::optional<sandbox::RunAs>& run_as) {
  if (!state->leaf) {
    return OkStatus();
  }
  auto id = renew::CertId(*state->leaf);
  if (!id.ok()) {
    return OkStatus();  // No AKI: ARI cannot name it; the lifetime rule stays.
  }
  const renew::AriState* old = state->ari ? &*state->ari : nullptr;
  if (!renew::NeedsCheck(old, *id, now)) {
    return OkStatus();
  }
  auto info = FetchRenewalInfo(ca, *id, require_full_sandbox, run_as);
  renew::AriState fresh;
  if (!info.ok()) {
    LogWarn("{}: renewal information: {}", state->settings.name, info.error().message);
    fresh = renew::ApplyError(old != nullptr ? *old : renew::AriState{}, *id,
                              info.error().message, now);
  } else if (!info->supported) {
    fresh = renew::ApplyUnsupported(*id, now);
  } else {
    renew::RenewalWindow w{info->start, info->end, info->explanation};
    fresh = renew::ApplyWindow(old != nullptr ? *old : renew::AriState{}, *id, w,
                               static_cast<long>(info->retry_after), now);
  }
  BH_TRY(WriteFileAtomic(AriPath(certs, state->settings.name), fresh.ToJson().dump(2) + "\n",
                         0644));
  state->ari = fresh;
  if (!state->revoked) {
    state->decision = renew::DecideWithAri(*state->leaf, &*state->ari, now, days, force);
  }
  return OkStatus();
}

Result<CertState> InspectCertificate(const store::CertStore& certs, std::string_view name,
                                     int64_t now, const DueRule& rule) {
  BH_ASSIGN(nlohmann::json j, certs.LoadSettings(name));
  std::string source = certs.CertDir(name) + "/settings.json";
  BH_ASSIGN(CertSettings settings, CertSettings::FromJson(j, source));
  CertState state{std::move(settings), std::nullopt, std::nullopt, {}, std::nullopt};
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
    // A revocation without --reissue is a decision to stop using this
    // certificate: replacing it behind the admin's back would undo that.
    state.revoked = true;
    if (rule.force) {
      state.decision = {true, now, "forced (the live certificate was revoked)"};
    } else if (state.settings.revoked_reissue) {
      state.decision = {true, now, "the live certificate was revoked"};
    } else {
      state.decision = {false, state.leaf->not_after, kRevokedNotRenewed};
    }
    return state;
  }
  auto id = renew::CertId(*state.leaf);
  if (id.ok()) {
    state.ari = LoadAri(certs, name, *id);
  }
  state.decision =
      renew::DecideWithAri(*state.leaf, state.ari ? &*state.ari : nullptr, now, rule.days,
                           rule.force);
  return state;
}

Result<ipc::RenewalInfoMsg> FetchRenewalInfo(const CaConfig& ca_arg, const std::string& cert_id,
                                             bool require_full_sandbox,
                                             const std::optional<sandbox::RunAs>& run_as_arg) {
  BH_TRY(ReportSandboxGapsOnce(require_full_sandbox));
  CaConfig ca = ca_arg;
  BH_TRY(PinCaAddresses(&ca));
  std::optional<sandbox::RunAs> run_as = ::geteuid() == 0 ? run_as_arg : std::nullopt;
  if (run_as && !ca.ca_bundle.empty()) {
    BH_TRY(sandbox::CheckAccessibleBy(ca.ca_bundle, *run_as, R_OK, "CA bundle"));
  }
  BH_ASSIGN(auto pair, ipc::MakeChannelPair("net", "parent"));
  ipc::Channel& to_net = pair.first;
  ipc::Channel& net_end = pair.second;
  BH_ASSIGN(roles::RoleProcess net, roles::RoleProcess::Start("net", {net_end.fd()}, [&] {
              return roles::RunRenewalInfoRole(std::move(net_end), ca, cert_id, require_full_sandbox);
            }, run_as));
  net_end.Close();
  auto reply = to_net.Receive(roles::kRenewalInfoTimeout);
  Status waited = net.Wait(std::chrono::seconds(10));
  if (!reply.ok()) {
    Error e = reply.error().Wrap("asking the CA for renewal information");
    if (!waited.ok()) {
      e.message += "\n  " + waited.error().message;
    }
    return e;
  }
  return ipc::Reply<ipc::RenewalInfoMsg>(*reply);
}

}  // namespace bulkhead::manager
