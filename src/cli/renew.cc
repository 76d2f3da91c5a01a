// bulkhead renew: renew every managed certificate that is due.
#include <memory>
#include <string_view>

#include "cli/cli.h"
#include "crypto/x509.h"
#include "manager/workflow.h"
#include "util/log.h"

namespace bulkhead::cli {
namespace {

struct RenewOptions {
  std::string name;
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
  manager::RunContext ctx = RunContextFor(flags, certs, *run_as);
  manager::RenewOptions options;
  options.rule = {o.days, o.force};
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
  for (const std::string& name : names) {
    auto done = manager::Renew(ctx, name, options, reporter);
    if (!done.ok()) {
      status = Fail(done.error());
      continue;
    }
    if (!done->issued) {
      continue;
    }
    fmt::print("renewed {} (expires {})\n", name, crypto::FormatTime(done->outcome.leaf.not_after));
    if (PrintTlsaRecords(*done) != kExitOk) {
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
  cmd->add_flag("--no-preflight", o->no_preflight,
                "skip the http-01 pre-flight self-check on this run (the recorded settings keep "
                "it; `issue --no-preflight` turns it off for good)")
      ->envname("BULKHEAD_NO_PREFLIGHT");
  cmd->add_option("--days", o->days, "due when fewer than N days remain")->check(CLI::Range(0, 36500));
  cmd->callback([&cli, o] { cli.run = [&cli, o] { return RunRenew(cli.flags, *o); }; });
}

}  // namespace bulkhead::cli
