// `bulkhead limits`: the rate-limit budget left per registered domain.
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "cli/cli.h"
#include "crypto/x509.h"
#include "ledger/gate.h"
#include "ledger/ledger.h"

namespace bulkhead::cli {
namespace {

std::string When(int64_t t) { return t > 0 ? crypto::FormatTime(t) : "-"; }

constexpr ledger::LimitKind kKinds[] = {
    ledger::LimitKind::kNewOrdersPerAccount, ledger::LimitKind::kCertsPerRegisteredDomain,
    ledger::LimitKind::kDuplicateCertificates, ledger::LimitKind::kFailedAuthzPerIdentifier};

// Describe renders one limit: "50 per 7 days", or "no limit set".
std::string Describe(const ledger::Limit& l) {
  if (l.max <= 0) {
    return "no limit set";
  }
  if (l.window_seconds % 86400 == 0) {
    return fmt::format("{} per {} day(s)", l.max, l.window_seconds / 86400);
  }
  if (l.window_seconds % 3600 == 0) {
    return fmt::format("{} per {} hour(s)", l.max, l.window_seconds / 3600);
  }
  return fmt::format("{} per {} seconds", l.max, l.window_seconds);
}

int RunLimits(const GlobalFlags& flags, bool as_json) {
  std::string state_dir = StateDir(flags);
  std::string ca;
  if (flags.server_given) {
    auto resolved = CaFromFlags(flags);
    if (!resolved.ok()) {
      return Fail(resolved.error());
    }
    ca = resolved->directory_url;
  }
  auto limits = ledger::LoadLimits(ledger::LimitsPath(state_dir), ca);
  if (!limits.ok()) {
    return Fail(limits.error());
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  Result<std::vector<ledger::DomainBudget>> domains = std::vector<ledger::DomainBudget>{};
  Result<std::vector<ledger::AccountBudget>> accounts = std::vector<ledger::AccountBudget>{};
  // No ledger yet (nothing ordered from this state directory): nothing
  // spent, which is no reason to fail.
  if (std::string path = ledger::LedgerPath(state_dir); ::access(path.c_str(), F_OK) == 0) {
    auto led = ledger::Ledger::Open(path);
    if (!led.ok()) {
      return Fail(led.error());
    }
    domains = led->Domains(*limits, ca, now);
    accounts = led->Accounts(*limits, now);
  }
  if (!domains.ok() || !accounts.ok()) {
    return Fail(domains.ok() ? accounts.error() : domains.error());
  }
  if (as_json) {
    nlohmann::json j = {{"limits_source", limits->source}, {"limits", nlohmann::json::object()}};
    for (ledger::LimitKind k :
         {ledger::LimitKind::kNewOrdersPerAccount, ledger::LimitKind::kCertsPerRegisteredDomain,
          ledger::LimitKind::kDuplicateCertificates,
          ledger::LimitKind::kFailedAuthzPerIdentifier}) {
      j["limits"][std::string(ledger::LimitKey(k))] = {
          {"max", limits->Get(k).max}, {"window_seconds", limits->Get(k).window_seconds}};
    }
    j["domains"] = nlohmann::json::array();
    for (const ledger::DomainBudget& d : *domains) {
      j["domains"].push_back({{"domain", d.domain},
                              {"issued", d.issued},
                              {"remaining", d.remaining},
                              {"next_frees_at", When(d.frees_at)}});
    }
    j["accounts"] = nlohmann::json::array();
    for (const ledger::AccountBudget& a : *accounts) {
      nlohmann::json failed = nlohmann::json::object();
      for (const auto& [id, n] : a.failed_authz) {
        failed[id] = n;
      }
      j["accounts"].push_back({{"ca", a.scope.ca},
                               {"account", a.scope.account},
                               {"orders", a.orders},
                               {"orders_remaining", a.remaining},
                               {"next_frees_at", When(a.frees_at)},
                               {"failed_authorizations", failed}});
    }
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("limits: {}\n", limits->source);
  for (ledger::LimitKind k : kKinds) {
    fmt::print("  {}: {}\n", ledger::LimitTitle(k), Describe(limits->Get(k)));
  }
  if (domains->empty()) {
    fmt::print("no certificates recorded in the last {} day(s)\n",
               std::max<int64_t>(1, limits->certs_per_domain.window_seconds / 86400));
  } else {
    fmt::print("{:<40} {:>6} {:>9}  {}\n", "REGISTERED DOMAIN", "ISSUED", "REMAINING",
               "NEXT FREES AT");
    for (const ledger::DomainBudget& d : *domains) {
      fmt::print("{:<40} {:>6} {:>9}  {}\n", d.domain, d.issued,
                 d.remaining < 0 ? std::string("no limit") : std::to_string(d.remaining),
                 When(d.frees_at));
    }
  }
  for (const ledger::AccountBudget& a : *accounts) {
    fmt::print("account {} at {}: {} orders in the window, {} left\n", a.scope.account, a.scope.ca,
               a.orders, a.remaining < 0 ? std::string("no limit") : std::to_string(a.remaining));
    for (const auto& [id, n] : a.failed_authz) {
      fmt::print("  {}: {} failed authorization(s) ({})\n", id, n,
                 Describe(limits->failed_authz));
    }
  }
  return kExitOk;
}

}  // namespace

void AddLimitsCommand(CLI::App& app, Cli& cli) {
  auto as_json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "limits", "show the CA rate-limit budget left, per registered domain and account");
  cmd->add_flag("--json", *as_json, "machine-readable output");
  cmd->callback(
      [&cli, as_json] { cli.run = [&cli, as_json] { return RunLimits(cli.flags, *as_json); }; });
}

}  // namespace bulkhead::cli
