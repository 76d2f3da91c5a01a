// bulkhead renew: renew every managed certificate that is due.
#include <unistd.h>

#include <ctime>
#include <map>
#include <memory>

#include "cli/cli.h"
#include "crypto/x509.h"
#include "manager/issue_run.h"
#include "manager/manager.h"
#include "manager/settings_record.h"
#include "util/log.h"

namespace bulkhead::cli {
namespace {

struct RenewOptions {
  std::string name;
  bool cron = false;
  bool force = false;
  int days = -1;
  bool ignore_ledger = false;
};

int RunRenew(const GlobalFlags& flags, const RenewOptions& o) {
  store::CertStore certs = CertStoreFor(flags);
  auto run_as = RolesRunAs(flags);
  if (!run_as.ok()) {
    return Fail(run_as.error());
  }
  std::vector<std::string> names;
  if (!o.name.empty()) {
    if (!store::IsValidCertName(o.name)) {
      return Fail(ErrCode(ErrorCode::kUsage, "--name: invalid certificate name"));
    }
    names.push_back(o.name);
  } else {
    auto listed = certs.List();
    if (!listed.ok()) {
      return Fail(listed.error());
    }
    names = std::move(listed).value();
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  int status = kExitOk;
  // Role processes start only for a certificate that is due: a run with
  // nothing to do never touches the network or a key.
  for (const std::string& name : names) {
    auto state = manager::InspectCertificate(certs, name, now, {o.days, o.force});
    if (!state.ok()) {
      status = Fail(state.error().Wrap(name));
      continue;
    }
    // As root, settings.json (written by the roles' user) must match root's
    // own record before root acts on anything it says.
    if (Status trusted = manager::CheckSettingsRecord(StateDir(flags), certs, state->settings);
        !trusted.ok()) {
      status = Fail(trusted.error().Wrap(name));
      continue;
    }
    // The CA's renewal window (ARI), asked for only when the stored answer
    // has expired (Retry-After): most runs stay offline.
    if (state->leaf && !o.force && o.days < 0 && !state->decision.due) {
      manager::CaConfig ca{state->settings.server,
                           flags.ca_bundle_given ? AbsolutePath(flags.ca_bundle)
                                                 : state->settings.ca_bundle,
                           flags.http_timeout_seconds * 1000L};
      Status refreshed = manager::RefreshRenewalInfo(certs, ca, &*state, now, o.days, o.force,
                                                     flags.require_sandbox, *run_as);
      if (!refreshed.ok()) {
        LogWarn("{}: {}", name, refreshed.error().message);
      }
    }
    // DANE: every run looks whether the next key's TLSA record is
    // published, so its wait is over by the time renewal is due.
    manager::CertSettings& s = state->settings;
    bool fresh_key = !s.reuse_key || s.revoked_key_compromise;
    roles::KeyChoice key = manager::KeyChoiceFor(s, fresh_key);
    manager::DaneContext dane{&certs, now, flags.require_sandbox,
                              ::geteuid() == 0 ? *run_as : std::nullopt};
    if (manager::DaneActive(s)) {
      auto plan = manager::PlanDaneKey(dane, s, state->leaf, s.revoked_key_compromise);
      if (!plan.ok()) {
        status = Fail(plan.error().Wrap(name));
        continue;
      }
      if (!plan->warning.empty()) {
        LogWarn("{}: {}", name, plan->warning);
      }
      if (!o.cron) {
        fmt::print("{}: {}\n", name, plan->status);
      }
      key = plan->key;
    }
    if (!state->decision.due) {
      if (!o.cron) {
        fmt::print("{}: {}\n", name, state->decision.reason);
      }
      continue;
    }
    if (flags.ca_bundle_given) {
      s.ca_bundle = AbsolutePath(flags.ca_bundle);
    }
    s.run.ignore_ledger = o.ignore_ledger;
    if (state->leaf && state->ari && state->ari->supported) {
      // RFC 9773: name the certificate this one replaces, and renewals
      // inside the CA's window are exempt from its rate limits.
      s.run.replaces = state->ari->cert_id;
      s.run.ari_exempt = renew::InsideWindow(&*state->ari, state->ari->cert_id, now);
    }
    manager::CaConfig ca{s.server, s.ca_bundle, flags.http_timeout_seconds * 1000L};
    auto out = manager::IssueInCompartments(StateDir(flags), ca, certs, s, key,
                                            flags.require_sandbox, *run_as);
    if (!out.ok()) {
      status = Fail(out.error().Wrap("renewing"));
      continue;
    }
    fmt::print("renewed {} (expires {})\n", name, crypto::FormatTime(out->leaf.not_after));
    if (manager::DaneActive(s) && PrintDaneRecords(dane, s) != kExitOk) {
      status = kExitFailure;
    }
  }
  return status;
}

}  // namespace

void AddRenewCommand(CLI::App& app, Cli& cli) {
  auto o = std::make_shared<RenewOptions>();
  CLI::App* cmd = app.add_subcommand("renew", "renew managed certificates that are due");
  cmd->add_option("--name", o->name, "only this certificate");
  cmd->add_flag("--cron", o->cron, "print nothing unless something changed or failed");
  cmd->add_flag("--force", o->force, "renew even if not due");
  cmd->add_flag("--ignore-ledger", o->ignore_ledger,
                "order even if the rate-limit ledger says the CA would refuse");
  cmd->add_option("--days", o->days, "due when fewer than N days remain")->check(CLI::Range(0, 36500));
  cmd->callback([&cli, o] { cli.run = [&cli, o] { return RunRenew(cli.flags, *o); }; });
}

}  // namespace bulkhead::cli
