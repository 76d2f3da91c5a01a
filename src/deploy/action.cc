#include "deploy/action.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "util/log.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace bulkhead::deploy {
namespace {

// kHelperRun is the one request the action helper understands.
constexpr char kHelperRun = 'R';

// kMaxHelperReply caps the helper's answer (a verdict byte and one line).
constexpr size_t kMaxHelperReply = 4096;

// WaitWithDeadline reaps `pid`, killing it if it has not exited by
// `timeout`. Sets *out_status to the wait status.
Status WaitWithDeadline(pid_t pid, std::chrono::milliseconds timeout, int* out_status) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      *out_status = status;
      return OkStatus();
    }
    if (r < 0 && errno != EINTR) {
      return Err("waitpid: {}", std::strerror(errno));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      // Through a pidfd: the sandboxed watcher may not kill() by pid. The
      // child is not reaped yet, so its pid cannot have been reused.
      ScopedFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
      if (!pidfd.valid() ||
          ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) != 0) {
        ::kill(pid, SIGKILL);
      }
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return Err("did not finish within {} ms; killed", timeout.count());
    }
    // No SIGCHLD handler is installed; a short poll keeps this simple.
    ::poll(nullptr, 0, 20);
  }
}

}  // namespace

Result<int> ParseReloadSignal(std::string_view name) {
  std::string upper;
  for (char c : name) {
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (upper.rfind("SIG", 0) == 0) {
    upper.erase(0, 3);
  }
  if (upper == "HUP") {
    return SIGHUP;
  }
  if (upper == "USR1") {
    return SIGUSR1;
  }
  if (upper == "USR2") {
    return SIGUSR2;
  }
  if (upper == "WINCH") {
    return SIGWINCH;
  }
  return ErrCode(ErrorCode::kUsage, "--signal {}: only HUP, USR1, USR2 or WINCH are allowed",
                 name);
}

Result<pid_t> SignalServer(const std::string& pidfile, const ExpectedProcess& expected,
                           int sig) {
  BH_ASSIGN(pid_t pid, ReadPidFile(pidfile));
  ScopedFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) {
    if (errno == ESRCH) {
      return ErrCode(ErrorCode::kNotFound, "{}: pid {} does not exist (stale pid file)",
                     pidfile, pid);
    }
    return Err("pidfd_open({}): {}", pid, std::strerror(errno));
  }
  // The pidfd now refers to this process even if it exits and the pid is
  // reused, so what /proc says next is about the process we will signal
  // (if it exits before, the signal fails with ESRCH).
  auto info = InspectProcess(pid);
  if (!info.ok()) {
    return info.error().Wrap(pidfile);
  }
  Status match = MatchesExpected(*info, expected);
  if (!match.ok()) {
    return match.error().Wrap(fmt::format("{}: refusing to signal", pidfile));
  }
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) != 0) {
    return Err("{}: signalling pid {}: {}", pidfile, pid, std::strerror(errno));
  }
  return pid;
}

Status RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return ErrCode(ErrorCode::kUsage, "--exec needs an absolute program path");
  }
  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are allowed.
  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  char path_env[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_env, nullptr};
  pid_t pid = ::fork();
  if (pid < 0) {
    return Err("fork: {}", std::strerror(errno));
  }
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
    }
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(args[0], args.data(), envp);
    ::_exit(127);
  }
  int status = 0;
  Status waited = WaitWithDeadline(pid, timeout, &status);
  if (!waited.ok()) {
    return waited.error().Wrap(argv[0]);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return OkStatus();
  }
  if (WIFEXITED(status)) {
    return Err("{} exited with status {}", argv[0], WEXITSTATUS(status));
  }
  return Err("{} was killed by signal {}", argv[0], WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

ActionHelper::~ActionHelper() {
  sock_.reset();
  if (pid_ > 0) {
    int status = 0;
    Status ignored = WaitWithDeadline(pid_, std::chrono::seconds(5), &status);
    (void)ignored;
  }
}

Status ActionHelper::Start(Action action) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return Err("socketpair: {}", std::strerror(errno));
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(sv[0]);
    ::close(sv[1]);
    return Err("fork: {}", std::strerror(err));
  }
  if (pid == 0) {
    ::close(sv[0]);
    // Keep nothing of the watcher's (e.g. its channel to the probe role,
    // whose end of file must come when the watcher closes it).
    if (sv[1] > 3) {
      ::syscall(SYS_close_range, 3U, static_cast<unsigned>(sv[1]) - 1, 0U);
    }
    ::syscall(SYS_close_range, static_cast<unsigned>(sv[1]) + 1, ~0U, 0U);
    // The helper ends when the watcher closes its end (exit or crash).
    while (true) {
      char req = 0;
      ssize_t n = ::read(sv[1], &req, 1);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n != 1 || req != kHelperRun) {
        ::_exit(0);
      }
      Result<std::string> done = action();
      // One datagram: '0' and the log line, or '1' and the error.
      std::string reply = done.ok() ? "0" + *done : "1" + done.error().message;
      reply.resize(std::min(reply.size(), kMaxHelperReply));
      if (::write(sv[1], reply.data(), reply.size()) != static_cast<ssize_t>(reply.size())) {
        ::_exit(0);
      }
    }
  }
  ::close(sv[1]);
  sock_.reset(sv[0]);
  pid_ = pid;
  return OkStatus();
}

Result<std::string> ActionHelper::Run() {
  if (!sock_.valid()) {
    return Err("action helper is not running");
  }
  char req = kHelperRun;
  if (::write(sock_.get(), &req, 1) != 1) {
    return Err("action helper: {}", std::strerror(errno));
  }
  std::string reply(kMaxHelperReply, '\0');
  ssize_t n;
  do {
    n = ::read(sock_.get(), reply.data(), reply.size());
  } while (n < 0 && errno == EINTR);
  if (n < 1 || (reply[0] != '0' && reply[0] != '1')) {
    return Err("action helper ended unexpectedly");
  }
  reply.resize(static_cast<size_t>(n));
  if (reply[0] != '0') {
    return Err("{}", reply.substr(1));
  }
  return reply.substr(1);
}

ActionHelper::Action ExecAction(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  return [argv = std::move(argv), timeout]() -> Result<std::string> {
    BH_TRY(RunProgram(argv, timeout));
    return fmt::format("ran {}", argv[0]);
  };
}

ActionHelper::Action SignalAction(std::string pidfile, ExpectedProcess expected, int sig) {
  return [pidfile = std::move(pidfile), expected = std::move(expected),
          sig]() -> Result<std::string> {
    BH_ASSIGN(pid_t pid, SignalServer(pidfile, expected, sig));
    return fmt::format("sent signal {} to pid {}", sig, pid);
  };
}

}  // namespace bulkhead::deploy
