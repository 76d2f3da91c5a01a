// `bulkhead monitor check|add|remove|list|run`: what endpoints actually serve.
// The probing and judging live in monitor/ and probe/, the inventory in
// inventory/; this file parses flags and prints.
#include <nlohmann/json.hpp>

#include <ctime>
#include <filesystem>
#include <memory>

#include "cli/cli.h"
#include "dns/query.h"
#include "inventory/inventory.h"
#include "monitor/check.h"
#include "monitor/managed.h"
#include "monitor/metrics.h"
#include "monitor/report.h"
#include "probe/engine.h"
#include "util/fs.h"

namespace bulkhead::cli {
namespace {

struct MonitorFlags {
  std::vector<std::string> endpoints;
  std::string targets_file;
  std::string sni;
  std::string starttls;
  bool json = false;
  bool prometheus = false;
  int warn_days = 28;
  int crit_days = 2;
  int concurrency = probe::kDefaultConcurrency;
  double timeout_seconds = 10;
  bool http_headers = false;
  bool no_tlsa = false;
  int limit = 50;
  std::string resolver;
  std::string db;
};

std::string Dump(const nlohmann::json& j) {
  // Peers choose certificate fields: replace invalid UTF-8 instead of throwing.
  return j.dump(2, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

Result<std::unique_ptr<inventory::Inventory>> OpenDb(const GlobalFlags& flags,
                                                     const MonitorFlags& m) {
  std::string spec = m.db.empty() ? inventory::DefaultInventorySpec(StateDir(flags)) : m.db;
  if (m.db.empty()) {
    // The default lives in the state directory, which may not exist yet.
    std::error_code ec;
    std::filesystem::create_directories(StateDir(flags), ec);
    if (!ec) {
      std::filesystem::permissions(StateDir(flags), std::filesystem::perms::owner_all, ec);
    }
  }
  return inventory::OpenInventory(spec);
}

// kMaxTargetsFile caps the targets file: a million bytes is tens of thousands
// of endpoints, more than one run probes, and the cap keeps a wrong path
// (a disk image, a log) from being read into memory whole.
constexpr size_t kMaxTargetsFile = 1 << 20;

// ReadTargets adds the endpoints of `path` (one a line; blank lines and
// lines starting with '#' skipped) to `out`. A missing, unreadable, oversized
// or non-regular file is a usage error naming the file.
Status ReadTargets(const std::string& path, std::vector<std::string>* out) {
  Result<std::string> text = ReadFileCapped(path, kMaxTargetsFile);
  if (!text.ok()) {
    // ReadFileCapped's message starts with "reading <path>: "; keep the reason.
    std::string_view why = text.error().message;
    std::string prefix = fmt::format("reading {}: ", path);
    if (why.substr(0, prefix.size()) == prefix) {
      why.remove_prefix(prefix.size());
    }
    return ErrCode(ErrorCode::kUsage, "cannot read targets file {}: {}", path, why);
  }
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string_view::npos || line[b] == '#') {
      continue;
    }
    size_t e = line.find_last_not_of(" \t\r");
    out->emplace_back(line.substr(b, e - b + 1));
  }
  return OkStatus();
}

Result<monitor::CheckOptions> OptionsFrom(const GlobalFlags& flags, const MonitorFlags& m) {
  monitor::CheckOptions o;
  o.thresholds = {m.warn_days, m.crit_days};
  BH_TRY(monitor::ValidateThresholds(o.thresholds));
  if (m.concurrency < 1) {
    return ErrCode(ErrorCode::kUsage, "--concurrency must be at least 1");
  }
  if (!(m.timeout_seconds > 0 && m.timeout_seconds <= 3600)) {
    return ErrCode(ErrorCode::kUsage, "--timeout must be between 0 and 3600 seconds");
  }
  if (m.json && m.prometheus) {
    return ErrCode(ErrorCode::kUsage, "--json and --prometheus exclude each other");
  }
  o.concurrency = m.concurrency;
  o.timeout = std::chrono::milliseconds(static_cast<int64_t>(m.timeout_seconds * 1000));
  o.ca_bundle = flags.ca_bundle.empty() ? std::string() : AbsolutePath(flags.ca_bundle);
  o.http_headers = m.http_headers;
  o.tlsa.enabled = !m.no_tlsa;
  if (!m.resolver.empty()) {
    BH_ASSIGN(dns::Server server, dns::ParseServer(m.resolver));
    o.tlsa.resolver = server;
  }
  o.now = static_cast<int64_t>(std::time(nullptr));
  o.require_sandbox = flags.require_sandbox;
  return o;
}

int PrintChecks(const std::vector<monitor::EndpointCheck>& checks, const MonitorFlags& m,
                int64_t now) {
  if (m.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : checks) {
      out.push_back(monitor::CheckToJson(c, now));
    }
    fmt::print("{}\n", Dump(out));
  } else if (m.prometheus) {
    monitor::MetricsWriter w;
    for (const auto& c : checks) {
      monitor::AppendCheckMetrics(c.endpoint, c.record, now, &w);
    }
    fmt::print("{}", w.Text());
  } else {
    fmt::print("{}", monitor::FormatTable(checks, now));
  }
  std::fflush(stdout);
  auto worst = monitor::WorstState(checks);
  return worst == inventory::CheckState::kOk || worst == inventory::CheckState::kPlan
             ? kExitOk
             : kExitFailure;
}

Result<std::vector<monitor::EndpointCheck>> Check(const GlobalFlags& flags, const MonitorFlags& m,
                                                  const std::vector<inventory::Endpoint>& eps) {
  BH_ASSIGN(monitor::CheckOptions o, OptionsFrom(flags, m));
  store::CertStore certs = CertStoreFor(flags);
  monitor::ManagedCerts managed = monitor::ManagedCerts::Load(certs);
  o.managed = &managed;
  return monitor::RunChecks(eps, o);
}

Result<std::vector<inventory::Endpoint>> EndpointsFromArgs(const MonitorFlags& m) {
  std::vector<std::string> args = m.endpoints;
  if (!m.targets_file.empty()) {
    BH_TRY(ReadTargets(m.targets_file, &args));
  }
  if (args.empty()) {
    return ErrCode(ErrorCode::kUsage, "no endpoint given (HOST[:PORT] ...)");
  }
  if (!m.starttls.empty()) {
    auto mode = probe::ParseStartTls(m.starttls);
    if (!mode.ok()) {
      return mode.error();
    }
  }
  std::vector<inventory::Endpoint> eps;
  for (const std::string& a : args) {
    BH_ASSIGN(inventory::Endpoint e, inventory::ParseEndpointKey(a, 443));
    e.sni = m.sni;
    e.starttls = m.starttls == "none" ? "" : m.starttls;
    eps.push_back(std::move(e));
  }
  return eps;
}

int RunCheck(const GlobalFlags& flags, const MonitorFlags& m) {
  auto eps = EndpointsFromArgs(m);
  if (!eps.ok()) {
    return Fail(eps.error());
  }
  auto checks = Check(flags, m, *eps);
  if (!checks.ok()) {
    return Fail(checks.error());
  }
  return PrintChecks(*checks, m, checks->empty() ? 0 : checks->front().record.checked_at);
}

int RunAdd(const GlobalFlags& flags, const MonitorFlags& m) {
  auto eps = EndpointsFromArgs(m);
  if (!eps.ok()) {
    return Fail(eps.error());
  }
  auto db = OpenDb(flags, m);
  if (!db.ok()) {
    return Fail(db.error());
  }
  for (const auto& e : *eps) {
    bool created = false;
    auto added = (*db)->AddEndpoint(e, &created);
    if (!added.ok()) {
      return Fail(added.error());
    }
    fmt::print("{} {}\n", created ? "added" : "exists", inventory::EndpointKey(e.host, e.port));
  }
  return kExitOk;
}

int RunRemove(const GlobalFlags& flags, const MonitorFlags& m) {
  auto eps = EndpointsFromArgs(m);
  if (!eps.ok()) {
    return Fail(eps.error());
  }
  auto db = OpenDb(flags, m);
  if (!db.ok()) {
    return Fail(db.error());
  }
  int status = kExitOk;
  for (const auto& e : *eps) {
    auto found = (*db)->FindEndpoint(e.host, e.port);
    Status st = found.ok() ? (*db)->RemoveEndpoint(found->id) : Status(found.error());
    if (!st.ok()) {
      status = Fail(st.error());
      continue;
    }
    fmt::print("removed {}\n", inventory::EndpointKey(e.host, e.port));
  }
  return status;
}

int RunList(const GlobalFlags& flags, const MonitorFlags& m) {
  auto db = OpenDb(flags, m);
  if (!db.ok()) {
    return Fail(db.error());
  }
  auto eps = (*db)->ListEndpoints();
  auto latest = (*db)->LatestChecks();
  if (!eps.ok() || !latest.ok()) {
    return Fail(!eps.ok() ? eps.error() : latest.error());
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : *eps) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& c : *latest) {
      if (c.endpoint_id == e.id) {
        checks.push_back({{"address", c.address},
                          {"state", inventory::CheckStateName(c.state)},
                          {"checked_at", crypto::FormatTime(c.checked_at)},
                          {"not_after", c.not_after != 0 ? nlohmann::json(crypto::FormatTime(c.not_after))
                                                         : nlohmann::json(nullptr)}});
      }
    }
    out.push_back({{"endpoint", inventory::EndpointKey(e.host, e.port)},
                   {"sni", e.sni},
                   {"starttls", e.starttls.empty() ? "none" : e.starttls},
                   {"checks", std::move(checks)}});
  }
  if (m.json) {
    fmt::print("{}\n", Dump(out));
    return kExitOk;
  }
  fmt::print("{:<40} {:<10} {:<40} {}\n", "ENDPOINT", "STARTTLS", "ADDRESS", "LAST STATE");
  for (const auto& e : out) {
    std::string states;
    for (const auto& c : e["checks"]) {
      states += fmt::format("{}{} {}", states.empty() ? "" : ", ", c["address"].get<std::string>(),
                            c["state"].get<std::string>());
    }
    fmt::print("{:<40} {:<10} {}\n", e["endpoint"].get<std::string>(),
               e["starttls"].get<std::string>(), states.empty() ? "never checked" : states);
  }
  return kExitOk;
}

