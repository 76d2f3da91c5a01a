// bulkhead rollback: points `live` back at an earlier kept version after a
// bad deployment. The choice and the checks live in manager/versions; this
// file only parses flags and prints.
#include <charconv>
#include <ctime>
#include <memory>
#include <optional>

#include "cli/cli.h"
#include "dns/tlsa.h"
#include "manager/dane.h"
#include "manager/settings.h"
#include "manager/versions.h"

namespace bulkhead::cli {
namespace {

struct RollbackOptions {
  std::string name;
  std::optional<int> to;
};

std::string Summary(const manager::VersionCheck& v) {
  if (!v.leaf) {
    return fmt::format("version {}", v.version);
  }
  return fmt::format("version {} (serial {}, expires {})", v.version, v.leaf->serial_hex,
                     crypto::FormatTime(v.leaf->not_after));
}

int RunRollback(const GlobalFlags& flags, const RollbackOptions& o) {
  if (!store::IsValidCertName(o.name)) {
    return Fail(ErrCode(ErrorCode::kUsage, "--name: invalid certificate name"));
  }
  store::CertStore certs = CertStoreFor(flags);
  // The settings say whether this is a managed certificate, and whether it
  // has TLSA records the rolled-back key must match.
  auto settings_json = certs.LoadSettings(o.name);
  if (!settings_json.ok()) {
    return Fail(settings_json.error());
  }
  auto settings = manager::CertSettings::FromJson(*settings_json, o.name);
  if (!settings.ok()) {
    return Fail(settings.error());
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  auto done = manager::Rollback(certs, o.name, o.to, now);
  if (!done.ok()) {
    return Fail(done.error().Wrap(fmt::format("rollback {}", o.name)));
  }
  for (const std::string& skipped : done->passed_over) {
    fmt::print("passed over {}\n", skipped);
  }
  fmt::print("{}: live is now {}; was {}\n", o.name, Summary(done->to), Summary(done->from));
  if (done->to.settings_names && *done->to.settings_names != settings->names) {
    fmt::print("note: version {} was issued for {}; the next renewal uses the current settings "
               "({})\n",
               done->to.version, fmt::join(*done->to.settings_names, ", "),
               fmt::join(settings->names, ", "));
  }
  if (manager::DaneActive(*settings) && done->to.leaf) {
    // DANE-EE 3 1 1 records name the key: the rolled-back certificate's key
    // may no longer be published after a rollover.
    fmt::print("warning: {} has TLSA records; before the server reloads, publish the record "
               "of the rolled-back key if it is not published any more:\n",
               o.name);
    dns::TlsaRecord record;
    Status computed = dns::ComputeTlsa({*done->to.leaf}, &record);
    for (const std::string& endpoint : settings->dane.endpoints) {
      // Validated with the settings: "host:port".
      size_t colon = endpoint.rfind(':');
      int port = 0;
      std::string_view port_text = std::string_view(endpoint).substr(colon + 1);
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
      auto owner = dns::TlsaOwner(endpoint.substr(0, colon), port);
      if (computed.ok() && owner.ok()) {
        fmt::print("  {}\n", dns::FormatTlsa(*owner, dns::kDefaultTlsaTtl, record));
      }
    }
  }
  fmt::print("the server picks it up as after a renewal (reload-watch or your reload command); "
             "undo with: bulkhead rollback --name {} --to {}\n",
             o.name, done->from.version);
  return kExitOk;
}

}  // namespace

void AddRollbackCommand(CLI::App& app, Cli& cli) {
  auto o = std::make_shared<RollbackOptions>();
  CLI::App* cmd = app.add_subcommand(
      "rollback", "make an earlier kept version live again (see list --versions)");
  cmd->add_option("--name", o->name, "certificate name")->required();
  cmd->add_option("--to", o->to,
                  "version number to make live (default: the newest earlier version that "
                  "parses, has not expired and whose key matches)")
      ->check(CLI::PositiveNumber);
  cmd->callback([&cli, o] { cli.run = [&cli, o] { return RunRollback(cli.flags, *o); }; });
}

}  // namespace bulkhead::cli
