#include "deploy/reload_watch.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "crypto/x509.h"
#include "deploy/action.h"
#include "deploy/metrics.h"
#include "sandbox/sandbox.h"
#include "util/fs.h"
#include "util/interrupt.h"
#include "util/log.h"

namespace bulkhead::deploy {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * kNsPerSec + st.st_mtim.tv_nsec;
}

// ParentIsSymlink reports whether the directory holding `path` is itself a
// symlink (the store's `live` link).
bool ParentIsSymlink(const std::string& path, struct stat* out_st) {
  std::string parent = DirName(path);
  return ::lstat(parent.c_str(), out_st) == 0 && S_ISLNK(out_st->st_mode);
}

// Inotify owns an inotify descriptor watching the directories that hold
// the watched files and their symlinks. It is rebuilt before each check, so
// watches follow the `live` link to the current version directory.
class Inotify {
 public:
  Status Rebuild(const std::vector<std::string>& paths) {
    fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd_.valid()) {
      return Err("inotify_init1: {}", std::strerror(errno));
    }
    constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
                               IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF;
    for (const std::string& path : paths) {
      std::string dir = DirName(path);
      // The (possibly symlinked) directory of the file, followed to its
      // target, and the directory holding that link.
      for (const std::string& d : {dir, DirName(dir)}) {
        if (::inotify_add_watch(fd_.get(), d.c_str(), kMask) < 0) {
          LogDebug("reload-watch: cannot watch {}: {}", d, std::strerror(errno));
        }
      }
    }
    return OkStatus();
  }

  // Wait waits up to `timeout_ms` for an event (or a signal) and drains
  // what arrived. Returns whether an event arrived.
  bool Wait(int timeout_ms) {
    struct pollfd pfd = {fd_.get(), POLLIN, 0};
    int rc = ::poll(&pfd, 1, timeout_ms);
    if (rc <= 0) {
      return false;
    }
    alignas(struct inotify_event) char buf[4096];
    while (::read(fd_.get(), buf, sizeof(buf)) > 0) {
    }
    return true;
  }

 private:
  ScopedFd fd_;
};

// Watcher holds the running state of one reload-watch process.
class Watcher {
 public:
  Watcher(const WatchOptions& options, const Clock& clock, const ProbeLeafFn& probe)
      : o_(options), clock_(clock), probe_(probe) {
    metrics_.pidfile = o_.pidfile;
    if (o_.verify) {
      metrics_.verify_target = fmt::format("{}:{}", o_.verify->host, o_.verify->port);
    }
  }

  Status Setup() {
    // The action runs in a helper forked before the sandbox (ActionHelper).
    if (!o_.exec_argv.empty()) {
      if (o_.exec_argv[0].empty() || o_.exec_argv[0][0] != '/') {
        return ErrCode(ErrorCode::kUsage, "--exec needs an absolute program path");
      }
      BH_TRY(helper_.Start(ExecAction(o_.exec_argv, o_.exec_timeout)));
    } else {
      BH_TRY(helper_.Start(SignalAction(o_.pidfile, o_.expected, o_.signal)));
    }
    state_.started_ns = clock_.NowNs();
    if (!o_.metrics_file.empty()) {
      // A --once run from cron remembers its last reload only here.
      auto text = ReadFileCapped(o_.metrics_file, 1 << 16);
      if (text.ok()) {
        int64_t last = ParseLastReload(*text);
        if (last > 0) {
          state_.last_action_ns = last * kNsPerSec;
          metrics_.last_reload = last;
          metrics_.last_reload_ok = true;
        }
      }
    }
    if (o_.sandbox) {
      BH_TRY(EnterSandbox());
    }
    return OkStatus();
  }

  Status RunOnce() {
    Observation obs = Observe();
    bool stale = IsStale(obs, state_.last_action_ns);
    bool served_ok = false;
    if (stale && o_.verify) {
      // The server may have loaded the files already (a restart we did not
      // see): then there is nothing to do.
      VerifyOutcome v = Verify(std::chrono::milliseconds(0));
      served_ok = v.match;
    }
    Status acted = OkStatus();
    if (stale && !served_ok) {
      // Let a renewal that is still writing settle (bounded by debounce).
      while (true) {
        Plan plan = Decide(o_.trigger, obs, clock_.NowNs(), &state_);
        if (plan.decision != Decision::kWait) {
          break;
        }
        int64_t wait_ns = std::max<int64_t>(plan.next_check_ns - clock_.NowNs(), 0);
        if (!SleepInterruptible(std::chrono::milliseconds(wait_ns / 1'000'000 + 1))) {
          return Err("interrupted");
        }
        obs = Observe();
      }
      acted = Act("watched files are newer than the running server");
    } else if (!stale) {
      LogInfo("reload-watch: {} is up to date", o_.pidfile);
    }
    Status verified = OkStatus();
    if (o_.verify) {
      VerifyOutcome v = Verify(o_.verify_wait);
      if (!v.match) {
        verified = Err("verify {}: {}", metrics_.verify_target, v.message);
      }
    }
    WriteMetricsIfAsked();
    BH_TRY(acted);
    return verified;
  }

