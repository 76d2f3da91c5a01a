// bulkhead doctor: audits keys, directories and the kernel's sandbox
// features against the compartment invariants. The checks live in
// manager/doctor; this file only parses flags and prints.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>

#include "cli/cli.h"
#include "manager/doctor.h"
#include "manager/ids_policy.h"

namespace bulkhead::cli {
namespace {

struct DoctorFlags {
  std::string web_user;
  std::string cert_name;
  bool json = false;
  std::string ids_policy;
};

// PrintIdsPolicy prints the integrity checker's rules for the state
// directory, resolved to its real path (a checker does not follow the
// symlinks on the way).
int PrintIdsPolicy(const GlobalFlags& flags, const std::string& format_name) {
  auto format = manager::ParseIdsFormat(format_name);
  if (!format.ok()) {
    return Fail(format.error());
  }
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::canonical(StateDir(flags), ec);
  if (ec) {
    return Fail(Err("state directory {}: {}", StateDir(flags), ec.message()));
  }
  auto rules = *format == manager::IdsFormat::kAide ? manager::AidePolicy(dir.string())
                                                    : manager::MtreePolicy(dir.string());
  if (!rules.ok()) {
    return Fail(rules.error());
  }
  fmt::print("{}", *rules);
  return kExitOk;
}

int RunDoctorCommand(const GlobalFlags& flags, const DoctorFlags& doctor) {
  if (!doctor.ids_policy.empty()) {
    return PrintIdsPolicy(flags, doctor.ids_policy);
  }
  manager::DoctorOptions options;
  options.state_dir = StateDir(flags);
  options.web_user = doctor.web_user;
  options.cert_name = doctor.cert_name;
  auto run_as = RolesRunAs(flags);
  if (!run_as.ok()) {
    return Fail(run_as.error());
  }
  options.run_as = *run_as;
  options.is_root = ::geteuid() == 0;
  auto results = manager::RunDoctor(options);
  if (!results.ok()) {
    return Fail(results.error());
  }
  if (doctor.json) {
    // Replace invalid UTF-8 (an odd path) instead of throwing.
    fmt::print("{}\n",
               manager::ChecksToJson(*results).dump(2, ' ', /*ensure_ascii=*/false,
                                                    nlohmann::json::error_handler_t::replace));
  } else {
    for (const manager::CheckResult& r : *results) {
      fmt::print("{}\n", manager::FormatCheck(r));
    }
  }
  return manager::AnyFailed(*results) ? kExitFailure : kExitOk;
}

}  // namespace

void AddDoctorCommand(CLI::App& app, Cli& cli) {
  auto doctor = std::make_shared<DoctorFlags>();
  CLI::App* cmd = app.add_subcommand(
      "doctor", "check key and directory permissions and the kernel sandbox (exit 1 on FAIL)");
  cmd->add_option("--web-user", doctor->web_user,
                  "the web server's user: must read the challenge directory, write nothing");
  cmd->add_option("--cert-name", doctor->cert_name, "check only this certificate");
  cmd->add_flag("--json", doctor->json, "machine-readable output: [{check,status,detail,fix}]");
  cmd->add_option("--ids-policy", doctor->ids_policy,
                  "print rules for an integrity checker instead (aide: for aide.conf.d; mtree: "
                  "a specification of the state directory now): account keys must never change, "
                  "certificates may")
      ->check(CLI::IsMember({"aide", "mtree"}));
  cmd->callback([&cli, doctor] {
    cli.run = [&cli, doctor] { return RunDoctorCommand(cli.flags, *doctor); };
  });
}

}  // namespace bulkhead::cli
