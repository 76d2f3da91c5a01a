// bulkhead list: the managed certificates, their expiry and renewal plan.
#include <nlohmann/json.hpp>

#include <ctime>
#include <memory>

#include "cli/cli.h"
#include "crypto/x509.h"
#include "dns/idn.h"
#include "manager/manager.h"
#include "manager/versions.h"
#include "util/days.h"

namespace bulkhead::cli {
namespace {

// VersionsJson describes the kept versions of `name`, newest first.
nlohmann::json VersionsJson(const store::CertStore& certs, const std::string& name, int64_t now) {
  nlohmann::json out = nlohmann::json::array();
  auto versions = manager::CheckVersions(certs, name, now);
  if (!versions.ok()) {
    return out;
  }
  for (const manager::VersionCheck& v : *versions) {
    nlohmann::json j = {{"version", v.version},
                        {"live", v.live},
                        {"has_key", v.has_key},
                        {"usable", v.usable()},
                        {"problems", v.problems}};
    if (v.leaf) {
      j["serial"] = v.leaf->serial_hex;
      j["not_after"] = crypto::FormatTime(v.leaf->not_after);
      j["names"] = v.leaf->names;
    }
    j["settings_names"] = v.settings_names ? nlohmann::json(*v.settings_names) : nullptr;
    out.push_back(std::move(j));
  }
  return out;
}

// PrintVersions prints the "versions" of one entry of list's JSON.
void PrintVersions(const nlohmann::json& entry) {
  fmt::print("\n{}\n  {:<7} {:<4} {:<21} {:<4} {:<40} {}\n", entry["name"].get<std::string>(),
             "VERSION", "LIVE", "EXPIRES", "KEY", "SERIAL", "STATE");
  for (const auto& v : entry["versions"]) {
    std::string state = "ok";
    if (!v["problems"].empty()) {
      state.clear();
      for (const auto& p : v["problems"]) {
        state += (state.empty() ? "" : "; ") + p.get<std::string>();
      }
    }
    fmt::print("  {:<7} {:<4} {:<21} {:<4} {:<40} {}\n", v["version"].get<int>(),
               v["live"].get<bool>() ? "*" : "", v.value("not_after", std::string("-")),
               v["has_key"].get<bool>() ? "yes" : "no", v.value("serial", std::string("-")),
               state);
  }
}

// DueColumn is the DUE column of one entry of list's JSON: yes, no, or
// "revoked" for a revoked certificate renew leaves alone.
std::string DueColumn(const nlohmann::json& j) {
  if (j["due"].get<bool>()) {
    return "yes";
  }
  return j["revoked"].get<bool>() ? "revoked" : "no";
}

int RunList(const GlobalFlags& flags, bool as_json, bool versions) {
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
                        {"reason", st->decision.reason},
                        {"revoked", st->revoked}};
    if (st->live) {
      j["version"] = st->live->version;
      j["live_dir"] = certs.CertDir(name) + "/live";
      // What a server loads must parse and match; damage is shown here,
      // and renew repairs it.
      j["live_damage"] = manager::LiveDamage(certs, name, st->live->version, now);
    }
    if (st->leaf) {
      j["not_before"] = crypto::FormatTime(st->leaf->not_before);
      j["not_after"] = crypto::FormatTime(st->leaf->not_after);
      j["days_left"] = DaysLeft(st->leaf->not_after, now);
      j["issuer"] = st->leaf->issuer_cn;
      j["serial"] = st->leaf->serial_hex;
    }
    if (versions) {
      j["versions"] = VersionsJson(certs, name, now);
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
      // An IDN in both forms: what the CA certified and what people type.
      names_joined += (names_joined.empty() ? "" : ",") + dns::DisplayName(n.get<std::string>());
    }
    fmt::print("{:<30} {:>5} {:<21} {:<8} {}\n", j["name"].get<std::string>(),
               j.contains("days_left") ? std::to_string(j["days_left"].get<int64_t>()) : "-",
               j.value("not_after", std::string("-")), DueColumn(j), names_joined);
    if (j.contains("live_damage") && !j["live_damage"].empty()) {
      std::string damage;
      for (const auto& d : j["live_damage"]) {
        damage += (damage.empty() ? "" : "; ") + d.get<std::string>();
      }
      fmt::print("  ! {}: the live files are damaged: {}; `bulkhead renew --name {}` repairs "
                 "them\n",
                 j["name"].get<std::string>(), damage, j["name"].get<std::string>());
    }
  }
  // What the DUE column cannot say: why a revoked certificate stays.
  for (const auto& j : out) {
    if (j["revoked"].get<bool>() && !j["due"].get<bool>()) {
      fmt::print("{}: {}\n", j["name"].get<std::string>(), j["reason"].get<std::string>());
    }
  }
  if (versions) {
    for (const auto& j : out) {
      PrintVersions(j);
    }
  }
  return status;
}

}  // namespace

void AddListCommand(CLI::App& app, Cli& cli) {
  auto as_json = std::make_shared<bool>(false);
  auto versions = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("list", "show managed certificates");
  cmd->add_flag("--json", *as_json, "machine-readable output");
  cmd->add_flag("--versions", *versions,
                "also show each kept version: expiry, serial, key, and whether rollback may use "
                "it");
  cmd->callback([&cli, as_json, versions] {
    cli.run = [&cli, as_json, versions] { return RunList(cli.flags, *as_json, *versions); };
  });
}

}  // namespace bulkhead::cli