  Status RunLoop() {
    Inotify inotify;
    // Written at once, so a monitor sees the watcher is up before any reload.
    WriteMetricsIfAsked();
    while (!Interrupted()) {
      BH_TRY(inotify.Rebuild(o_.watch));
      Observation obs = Observe();
      int64_t now = clock_.NowNs();
      Plan plan = Decide(o_.trigger, obs, now, &state_);
      LogDebug("reload-watch: {}", plan.reason);
      if (plan.decision == Decision::kReloadChanged || plan.decision == Decision::kReloadPeriodic) {
        Status st = Act(plan.reason);
        if (st.ok() && o_.verify) {
          VerifyOutcome v = Verify(o_.verify_wait);
          if (!v.match) {
            LogError("reload-watch: verify {}: {}", metrics_.verify_target, v.message);
          }
        }
        WriteMetricsIfAsked();
        continue;
      }
      int64_t timeout_ns = o_.recheck.count() * 1'000'000;
      if (plan.next_check_ns >= 0) {
        timeout_ns = std::min(timeout_ns, std::max<int64_t>(plan.next_check_ns - now, 0));
      }
      inotify.Wait(static_cast<int>(timeout_ns / 1'000'000) + 1);
    }
    return OkStatus();
  }

 private:
  Status EnterSandbox() {
    sandbox::Policy policy;
    policy.role = sandbox::Role::kReloadWatch;
    policy.read_paths = ReadablePathsFor(o_.watch);
    if (!o_.cert.empty()) {
      policy.read_paths.push_back(DirName(o_.cert));
    }
    // The pid file is replaced when the server restarts: allow its directory.
    policy.read_paths.push_back(DirName(o_.pidfile));
    policy.read_paths.push_back("/proc");
    if (!o_.metrics_file.empty()) {
      policy.write_dirs.push_back(DirName(o_.metrics_file));
    }
    // --verify talks TLS in the probe role; the watcher only asks it.
    policy.ipc_fd = o_.probe_channel_fd;
    auto report = sandbox::Enter(policy, o_.require_sandbox);
    if (!report.ok()) {
      return report.error();
    }
    for (const std::string& gap : report->gaps) {
      LogWarn("reload-watch: sandbox: {}", gap);
    }
    return OkStatus();
  }

  Observation Observe() const {
    Observation obs;
    obs.newest_file_ns = NewestFileTime(o_.watch);
    obs.server_loaded_ns = ServerLoadedTime(o_.pidfile);
    return obs;
  }

  Status Act(const std::string& reason) {
    int64_t now = clock_.NowNs();
    RecordAction(now, &state_);
    metrics_.last_reload = now / kNsPerSec;
    Status st = OkStatus();
    auto done = helper_.Run();
    if (done.ok()) {
      LogInfo("reload-watch: {} ({})", *done, reason);
    } else {
      st = done.error();
    }
    metrics_.last_reload_ok = st.ok();
    if (!st.ok()) {
      LogError("reload-watch: {}", st.error().message);
    }
    return st;
  }

  VerifyOutcome Verify(std::chrono::milliseconds wait) {
    VerifyOutcome v;
    std::string cert = o_.cert.empty() ? o_.watch.front() : o_.cert;
    auto disk = ReadLeafCertificate(cert);
    if (!disk.ok()) {
      v.message = disk.error().message;
    } else {
      v = VerifyServed(*disk, probe_, wait, std::chrono::milliseconds(500),
                       [](std::chrono::milliseconds d) { return SleepInterruptible(d); });
    }
    metrics_.last_verify = clock_.NowNs() / kNsPerSec;
    metrics_.last_verify_ok = v.match;
    if (v.probed) {
      metrics_.served_not_after = v.served_not_after;
    }
    if (v.match) {
      LogInfo("reload-watch: verify {}: {}", metrics_.verify_target, v.message);
    }
    return v;
  }

  void WriteMetricsIfAsked() {
    if (o_.metrics_file.empty()) {
      return;
    }
    Status st = WriteMetrics(o_.metrics_file, metrics_);
    if (!st.ok()) {
      LogError("reload-watch: {}", st.error().message);
    }
  }

  const WatchOptions& o_;
  const Clock& clock_;
  const ProbeLeafFn& probe_;
  ActionHelper helper_;
  TriggerState state_;
  WatchMetrics metrics_;
};

}  // namespace

int64_t NewestFileTime(const std::vector<std::string>& paths) {
  int64_t newest = -1;
  for (const std::string& path : paths) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) {
      newest = std::max(newest, MtimeNs(st));
    }
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      newest = std::max(newest, MtimeNs(st));
    }
    if (ParentIsSymlink(path, &st)) {
      newest = std::max(newest, MtimeNs(st));
    }
  }
  return newest;
}

int64_t ServerLoadedTime(const std::string& pidfile) {
  int64_t loaded = -1;
  struct stat st;
  if (::stat(pidfile.c_str(), &st) == 0) {
    loaded = MtimeNs(st);
  }
  auto pid = ReadPidFile(pidfile);
  if (pid.ok()) {
    auto info = InspectProcess(*pid);
    if (info.ok()) {
      loaded = std::max(loaded, info->start_unix_ns);
    }
  }
  return loaded;
}

std::vector<std::string> ReadablePathsFor(const std::vector<std::string>& watched) {
  std::vector<std::string> out;
  for (const std::string& path : watched) {
    struct stat st;
    std::string dir = ParentIsSymlink(path, &st) ? DirName(DirName(path)) : DirName(path);
    if (std::find(out.begin(), out.end(), dir) == out.end()) {
      out.push_back(dir);
    }
  }
  return out;
}

Status RunReloadWatch(const WatchOptions& options, const Clock& clock, const ProbeLeafFn& probe) {
  if (options.watch.empty()) {
    return ErrCode(ErrorCode::kUsage, "reload-watch needs at least one --watch PATH");
  }
  Watcher watcher(options, clock, probe);
  BH_TRY(watcher.Setup());
  if (options.once) {
    return watcher.RunOnce();
  }
  return watcher.RunLoop();
}

}  // namespace bulkhead::deploy