// RunHistory prints the recorded checks and certificate changes of one
// endpoint, newest first.
int RunHistory(const GlobalFlags& flags, const MonitorFlags& m) {
  auto db = OpenDb(flags, m);
  if (!db.ok()) {
    return Fail(db.error());
  }
  if (m.endpoints.size() != 1) {
    return Fail(ErrCode(ErrorCode::kUsage, "monitor history takes one HOST[:PORT]"));
  }
  auto key = inventory::ParseEndpointKey(m.endpoints[0], 443);
  if (!key.ok()) {
    return Fail(key.error());
  }
  auto e = (*db)->FindEndpoint(key->host, key->port);
  if (!e.ok()) {
    return Fail(e.error());
  }
  auto checks = (*db)->History(e->id, m.limit);
  auto changes = (*db)->Changes(e->id, m.limit);
  if (!checks.ok() || !changes.ok()) {
    return Fail(!checks.ok() ? checks.error() : changes.error());
  }
  nlohmann::json cj = nlohmann::json::array();
  for (const auto& c : *checks) {
    cj.push_back({{"checked_at", crypto::FormatTime(c.checked_at)},
                  {"address", c.address},
                  {"state", inventory::CheckStateName(c.state)},
                  {"sha256_fingerprint", c.sha256_fingerprint},
                  {"issuer", c.issuer},
                  {"not_after", c.not_after != 0 ? nlohmann::json(crypto::FormatTime(c.not_after))
                                                 : nlohmann::json(nullptr)},
                  {"error", c.error}});
  }
  nlohmann::json ch = nlohmann::json::array();
  for (const auto& c : *changes) {
    ch.push_back({{"changed_at", crypto::FormatTime(c.changed_at)},
                  {"address", c.address},
                  {"kind", inventory::ChangeKindName(c.kind)},
                  {"old", c.old_value},
                  {"new", c.new_value}});
  }
  if (m.json) {
    nlohmann::json out = {{"endpoint", inventory::EndpointKey(e->host, e->port)},
                          {"checks", std::move(cj)},
                          {"changes", std::move(ch)}};
    fmt::print("{}\n", Dump(out));
    return kExitOk;
  }
  fmt::print("{}: {} check(s), {} change(s)\n", inventory::EndpointKey(e->host, e->port),
             cj.size(), ch.size());
  for (const auto& c : ch) {
    fmt::print("  {} {} {} {} -> {}\n", c["changed_at"].get<std::string>(),
               c["address"].get<std::string>(), c["kind"].get<std::string>(),
               c["old"].get<std::string>(), c["new"].get<std::string>());
  }
  for (const auto& c : cj) {
    fmt::print("  {} {} {} {}\n", c["checked_at"].get<std::string>(),
               c["address"].get<std::string>(), c["state"].get<std::string>(),
               c["sha256_fingerprint"].get<std::string>());
  }
  return kExitOk;
}

