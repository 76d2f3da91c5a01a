#include "manager/workflow.h"

#include <unistd.h>

#include <utility>

#include <fmt/ranges.h>

#include "manager/dane.h"
#include "manager/issue_run.h"
#include "manager/settings_input.h"
#include "manager/settings_record.h"
#include "manager/versions.h"
#include "renew/ari.h"

namespace bulkhead::manager {
namespace {

DaneContext DaneContextFor(const RunContext& ctx) {
  // The DNS and keys roles of the DANE steps switch user only when there
  // is a user to switch from.
  return DaneContext{ctx.certs, ctx.now, ctx.require_full_sandbox,
                     ::geteuid() == 0 ? ctx.run_as : std::nullopt};
}

// PlanKey is the key the coming certificate uses: the usual choice, or for
// a certificate with TLSA records what the DANE plan decides (its status
// and warning go to `reporter`).
Result<roles::KeyChoice> PlanKey(const DaneContext& dane, const CertSettings& s,
                                 const std::optional<crypto::CertInfo>& leaf, bool fresh_key,
                                 Reporter& reporter) {
  if (!DaneActive(s)) {
    return KeyChoiceFor(s, fresh_key);
  }
  BH_ASSIGN(DanePlan plan, PlanDaneKey(dane, s, leaf, s.revoked_key_compromise));
  if (!plan.warning.empty()) {
    reporter.Warning(s.name, plan.warning);
  }
  reporter.Info(s.name, plan.status);
  return plan.key;
}

// RunAndFinish issues `s` with `key` and, for a certificate with TLSA
// records, computes the records to publish.
Result<WorkflowResult> RunAndFinish(const RunContext& ctx, const DaneContext& dane,
                                    const CertSettings& s, roles::KeyChoice key) {
  CaConfig ca{s.server, s.ca_bundle, ctx.http_timeout_ms};
  WorkflowResult result;
  BH_ASSIGN(result.outcome, IssueInCompartments(ctx.state_dir, ca, *ctx.certs, s, key,
                                                ctx.require_full_sandbox, ctx.run_as));
  result.issued = true;
  if (DaneActive(s)) {
    auto records = FinishDaneKey(dane, s);
    if (records.ok()) {
      result.tlsa_records = std::move(records).value();
    } else {
      result.dane_error = records.error().Wrap(s.name + ": DANE");
    }
  }
  return result;
}

}  // namespace

Result<WorkflowResult> Issue(const RunContext& ctx, const CertSettings& settings, bool force,
                             Reporter& reporter) {
  std::optional<CertState> state;
  if (auto inspected = InspectCertificate(*ctx.certs, settings.name, ctx.now);
      inspected.ok()) {
    state = std::move(inspected).value();
  }
  // What the stored certificate is and what is asked for now: any
  // difference is a reason to re-issue, said before the order starts.
  std::vector<std::string> differences;
  if (state) {
    differences = SettingsDifferences(state->settings, settings);
    std::vector<std::string> dropped = DroppedNames(state->settings, settings);
    if (!dropped.empty() && !settings.run.allow_dropped_names) {
      return ErrCode(ErrorCode::kUsage,
                     "{} also covers {}, which this command leaves out; re-issue without {} "
                     "with --force, or name {} again",
                     settings.name, fmt::join(dropped, ", "),
                     dropped.size() == 1 ? "it" : "them", dropped.size() == 1 ? "it" : "them");
    }
  }
  // A revoked certificate is replaced by `issue` (one of the ways out that
  // renew names), even though renew leaves it alone.
  if (!force && state && state->leaf && !state->decision.due && !state->revoked &&
      differences.empty()) {
    WorkflowResult result;
    result.reason = state->decision.reason;
    return result;
  }
  if (!differences.empty()) {
    reporter.Info(settings.name, fmt::format("differs from what is stored ({}); re-issuing",
                                             fmt::join(differences, "; ")));
  }
  DaneContext dane = DaneContextFor(ctx);
  // Reissuing a certificate with TLSA records changes its key only as
  // safely as a renewal would.
  std::optional<crypto::CertInfo> leaf = state ? state->leaf : std::nullopt;
  BH_ASSIGN(roles::KeyChoice key, PlanKey(dane, settings, leaf, /*fresh_key=*/false, reporter));
  return RunAndFinish(ctx, dane, settings, key);
}

Result<WorkflowResult> Renew(const RunContext& ctx, const std::string& name,
                             const RenewOptions& options, Reporter& reporter) {
  auto inspected = InspectCertificate(*ctx.certs, name, ctx.now, options.rule);
  if (!inspected.ok()) {
    return inspected.error().Wrap(name);
  }
  // As root, settings.json (written by the roles' user) must match root's
  // own record before root acts on anything it says.
  if (Status trusted = CheckSettingsRecord(ctx.state_dir, *ctx.certs, inspected->settings);
      !trusted.ok()) {
    return trusted.error().Wrap(name);
  }
  // The files a server loads must be whole: a damaged live set is repaired
  // from the newest good version, or else re-issued now.
  if (inspected->live) {
    std::vector<std::string> damage =
        LiveDamage(*ctx.certs, name, inspected->live->version, ctx.now);
    if (!damage.empty()) {
      std::string what = fmt::format("live version {} is damaged ({})", inspected->live->version,
                                     fmt::join(damage, "; "));
      auto repaired = Rollback(*ctx.certs, name, std::nullopt, ctx.now);
      if (repaired.ok()) {
        reporter.Warning(name, fmt::format("{}; live is now version {}, the newest good one",
                                           what, repaired->to.version));
        inspected = InspectCertificate(*ctx.certs, name, ctx.now, options.rule);
        if (!inspected.ok()) {
          return inspected.error().Wrap(name);
        }
      } else {
        reporter.Warning(name, what + "; no kept version is good, re-issuing");
        inspected->decision.due = true;
        inspected->decision.reason = "the live files are damaged";
      }
    }
  }
  CertState& state = *inspected;
  CertSettings& s = state.settings;
  if (options.ca_bundle) {
    s.ca_bundle = *options.ca_bundle;
  }
  // The CA's renewal window (ARI), asked for only when the stored answer
  // has expired (Retry-After): most runs stay offline.
  if (state.leaf && !state.revoked && !options.rule.force && options.rule.days < 0 &&
      !state.decision.due) {
    CaConfig ca{s.server, s.ca_bundle, ctx.http_timeout_ms};
    Status refreshed =
        RefreshRenewalInfo(*ctx.certs, ca, &state, ctx.now, options.rule.days,
                           options.rule.force, ctx.require_full_sandbox, ctx.run_as);
    if (!refreshed.ok()) {
      reporter.Warning(name, refreshed.error().message);
    }
  }
  // DANE: every run looks whether the next key's TLSA record is
  // published, so its wait is over by the time renewal is due.
  DaneContext dane = DaneContextFor(ctx);
  bool fresh_key = !s.reuse_key || s.revoked_key_compromise;
  auto key = PlanKey(dane, s, state.leaf, fresh_key, reporter);
  if (!key.ok()) {
    return key.error().Wrap(name);
  }
  if (!state.decision.due) {
    reporter.Info(name, state.decision.reason);
    WorkflowResult result;
    result.reason = state.decision.reason;
    return result;
  }
  s.run.ignore_ledger = options.ignore_ledger;
  s.run.quiet = options.quiet;
  s.run.skip_preflight = options.skip_preflight;
  if (state.leaf && state.ari && state.ari->supported) {
    // RFC 9773: name the certificate this one replaces, and renewals
    // inside the CA's window are exempt from its rate limits.
    s.run.replaces = state.ari->cert_id;
    s.run.ari_exempt = renew::InsideWindow(&*state.ari, state.ari->cert_id, ctx.now);
  }
  auto result = RunAndFinish(ctx, dane, s, *key);
  if (!result.ok()) {
    return result.error().Wrap("renewing");
  }
  return result;
}

}  // namespace bulkhead::manager
