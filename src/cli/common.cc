#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "cli/cli.h"
#include "util/log.h"

namespace bulkhead::cli {

std::string StateDir(const GlobalFlags& flags) {
  if (!flags.state_dir.empty()) {
    return AbsolutePath(flags.state_dir);
  }
  if (::geteuid() == 0) {
    return "/var/lib/bulkhead";
  }
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/bulkhead";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/state/bulkhead";
}

std::string AbsolutePath(const std::string& path) {
  if (path.empty() || path[0] == '/') {
    return path;
  }
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

Result<manager::CaConfig> CaFromFlags(const GlobalFlags& flags) {
  manager::CaConfig ca;
  BH_ASSIGN(ca.directory_url,
            manager::ResolveServer(flags.server.empty() ? "letsencrypt" : flags.server));
  ca.ca_bundle = AbsolutePath(flags.ca_bundle);
  ca.request_timeout_ms = flags.http_timeout_seconds * 1000L;
  return ca;
}

Result<std::optional<sandbox::RunAs>> RolesRunAs(const GlobalFlags& flags) {
  BH_ASSIGN(std::optional<sandbox::RunAs> run_as, sandbox::DefaultRunAs(flags.user));
  if (flags.require_sandbox && ::geteuid() == 0 && !run_as) {
    // Without capabilities a root role is still uid 0 and owns what root
    // owns; --require-sandbox wants the roles to be somebody else.
    return ErrCode(ErrorCode::kUsage,
                   "--require-sandbox: the roles would run as root; create the system user "
                   "'{}' (systemd-sysusers, or: useradd --system --no-create-home --shell "
                   "/usr/sbin/nologin {}; see docs/DEPLOY.md) or pass --user USER",
                   sandbox::kDefaultUser, sandbox::kDefaultUser);
  }
  return run_as;
}

nlohmann::json InspectAllManaged(
    const store::CertStore& certs, int64_t now,
    const std::function<nlohmann::json(const std::string&, const manager::CertState&)>& describe,
    int* out_status) {
  nlohmann::json out = nlohmann::json::array();
  auto names = certs.List();
  if (!names.ok()) {
    *out_status = Fail(names.error());
    return out;
  }
  for (const std::string& name : *names) {
    auto st = manager::InspectCertificate(certs, name, now);
    if (!st.ok()) {
      *out_status = Fail(st.error().Wrap(name));
      continue;
    }
    out.push_back(describe(name, *st));
  }
  return out;
}

bool PrintedJsonOrNone(const store::CertStore& certs, const nlohmann::json& out, bool as_json) {
  if (as_json) {
    fmt::print("{}\n", out.dump(2));
    return true;
  }
  if (out.empty()) {
    fmt::print("no managed certificates in {}\n", certs.root());
    return true;
  }
  return false;
}

store::CertStore CertStoreFor(const GlobalFlags& flags) {
  return store::CertStore(StateDir(flags) + "/certs");
}

bool StdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }

bool AskYesNo(std::string_view question) {
  std::fprintf(stderr, "%.*s [y/N] ", static_cast<int>(question.size()), question.data());
  std::fflush(stderr);
  std::string line;
  int c;
  while ((c = std::getchar()) != EOF && c != '\n') {
    if (line.size() < 16) {
      line += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return line == "y" || line == "yes";
}

int Fail(const Error& error) {
  LogError("{}", error.message);
  return error.code == ErrorCode::kUsage ? kExitUsage : kExitFailure;
}

manager::RunContext RunContextFor(const GlobalFlags& flags, const store::CertStore& certs,
                                  const std::optional<sandbox::RunAs>& run_as) {
  manager::RunContext ctx;
  ctx.state_dir = StateDir(flags);
  ctx.certs = &certs;
  ctx.now = static_cast<int64_t>(std::time(nullptr));
  ctx.http_timeout_ms = flags.http_timeout_seconds * 1000L;
  ctx.require_full_sandbox = flags.require_sandbox;
  ctx.run_as = run_as;
  return ctx;
}

int PrintTlsaRecords(const manager::WorkflowResult& done) {
  if (done.dane_error) {
    return Fail(*done.dane_error);
  }
  if (done.tlsa_records.empty()) {
    return kExitOk;
  }
  fmt::print("  TLSA records to publish (current and next key; keep both):\n");
  for (const std::string& line : done.tlsa_records) {
    fmt::print("    {}\n", line);
  }
  return kExitOk;
}

}  // namespace bulkhead::cli

namespace bulkhead::cli {

Status LoadConfigInto(Cli& cli) {
  GlobalFlags& flags = cli.flags;
  bool explicit_file = !flags.config_file.empty();
  std::string path =
      explicit_file ? AbsolutePath(flags.config_file) : config::DefaultConfigPath(::geteuid() == 0);
  if (path.empty()) {
    return OkStatus();
  }
  config::CaDefaults ca;
  if (flags.server_given) {
    BH_ASSIGN(ca.server, manager::ResolveServer(flags.server));
  }
  if (flags.ca_bundle_given) {
    ca.ca_bundle = AbsolutePath(flags.ca_bundle);
  }
  Result<config::Config> loaded = config::LoadConfig(path, ca);
  if (!loaded.ok()) {
    if (loaded.error().code == ErrorCode::kNotFound && !explicit_file) {
      return OkStatus();  // No file at the default place: no configuration.
    }
    return ErrCode(ErrorCode::kUsage, "{}", loaded.error().message);
  }
  const config::GlobalConfig& g = loaded->global;
  if (flags.state_dir.empty()) {
    flags.state_dir = g.state_dir;
  }
  if (!flags.server_given && !g.server.empty()) {
    flags.server = g.server;
  }
  if (!flags.ca_bundle_given && !g.ca_bundle.empty()) {
    flags.ca_bundle = g.ca_bundle;
  }
  if (flags.user.empty()) {
    flags.user = g.user;
  }
  flags.renew_days = g.renew_days.value_or(-1);
  flags.email = g.email;
  cli.config = std::move(*loaded);
  return OkStatus();
}

}  // namespace bulkhead::cli

namespace bulkhead::cli {

int PrintDryRun(const Result<manager::DryRunResult>& done, const std::string& name) {
  if (!done.ok()) {
    return Fail(done.error().Wrap(fmt::format("dry run for {}", name)));
  }
  fmt::print("dry run: {} issued by {} ({}), expires {}; nothing live changed\n", name,
             done->leaf.issuer_cn.empty() ? done->leaf.issuer : done->leaf.issuer_cn,
             done->server, crypto::FormatTime(done->leaf.not_after));
  for (const std::string& p : done->problems) {
    LogError("dry run for {}: {}", name, p);
  }
  return done->problems.empty() ? kExitOk : kExitFailure;
}

}  // namespace bulkhead::cli