// CheckInventoryOnce is `monitor run`: checks every endpoint of the
// inventory once, records each check, and prints them like `monitor check`.
int CheckInventoryOnce(const GlobalFlags& flags, const MonitorFlags& m) {
  auto db = OpenDb(flags, m);
  if (!db.ok()) {
    return Fail(db.error());
  }
  auto eps = (*db)->ListEndpoints();
  if (!eps.ok()) {
    return Fail(eps.error());
  }
  auto checks = Check(flags, m, *eps);
  if (!checks.ok()) {
    return Fail(checks.error());
  }
  for (const auto& c : *checks) {
    auto id = (*db)->RecordCheck(c.record);
    if (!id.ok()) {
      return Fail(id.error().Wrap("recording check"));
    }
  }
  return PrintChecks(*checks, m, checks->empty() ? 0 : checks->front().record.checked_at);
}

void AddCheckFlags(CLI::App* cmd, MonitorFlags* f) {
  cmd->add_flag("--json", f->json, "machine-readable output (an array, one object per address)");
  cmd->add_flag("--prometheus", f->prometheus, "Prometheus text exposition");
  cmd->add_option("--warn-days", f->warn_days, "PLAN at or below this many days left (default 28)");
  cmd->add_option("--crit-days", f->crit_days, "WARNING below this many days left (default 2)");
  cmd->add_option("--concurrency", f->concurrency, "connections in flight at most (default 64)");
  cmd->add_option("--timeout", f->timeout_seconds, "seconds per address (default 10)");
  cmd->add_flag("--http-headers", f->http_headers,
                "judge HSTS/CSP/Referrer-Policy on every plain-TLS port, not only 443, and "
                "make weak or missing ones a WARNING");
  cmd->add_flag("--no-tlsa", f->no_tlsa, "do not look up TLSA records (_PORT._tcp.NAME)");
  cmd->add_option("--resolver", f->resolver,
                  "DNS server for TLSA look-ups, ADDR[:PORT] (default: first of /etc/resolv.conf; "
                  "answers are not DNSSEC-validated)");
}

