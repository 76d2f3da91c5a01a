// bulkhead config check: validates the configuration file and prints what
// `renew` would do with it. The parsing lives in config/config, the
// comparison with the state in config/plan; this file only prints.
#include <ctime>
#include <memory>

#include "cli/cli.h"
#include "config/plan.h"
#include "crypto/x509.h"

namespace bulkhead::cli {
namespace {

// DescribeStep says in one line what renew would do for `step`.
std::string DescribeStep(const config::ConfigStep& step, const store::CertStore& certs,
                         int renew_days, int64_t now) {
  switch (step.action) {
    case config::ConfigAction::kIssue:
      return "issue: in the file, not managed yet";
    case config::ConfigAction::kReissue:
      return "re-issue: " + fmt::format("{}", fmt::join(step.differences, "; "));
    case config::ConfigAction::kKeep:
    case config::ConfigAction::kNotInFile:
      break;
  }
  std::string prefix = step.action == config::ConfigAction::kKeep
                           ? "matches the file; "
                           : "not in the file: left as it is (never deleted); ";
  auto state = manager::InspectCertificate(certs, step.name, now, {renew_days, false});
  if (!state.ok()) {
    return prefix + "cannot tell when it is due: " + state.error().message;
  }
  if (state->decision.due) {
    return prefix + "renew now (" + state->decision.reason + ")";
  }
  return prefix + "renew at " + crypto::FormatTime(state->decision.renew_at);
}

int RunConfigCheck(Cli& cli) {
  if (!cli.config) {
    std::string path = cli.flags.config_file.empty()
                           ? config::DefaultConfigPath(::geteuid() == 0)
                           : cli.flags.config_file;
    return Fail(ErrCode(ErrorCode::kUsage,
                        "no configuration file: {} does not exist (or give --config FILE)",
                        path.empty() ? "the default path" : path));
  }
  store::CertStore certs = CertStoreFor(cli.flags);
  auto steps = config::PlanConfig(*cli.config, certs);
  if (!steps.ok()) {
    return Fail(steps.error());
  }
  fmt::print("{}: valid, {} certificate{}\n", cli.config->path, cli.config->certificates.size(),
             cli.config->certificates.size() == 1 ? "" : "s");
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const config::ConfigStep& step : *steps) {
    fmt::print("  {}: {}\n", step.name, DescribeStep(step, certs, cli.flags.renew_days, now));
  }
  return kExitOk;
}

}  // namespace

void AddConfigCommand(CLI::App& app, Cli& cli) {
  CLI::App* cmd = app.add_subcommand("config", "the configuration file (TOML)");
  cmd->require_subcommand(1);
  CLI::App* check = cmd->add_subcommand(
      "check", "validate the file (errors name file, line and key) and print what renew would do");
  check->callback([&cli] { cli.run = [&cli] { return RunConfigCheck(cli); }; });
}

}  // namespace bulkhead::cli
