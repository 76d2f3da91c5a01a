// bulkhead drill: the hands-off renewal test operators run before they
// trust automation. Every managed certificate (or --name) is ordered anew
// into scratch storage (from Let's Encrypt's staging CA when it comes from
// Let's Encrypt) and checked; nothing live changes. `renew --dry-run` is
// the same run with renew's output.
#include <ctime>
#include <memory>

#include "cli/cli.h"
#include "manager/settings_record.h"
#include "util/log.h"

namespace bulkhead::cli {
namespace {

// DrillReporter keeps the workflow's lines out of drill's report unless
// asked for (-v shows them in the log).
class DrillReporter : public manager::Reporter {
 public:
  void Info(std::string_view name, std::string_view line) override {
    LogInfo("{}: {}", name, line);
  }
  void Warning(std::string_view name, std::string_view text) override {
    LogWarn("{}: {}", name, text);
  }
};

}  // namespace

int DryRunManaged(const GlobalFlags& flags, const std::string& only) {
  store::CertStore certs = CertStoreFor(flags);
  auto run_as = RolesRunAs(flags);
  if (!run_as.ok()) {
    return Fail(run_as.error());
  }
  std::vector<std::string> names;
  if (!only.empty()) {
    if (!store::IsValidCertName(only)) {
      return Fail(ErrCode(ErrorCode::kUsage, "--name: invalid certificate name"));
    }
    names.push_back(only);
  } else {
    auto listed = certs.List();
    if (!listed.ok()) {
      return Fail(listed.error());
    }
    names = std::move(listed).value();
  }
  if (names.empty()) {
    fmt::print("no managed certificates in {}\n", certs.root());
    return kExitOk;
  }
  manager::RunContext ctx = RunContextFor(flags, certs, *run_as);
  DrillReporter reporter;
  int status = kExitOk;
  int failed = 0;
  for (const std::string& name : names) {
    auto state = manager::InspectCertificate(certs, name, ctx.now);
    // Settings as renew would use them: root's record must agree.
    Status trusted = state.ok()
                         ? manager::CheckSettingsRecord(ctx.state_dir, certs, state->settings)
                         : Status(state.error());
    Result<manager::DryRunResult> done =
        trusted.ok() ? manager::DryRun(ctx, state->settings, reporter)
                     : Result<manager::DryRunResult>(trusted.error());
    if (int st = PrintDryRun(done, name); st != kExitOk) {
      status = st;
      ++failed;
    }
  }
  fmt::print("drill: {} of {} certificate{} renewed and checked in scratch storage; nothing live "
             "changed\n",
             names.size() - failed, names.size(), names.size() == 1 ? "" : "s");
  return status;
}

void AddDrillCommand(CLI::App& app, Cli& cli) {
  auto only = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "drill",
      "renew every managed certificate into scratch storage (from Let's Encrypt staging for "
      "Let's Encrypt certificates), check each result, change nothing live (exit 1 if any "
      "fails)");
  cmd->add_option("--name", *only, "only this certificate");
  cmd->callback([&cli, only] { cli.run = [&cli, only] { return DryRunManaged(cli.flags, *only); }; });
}

}  // namespace bulkhead::cli
