// bulkhead list: the managed certificates, their expiry and renewal plan.
#include <nlohmann/json.hpp>

#include <ctime>
#include <memory>

#include "cli/cli.h"
#include "crypto/x509.h"
#include "manager/manager.h"
#include "util/days.h"

namespace bulkhead::cli {
namespace {

int RunList(const GlobalFlags& flags, bool as_json) {
  store::CertStore certs = CertStoreFor(flags);
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  int status = kExitOk;
  auto describe = [&](const std::string& name, const manager::CertState& state) {
    const manager::CertState* st = &state;
    nlohmann::json j = {{"name", name},
                        {"names", st->settings.names},
                        {"key_type", crypto::KeyTypeName(st->settings.key_type)},
                        {"server", st->settings.server},
                        {"due", st->decision.due},
                        {"renew_at", crypto::FormatTime(st->decision.renew_at)},
                        {"reason", st->decision.reason}};
    if (st->live) {
      j["version"] = st->live->version;
      j["live_dir"] = certs.CertDir(name) + "/live";
    }
    if (st->leaf) {
      j["not_before"] = crypto::FormatTime(st->leaf->not_before);
      j["not_after"] = crypto::FormatTime(st->leaf->not_after);
      j["days_left"] = DaysLeft(st->leaf->not_after, now);
      j["issuer"] = st->leaf->issuer_cn;
      j["serial"] = st->leaf->serial_hex;
    }
    return j;
  };
  nlohmann::json out = InspectAllManaged(certs, now, describe, &status);
  if (PrintedJsonOrNone(certs, out, as_json)) {
    return status;
  }
  fmt::print("{:<30} {:>5} {:<21} {:<8} {}\n", "NAME", "DAYS", "EXPIRES", "DUE", "NAMES");
  for (const auto& j : out) {
    std::string names_joined;
    for (const auto& n : j["names"]) {
      names_joined += (names_joined.empty() ? "" : ",") + n.get<std::string>();
    }
    fmt::print("{:<30} {:>5} {:<21} {:<8} {}\n", j["name"].get<std::string>(),
               j.contains("days_left") ? std::to_string(j["days_left"].get<int64_t>()) : "-",
               j.value("not_after", std::string("-")), j["due"].get<bool>() ? "yes" : "no",
               names_joined);
  }
  return status;
}

}  // namespace

void AddListCommand(CLI::App& app, Cli& cli) {
  auto as_json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("list", "show managed certificates");
  cmd->add_flag("--json", *as_json, "machine-readable output");
  cmd->callback([&cli, as_json] { cli.run = [&cli, as_json] { return RunList(cli.flags, *as_json); }; });
}

}  // namespace bulkhead::cli
