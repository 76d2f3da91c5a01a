// `bulkhead plan`: when each managed certificate will be renewed, and why.
#include <nlohmann/json.hpp>

#include <ctime>
#include <memory>

#include "cli/cli.h"
#include "crypto/x509.h"
#include "manager/dane.h"
#include "manager/manager.h"

namespace bulkhead::cli {
namespace {

// kSafetyMargin: a renewal planned later than this before expiry leaves no
// room for a failed run or two, so `plan` flags it.
constexpr int64_t kMinMarginSeconds = 86400;

// Basis names what decided the renewal time.
std::string Basis(const manager::CertState& st) {
  if (!st.leaf) {
    return "no certificate";
  }
  if (st.revoked) {
    return "revoked";
  }
  if (st.decision.reason.find("renewal window") != std::string::npos) {
    return "ARI window";
  }
  return "lifetime rule";
}

// RenewAt is when the certificate will be renewed, or "never" for a revoked
// one that renew leaves alone.
std::string RenewAt(const manager::CertState& st) {
  if (st.revoked && !st.decision.due) {
    return "never";
  }
  return crypto::FormatTime(st.decision.renew_at);
}

// DaneSummary describes, from dane.json alone (no DNS), which key the next
// renewal of a certificate with TLSA records would use.
nlohmann::json DaneSummary(const store::CertStore& certs, const std::string& name, int64_t now) {
  auto state = manager::LoadDaneState(manager::DanePath(certs, name));
  if (!state.ok()) {
    return {{"error", state.error().message}};
  }
  dns::RolloverDecision d = dns::DecideRollover(*state, /*reuse_key=*/false, now);
  nlohmann::json j = {{"next_key", !state->next_spki.empty()},
                      {"reason", d.reason}};
  if (state->next_published_since > 0) {
    j["next_record_served_since"] = crypto::FormatTime(state->next_published_since);
    j["ttl"] = state->ttl;
    j["next_key_usable_from"] = crypto::FormatTime(d.not_before);
  }
  j["renewal_key"] = d.action == dns::RolloverAction::kRollNow ? "next" : "current";
  return j;
}

int RunPlan(const GlobalFlags& flags, bool as_json) {
  store::CertStore certs = CertStoreFor(flags);
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  int status = kExitOk;
  auto describe = [&](const std::string& name, const manager::CertState& state) {
    const manager::CertState* st = &state;
    nlohmann::json j = {{"name", name},
                        {"basis", Basis(*st)},
                        {"due", st->decision.due},
                        {"renew_at", RenewAt(*st)},
                        {"reason", st->decision.reason},
                        {"at_risk", false}};
    if (st->leaf) {
      int64_t lifetime = st->leaf->not_after - st->leaf->not_before;
      int64_t margin = std::max<int64_t>(kMinMarginSeconds / 6, lifetime / 6);
      margin = std::min(margin, kMinMarginSeconds);
      j["expires"] = crypto::FormatTime(st->leaf->not_after);
      j["at_risk"] = !st->revoked && st->decision.renew_at > st->leaf->not_after - margin;
      j["margin_seconds"] = margin;
    }
    if (manager::DaneActive(st->settings)) {
      j["dane"] = DaneSummary(certs, name, now);
    }
    if (st->ari && st->ari->supported) {
      j["ari"] = {{"window_start", crypto::FormatTime(st->ari->window_start)},
                  {"window_end", crypto::FormatTime(st->ari->window_end)},
                  {"next_check", crypto::FormatTime(st->ari->next_check)}};
      if (!st->ari->explanation_url.empty()) {
        j["ari"]["explanation_url"] = st->ari->explanation_url;
      }
    }
    return j;
  };
  nlohmann::json out = InspectAllManaged(certs, now, describe, &status);
  if (PrintedJsonOrNone(certs, out, as_json)) {
    return status;
  }
  fmt::print("{:<30} {:<21} {:<21} {:<14} {}\n", "NAME", "EXPIRES", "RENEW AT", "BASIS", "NOTE");
  for (const auto& j : out) {
    std::string note = j["due"].get<bool>()          ? "due now"
                       : j["basis"] == "revoked" ? j["reason"].get<std::string>()
                                                 : "";
    if (j.contains("dane") && j["dane"].contains("renewal_key")) {
      const nlohmann::json& d = j["dane"];
      note += std::string(note.empty() ? "" : "; ") +
              (d["renewal_key"] == "next" ? std::string("DANE: renews with the next key")
               : d.contains("next_key_usable_from")
                   ? "DANE: current key until " + d["next_key_usable_from"].get<std::string>()
                   : std::string("DANE: next key's TLSA record not served yet"));
    }
    if (j["at_risk"].get<bool>()) {
      note += std::string(note.empty() ? "" : "; ") + "AT RISK: renewal planned too close to expiry";
    }
    fmt::print("{:<30} {:<21} {:<21} {:<14} {}\n", j["name"].get<std::string>(),
               j.value("expires", std::string("-")), j["renew_at"].get<std::string>(),
               j["basis"].get<std::string>(), note);
  }
  return status;
}

}  // namespace

void AddPlanCommand(CLI::App& app, Cli& cli) {
  auto as_json = std::make_shared<bool>(false);
  CLI::App* cmd =
      app.add_subcommand("plan", "show when each certificate will be renewed, and why");
  cmd->add_flag("--json", *as_json, "machine-readable output");
  cmd->callback(
      [&cli, as_json] { cli.run = [&cli, as_json] { return RunPlan(cli.flags, *as_json); }; });
}

}  // namespace bulkhead::cli
