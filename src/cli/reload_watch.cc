// `bulkhead reload-watch`: signal a server when its certificate changes, then
// check what it serves. The logic lives in deploy/; this file parses flags.
#include <signal.h>

#include <memory>

#include "cli/cli.h"
#include "deploy/action.h"
#include "deploy/reload_watch.h"
#include "probe/tls_probe.h"
#include "roles/probe_role.h"

namespace bulkhead::cli {
namespace {

struct ReloadWatchFlags {
  std::string pidfile;
  std::vector<std::string> watch;
  std::string exe;
  std::string signal = "HUP";
  std::vector<std::string> exec;
  std::vector<std::string> exec_rest;  // After "--": arguments starting with '-'.
  std::string exec_timeout = "30s";
  std::string every;
  std::string debounce = "2s";
  std::string min_interval = "10s";
  std::string recheck = "60s";
  bool once = false;
  std::string verify;
  std::string sni;
  std::string starttls = "none";
  std::string cert;
  std::string verify_wait = "30s";
  std::string metrics_file;
};

Result<deploy::WatchOptions> BuildOptions(const GlobalFlags& g, const ReloadWatchFlags& f) {
  deploy::WatchOptions o;
  o.pidfile = AbsolutePath(f.pidfile);
  for (const std::string& w : f.watch) {
    o.watch.push_back(AbsolutePath(w));
  }
  if (!f.exe.empty()) {
    BH_ASSIGN(o.expected, deploy::ExpectedFromExe(f.exe));
  } else {
    BH_ASSIGN(o.expected, deploy::ExpectedFromPidFile(o.pidfile));
  }
  BH_ASSIGN(o.signal, deploy::ParseReloadSignal(f.signal));
  o.exec_argv = f.exec;
  o.exec_argv.insert(o.exec_argv.end(), f.exec_rest.begin(), f.exec_rest.end());
  if (!f.exec_rest.empty() && f.exec.empty()) {
    return ErrCode(ErrorCode::kUsage, "arguments after -- need --exec PROG");
  }
  if (!o.exec_argv.empty() && (o.exec_argv[0].empty() || o.exec_argv[0][0] != '/')) {
    return ErrCode(ErrorCode::kUsage, "--exec {}: give the program's absolute path (no shell, no PATH search)",
                   o.exec_argv[0]);
  }
  BH_ASSIGN(o.exec_timeout, deploy::ParseDuration(f.exec_timeout));
  if (!f.every.empty()) {
    BH_ASSIGN(auto every, deploy::ParseDuration(f.every));
    o.trigger.every_ns = every.count() * 1'000'000;
    if (o.trigger.every_ns <= 0) {
      return ErrCode(ErrorCode::kUsage, "--every must be positive");
    }
  }
  BH_ASSIGN(auto debounce, deploy::ParseDuration(f.debounce));
  o.trigger.debounce_ns = debounce.count() * 1'000'000;
  BH_ASSIGN(auto min_interval, deploy::ParseDuration(f.min_interval));
  o.trigger.min_interval_ns = min_interval.count() * 1'000'000;
  BH_ASSIGN(o.recheck, deploy::ParseDuration(f.recheck));
  if (o.recheck.count() < 100) {
    return ErrCode(ErrorCode::kUsage, "--recheck must be at least 100ms");
  }
  o.once = f.once;
  if (!f.verify.empty()) {
    BH_ASSIGN(o.verify, deploy::ParseHostPort(f.verify));
    BH_ASSIGN(auto mode, probe::ParseStartTls(f.starttls));
    (void)mode;
    o.starttls = f.starttls;
    o.sni = f.sni;
    o.cert = f.cert.empty() ? "" : AbsolutePath(f.cert);
    BH_ASSIGN(o.verify_wait, deploy::ParseDuration(f.verify_wait));
    o.ca_bundle = AbsolutePath(g.ca_bundle);
  } else if (!f.sni.empty() || f.starttls != "none" || !f.cert.empty()) {
    return ErrCode(ErrorCode::kUsage, "--sni, --starttls and --cert need --verify");
  }
  o.metrics_file = AbsolutePath(f.metrics_file);
  o.require_sandbox = g.require_sandbox;
  return o;
}

// MakeProbe starts the --verify probe role (while the process is still
// single-threaded and unsandboxed) and returns the probe: one TLS handshake
// in that role, the leaf served. The watcher, which may signal the server,
// never parses what the server sends. Sets options->probe_channel_fd.
Result<deploy::ProbeLeafFn> MakeProbe(deploy::WatchOptions* o) {
  if (!o->verify) {
    return deploy::ProbeLeafFn(nullptr);
  }
  probe::ProbeRequest req;
  req.host = o->verify->host;
  req.port = o->verify->port;
  req.sni = o->sni;
  auto mode = probe::ParseStartTls(o->starttls);
  req.starttls = mode.ok() ? *mode : probe::StartTls::kNone;
  req.timeout = std::chrono::milliseconds(5000);
  req.ca_bundle = o->ca_bundle;
  roles::ProbeJob job;
  job.requests.push_back(req);
  job.concurrency = 1;
  job.every_address = true;
  job.require_full_sandbox = o->require_sandbox;
  BH_ASSIGN(roles::ProbeRole started, roles::ProbeRole::Start(std::move(job)));
  auto role = std::make_shared<roles::ProbeRole>(std::move(started));
  o->probe_channel_fd = role->channel_fd();
  return deploy::ProbeLeafFn([role, req]() -> Result<crypto::CertInfo> {
    BH_ASSIGN(auto results, role->Run());
    if (results.size() != 1) {
      return Err("{}:{}: the probe role answered {} results", req.host, req.port, results.size());
    }
    BH_ASSIGN(probe::ProbeResult r, std::move(results[0]));
    if (!r.chain || r.chain->empty()) {
      return Err("{}:{}: no certificate served", req.host, req.port);
    }
    return r.leaf();
  });
}

int RunReloadWatchCommand(const GlobalFlags& g, const ReloadWatchFlags& f) {
  auto options = BuildOptions(g, f);
  if (!options.ok()) {
    return Fail(options.error());
  }
  deploy::SystemClock clock;
  auto probe = MakeProbe(&*options);
  if (!probe.ok()) {
    return Fail(probe.error().Wrap("reload-watch"));
  }
  Status st = deploy::RunReloadWatch(*options, clock, *probe);
  if (!st.ok()) {
    return Fail(st.error().Wrap("reload-watch"));
  }
  return kExitOk;
}

}  // namespace

void AddReloadWatchCommand(CLI::App& app, Cli& cli) {
  auto f = std::make_shared<ReloadWatchFlags>();
  CLI::App* cmd = app.add_subcommand(
      "reload-watch",
      "signal a server when its certificate files change, and check what it serves");
  cmd->add_option("--pidfile", f->pidfile, "the server's pid file")->required();
  cmd->add_option("--watch", f->watch, "certificate or key file to watch (repeatable)")
      ->required();
  cmd->add_option("--exe", f->exe,
                  "executable the pid must run (default: the pid file's name without .pid)");
  cmd->add_option("--signal", f->signal, "signal to send: HUP, USR1, USR2 or WINCH")
      ->capture_default_str();
  cmd->add_option("--exec", f->exec,
                  "run PROG [ARG ...] (absolute path, no shell) instead of signalling; "
                  "arguments starting with '-' go after --")
      ->expected(1, -1);
  cmd->add_option("--exec-timeout", f->exec_timeout, "time limit for --exec")
      ->capture_default_str();
  cmd->add_option("--every", f->every, "also reload this often without a change (e.g. 30m)");
  cmd->add_option("--debounce", f->debounce, "quiet time after a change before reloading")
      ->capture_default_str();
  cmd->add_option("--min-interval", f->min_interval, "at most one reload per this interval")
      ->capture_default_str();
  cmd->add_option("--recheck", f->recheck, "re-check this often even without file events")
      ->capture_default_str();
  cmd->add_flag("--once", f->once, "check and act once, then exit (for cron)");
  cmd->add_option("--verify", f->verify, "after a reload, check HOST:PORT serves the new leaf");
  cmd->add_option("--sni", f->sni, "server name to send with --verify");
  cmd->add_option("--starttls", f->starttls, "smtp, imap, pop3, ldap or postgres for --verify");
  cmd->add_option("--cert", f->cert, "certificate to compare with (default: the first --watch)");
  cmd->add_option("--verify-wait", f->verify_wait, "how long the new leaf may take to appear")
      ->capture_default_str();
  cmd->add_option("--metrics-file", f->metrics_file, "Prometheus textfile to write");
  cmd->callback([&cli, f] {
    // The arguments after "--" are --exec's (main splits them off).
    cli.takes_trailing_args = true;
    f->exec_rest = cli.trailing_args;
    cli.run = [&cli, f] { return RunReloadWatchCommand(cli.flags, *f); };
  });
}

}  // namespace bulkhead::cli