void AddDbFlag(CLI::App* cmd, MonitorFlags* f) {
  cmd->add_option("--db", f->db,
                  "inventory: a SQLite file or postgresql://... (default <state-dir>/inventory.sqlite)");
}

}  // namespace

void AddMonitorCommand(CLI::App& app, Cli& cli) {
  CLI::App* monitor = app.add_subcommand("monitor", "check what TLS endpoints actually serve");
  monitor->require_subcommand(1);

  auto check = std::make_shared<MonitorFlags>();
  CLI::App* c = monitor->add_subcommand(
      "check", "check endpoints now (exit 0 all OK/PLAN, 1 any WARNING/ERROR)");
  c->add_option("endpoints", check->endpoints, "HOST[:PORT] or [V6]:PORT (default port 443)");
  c->add_option("--targets-file", check->targets_file, "read more endpoints, one a line");
  c->add_option("--sni", check->sni, "server name to send and check (default: the host)");
  c->add_option("--starttls", check->starttls, "smtp, imap, pop3, ldap or postgres");
  AddCheckFlags(c, check.get());
  c->callback([&cli, check] { cli.run = [&cli, check] { return RunCheck(cli.flags, *check); }; });

  auto add = std::make_shared<MonitorFlags>();
  CLI::App* a = monitor->add_subcommand("add", "enrol endpoints in the inventory");
  a->add_option("endpoints", add->endpoints, "HOST[:PORT] ...")->required();
  a->add_option("--sni", add->sni, "server name to send and check (default: the host)");
  a->add_option("--starttls", add->starttls, "smtp, imap, pop3, ldap or postgres");
  AddDbFlag(a, add.get());
  a->callback([&cli, add] { cli.run = [&cli, add] { return RunAdd(cli.flags, *add); }; });

  auto remove = std::make_shared<MonitorFlags>();
  CLI::App* r = monitor->add_subcommand("remove", "remove endpoints and their history");
  r->add_option("endpoints", remove->endpoints, "HOST[:PORT] ...")->required();
  AddDbFlag(r, remove.get());
  r->callback([&cli, remove] { cli.run = [&cli, remove] { return RunRemove(cli.flags, *remove); }; });

  auto list = std::make_shared<MonitorFlags>();
  CLI::App* l = monitor->add_subcommand("list", "list the inventory with the latest states");
  l->add_flag("--json", list->json, "machine-readable output");
  AddDbFlag(l, list.get());
  l->callback([&cli, list] { cli.run = [&cli, list] { return RunList(cli.flags, *list); }; });

  auto history = std::make_shared<MonitorFlags>();
  CLI::App* h = monitor->add_subcommand("history", "recorded checks and certificate changes of an endpoint");
  h->add_option("endpoint", history->endpoints, "HOST[:PORT]")->required();
  h->add_option("--limit", history->limit, "at most this many checks and changes (default 50)");
  h->add_flag("--json", history->json, "machine-readable output");
  AddDbFlag(h, history.get());
  h->callback([&cli, history] { cli.run = [&cli, history] { return RunHistory(cli.flags, *history); }; });

  auto run = std::make_shared<MonitorFlags>();
  CLI::App* u = monitor->add_subcommand("run", "check the whole inventory once and record it");
  AddCheckFlags(u, run.get());
  AddDbFlag(u, run.get());
  u->callback([&cli, run] { cli.run = [&cli, run] { return CheckInventoryOnce(cli.flags, *run); }; });
}

}  // namespace bulkhead::cli
