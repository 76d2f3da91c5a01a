// bulkhead renew: renew every managed certificate that is due.
#include <memory>
#include <string_view>

#include "cli/cli.h"
#include "config/plan.h"
#include "crypto/x509.h"
#include "manager/renewal_status.h"
#include "monitor/metrics.h"
#include "util/fs.h"
#include "manager/workflow.h"
#include "util/log.h"

namespace bulkhead::cli {
namespace {

struct RenewOptions {
  std::string name;
  std::string metrics_file;
  bool dry_run = false;
  bool cron = false;
  bool force = false;
  int days = -1;
  bool ignore_ledger = false;
  bool no_preflight = false;
};

// RenewReporter prints progress as "<name>: <line>", nothing with --cron;
// warnings always.
class RenewReporter : public manager::Reporter {
 public:
  explicit RenewReporter(bool cron) : cron_(cron) {}
  void Info(std::string_view name, std::string_view line) override {
    if (!cron_) {
      fmt::print("{}: {}\n", name, line);
    }
  }
  void Warning(std::string_view name, std::string_view text) override {
    LogWarn("{}: {}", name, text);
  }

 private:
  bool cron_;
};

// RenewOne renews `name` from its stored settings when due and prints
// what changed; returns the exit status of this certificate.
int RenewOne(const manager::RunContext& ctx, const std::string& name,
             const manager::RenewOptions& options, RenewReporter& reporter) {
  auto done = manager::Renew(ctx, name, options, reporter);
  if (!done.ok() || done->issued) {
    // An attempt (an order was due, or the run failed on the way): kept for
    // the metrics. Failing to keep it only warns; the renewal is what counts.
    Status recorded = manager::RecordRenewalAttempt(ctx.state_dir, name, ctx.now, done.ok(),
                                                    done.ok() ? "" : done.error().message);
    if (!recorded.ok()) {
      LogWarn("{}", recorded.error().message);
    }
  }
  if (!done.ok()) {
    return Fail(done.error());
  }
  if (!done->issued) {
    return kExitOk;
  }
  fmt::print("renewed {} (expires {})\n", name, crypto::FormatTime(done->outcome.leaf.not_after));
  return PrintTlsaRecords(*done);
}

// ApplyConfigStep makes one certificate match the configuration file:
// issues it, re-issues it with the file's settings (saying what differs),
// or renews it when due. Returns the exit status of this certificate.
int ApplyConfigStep(const manager::RunContext& ctx, const config::Config& file,
                    const config::ConfigStep& step, const manager::RenewOptions& options,
                    RenewReporter& reporter, bool cron) {
  switch (step.action) {
    case config::ConfigAction::kKeep:
      return RenewOne(ctx, step.name, options, reporter);
    case config::ConfigAction::kNotInFile:
      // Nothing a human must do: a notice by hand, the log under --cron.
      if (cron) {
        LogInfo("{}: not in {}; renewed from its own settings, never deleted", step.name,
                file.path);
      } else {
        fmt::print("{}: not in {}; renewed from its own settings, never deleted\n", step.name,
                   file.path);
      }
      return RenewOne(ctx, step.name, options, reporter);
    case config::ConfigAction::kIssue:
    case config::ConfigAction::kReissue:
      break;
  }
  manager::CertSettings settings = step.entry->settings;
  settings.run.ignore_ledger = options.ignore_ledger;
  settings.run.quiet = options.quiet;
  // The file is the operator's word: names left out of a table are dropped.
  settings.run.allow_dropped_names = true;
  bool reissue = step.action == config::ConfigAction::kReissue;
  // Without --cron the workflow's reporter says what differs as it starts.
  if (reissue && cron) {
    fmt::print("{}: {} (line {}) differs from what is stored: {}; re-issuing\n", step.name,
               file.path, step.entry->line, fmt::join(step.differences, "; "));
  }
  auto done = manager::Issue(ctx, settings, /*force=*/reissue, reporter);
  if (!done.ok()) {
    return Fail(done.error().Wrap(step.name));
  }
  if (!done->issued) {
    return kExitOk;
  }
  fmt::print("{} {} from {} (version {}, expires {})\n", reissue ? "re-issued" : "issued",
             step.name, file.path, done->outcome.version,
             crypto::FormatTime(done->outcome.leaf.not_after));
  return PrintTlsaRecords(*done);
}

// WithMetrics writes --metrics-file, if given, for every managed
// certificate (not only this run's): expiry, planned renewal, last attempt
// and its result. Returns `status`, or a failure if the file cannot be
// written.
int WithMetrics(const manager::RunContext& ctx, const RenewOptions& o, int status) {
  if (o.metrics_file.empty()) {
    return status;
  }
  monitor::MetricsWriter w;
  auto names = ctx.certs->List();
  auto attempts = manager::LoadRenewalStatus(ctx.state_dir);
  if (!attempts.ok()) {
    LogWarn("{}", attempts.error().message);
  }
  for (const std::string& name : names.ok() ? *names : std::vector<std::string>{}) {
    auto state = manager::InspectCertificate(*ctx.certs, name, ctx.now);
    if (state.ok()) {
      monitor::AppendRenewalPlanned(name, state->decision.renew_at,
                                    state->leaf ? state->leaf->not_after : 0, &w);
    }
    if (attempts.ok()) {
      if (auto it = attempts->find(name); it != attempts->end()) {
        monitor::AppendRenewalAttempt(name, it->second.at, it->second.ok,
                                      it->second.last_success, &w);
      }
    }
  }
  w.Gauge("bulkhead_renew_run_timestamp_seconds", "Unix time of the last renew run", {},
          static_cast<double>(ctx.now));
  Status written = WriteFileAtomic(AbsolutePath(o.metrics_file), w.Text(), 0644);
  if (!written.ok()) {
    return Fail(written.error().Wrap("--metrics-file"));
  }
  return status;
}

int RunRenew(Cli& cli, const RenewOptions& o) {
  const GlobalFlags& flags = cli.flags;
  if (o.dry_run) {
    return DryRunManaged(flags, o.name);
  }
  store::CertStore certs = CertStoreFor(flags);
  auto run_as = RolesRunAs(flags);
  if (!run_as.ok()) {
    return Fail(run_as.error());
  }
  if (!o.name.empty() && !store::IsValidCertName(o.name)) {
    return Fail(ErrCode(ErrorCode::kUsage, "--name: invalid certificate name"));
  }
  manager::RunContext ctx = RunContextFor(flags, certs, *run_as);
  manager::RenewOptions options;
  options.rule = {o.days >= 0 ? o.days : flags.renew_days, o.force};
  options.ignore_ledger = o.ignore_ledger;
  options.quiet = o.cron;
  options.skip_preflight = o.no_preflight;
  if (flags.ca_bundle_given) {
    options.ca_bundle = AbsolutePath(flags.ca_bundle);
  }
  RenewReporter reporter(o.cron);
  int status = kExitOk;
  // Role processes start only for a certificate that is due: a run with
  // nothing to do never touches the network or a key.
  if (cli.config) {
    auto steps = config::PlanConfig(*cli.config, certs);
    if (!steps.ok()) {
      return Fail(steps.error());
    }
    bool found = o.name.empty();
    for (const config::ConfigStep& step : *steps) {
      if (!o.name.empty() && step.name != o.name) {
        continue;
      }
      found = true;
      if (int st = ApplyConfigStep(ctx, *cli.config, step, options, reporter, o.cron);
          st != kExitOk) {
        status = st;
      }
    }
    if (!found) {
      return Fail(ErrCode(ErrorCode::kUsage, "{}: neither managed nor in {}", o.name,
                          cli.config->path));
    }
    return WithMetrics(ctx, o, status);
  }
  std::vector<std::string> names;
  if (!o.name.empty()) {
    names.push_back(o.name);
  } else {
    auto listed = certs.List();
    if (!listed.ok()) {
      return Fail(listed.error());
    }
    names = std::move(listed).value();
  }
  for (const std::string& name : names) {
    if (int st = RenewOne(ctx, name, options, reporter); st != kExitOk) {
      status = st;
    }
  }
  return WithMetrics(ctx, o, status);
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
  cmd->add_flag("--no-preflight", o->no_preflight,
                "skip the http-01 pre-flight self-check on this run (the recorded settings keep "
                "it; `issue --no-preflight` turns it off for good)")
      ->envname("BULKHEAD_NO_PREFLIGHT");
  cmd->add_flag("--dry-run", o->dry_run,
                "renew every certificate (or --name) for real into scratch storage, from Let's "
                "Encrypt's staging CA for Let's Encrypt certificates; change nothing live");
  cmd->add_option("--metrics-file", o->metrics_file,
                  "write a Prometheus textfile: per certificate not-after, planned renewal, "
                  "last attempt and its result (atomically, mode 0644)");
  cmd->add_option("--days", o->days, "due when fewer than N days remain")->check(CLI::Range(0, 36500));
  cmd->callback([&cli, o] { cli.run = [&cli, o] { return RunRenew(cli, *o); }; });
}

}  // namespace bulkhead::cli
