// The hook updater: the operator's program adds and deletes the records.
// The sandboxed challenge role cannot exec, so a runner process forked
// before the sandbox runs the program for it; the runner accepts only
// strictly formed "add|del NAME VALUE" lines.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "challenge/dns01.h"
#include "util/base64url.h"

extern char** environ;

namespace bulkhead::challenge {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxLine = 1024;
// The runner's answer may take as long as the hook plus this margin.
constexpr std::chrono::seconds kReplyMargin{5};

// ReadLine reads one '\n'-terminated line of at most kMaxLine bytes from
// `fd`, waiting until `deadline` (none if `deadline` is max). Returns
// kNotFound at end of file.
Result<std::string> ReadLine(int fd, Clock::time_point deadline) {
  std::string line;
  for (;;) {
    if (deadline != Clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        return ErrCode(ErrorCode::kTransient, "timed out");
      }
      struct pollfd p = {fd, POLLIN, 0};
      int rc = ::poll(&p, 1, static_cast<int>(left.count()));
      if (rc < 0 && errno == EINTR) {
        continue;
      }
      if (rc <= 0) {
        continue;
      }
    }
    char c;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Err("read: {}", std::strerror(errno));
    }
    if (n == 0) {
      return ErrCode(ErrorCode::kNotFound, "end of file");
    }
    if (c == '\n') {
      return line;
    }
    if (line.size() >= kMaxLine) {
      return Err("line too long");
    }
    line += c;
  }
}

Status WriteAllFd(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return Err("write: {}", std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

// OneLine makes an error message safe for the one-line reply.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 900)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : ' ';
  }
  return out;
}

// RunnerLoop serves requests until the role closes its end; never returns.
[[noreturn]] void RunnerLoop(int fd, const std::string& prog, uint32_t ttl,
                             std::chrono::milliseconds timeout) {
  for (;;) {
    auto line = ReadLine(fd, Clock::time_point::max());
    if (!line.ok()) {
      ::_exit(0);
    }
    bool add = false;
    std::string name;
    std::string value;
    Status st = ParseHookRequest(*line, &add, &name, &value);
    if (st.ok()) {
      st = RunHook(prog, add, name, value, ttl, timeout);
    }
    std::string reply = st.ok() ? "ok\n" : "err " + OneLine(st.error().message) + "\n";
    if (!WriteAllFd(fd, reply).ok()) {
      ::_exit(0);
    }
  }
}

class RunnerUpdater : public RecordUpdater {
 public:
  RunnerUpdater(int fd, std::string prog, std::chrono::milliseconds timeout)
      : fd_(fd), prog_(std::move(prog)), timeout_(timeout) {}

  Status Add(const std::string& record_name, const std::string& value) override {
    return Call(true, record_name, value);
  }
  Status Delete(const std::string& record_name, const std::string& value) override {
    return Call(false, record_name, value);
  }
  std::string Describe() const override { return fmt::format("hook {}", prog_); }

 private:
  Status Call(bool add, const std::string& record_name, const std::string& value) {
    std::string line = HookRequestLine(add, record_name, value);
    bool a = false;
    std::string n;
    std::string v;
    BH_TRY(ParseHookRequest(std::string_view(line).substr(0, line.size() - 1), &a, &n, &v));
    std::string what = fmt::format("hook {} {} {}", prog_, add ? "add" : "del", record_name);
    Status sent = WriteAllFd(fd_, line);
    if (!sent.ok()) {
      return sent.error().Wrap(fmt::format("{}: the hook runner is gone", what));
    }
    auto reply = ReadLine(fd_, Clock::now() + timeout_ + kReplyMargin);
    if (!reply.ok()) {
      return reply.error().Wrap(fmt::format("{}: no answer from the hook runner", what));
    }
    if (*reply == "ok") {
      return OkStatus();
    }
    if (reply->rfind("err ", 0) == 0) {
      return Err("{}", reply->substr(4));
    }
    return Err("{}: malformed answer from the hook runner", what);
  }

  int fd_;
  std::string prog_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::string HookRequestLine(bool add, std::string_view record_name, std::string_view value) {
  return fmt::format("{} {} {}\n", add ? "add" : "del", record_name, value);
}

Status ParseHookRequest(std::string_view line, bool* out_add, std::string* out_name,
                        std::string* out_value) {
  auto bad = [] { return Err("malformed hook request"); };
  size_t s1 = line.find(' ');
  if (s1 == std::string_view::npos) {
    return bad();
  }
  size_t s2 = line.find(' ', s1 + 1);
  if (s2 == std::string_view::npos || line.find(' ', s2 + 1) != std::string_view::npos) {
    return bad();
  }
  std::string_view verb = line.substr(0, s1);
  std::string_view name = line.substr(s1 + 1, s2 - s1 - 1);
  std::string_view value = line.substr(s2 + 1);
  // The name need not start with "_acme-challenge.": a CNAME may delegate
  // the record to any name.
  if ((verb != "add" && verb != "del") || !IsSafeRecordName(name) || value.size() != 43 ||
      !IsBase64UrlToken(value)) {
    return bad();
  }
  *out_add = verb == "add";
  *out_name = std::string(name);
  *out_value = std::string(value);
  return OkStatus();
}

Status RunHook(const std::string& prog, bool add, const std::string& record_name,
               const std::string& value, uint32_t ttl, std::chrono::milliseconds timeout) {
  std::string verb = add ? "add" : "del";
  std::string name = record_name;
  if (!name.empty() && name.back() == '.') {
    name.pop_back();
  }
  std::vector<std::string> env_storage = {
      "BULKHEAD_DNS_ACTION=" + verb, "BULKHEAD_DNS_NAME=" + name, "BULKHEAD_DNS_VALUE=" + value,
      fmt::format("BULKHEAD_DNS_TTL={}", ttl)};
  std::vector<char*> envp;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "BULKHEAD_DNS_", 13) != 0) {
      envp.push_back(*e);
    }
  }
  for (std::string& s : env_storage) {
    envp.push_back(s.data());
  }
  envp.push_back(nullptr);
  std::string prog_copy = prog;
  std::vector<char*> argv = {prog_copy.data(), verb.data(), name.data(),
                             const_cast<char*>(value.c_str()), nullptr};
  std::string what = fmt::format("hook {} {} {}", prog, verb, name);

  pid_t pid = ::fork();
  if (pid < 0) {
    return Err("{}: fork: {}", what, std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
      ::signal(sig, SIG_DFL);
    }
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
    }
    // The hook's output is diagnostics: keep our stdout for our result.
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
    ::execve(prog_copy.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  ScopedFd pidfd_owner(pidfd);
  bool timed_out = false;
  if (pidfd >= 0) {
    Clock::time_point deadline = Clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        timed_out = true;
        break;
      }
      struct pollfd p = {pidfd, POLLIN, 0};
      int rc = ::poll(&p, 1, static_cast<int>(left.count()));
      if (rc > 0) {
        break;
      }
      if (rc < 0 && errno != EINTR) {
        break;
      }
    }
  }
  if (timed_out) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return Err("{}: waitpid: {}", what, std::strerror(errno));
    }
  }
  if (timed_out) {
    return Err("{}: killed after {} ms", what, timeout.count());
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return OkStatus();
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return Err("{}: exit status 127 (could it be executed?)", what);
  }
  if (WIFEXITED(status)) {
    return Err("{}: exit status {}", what, WEXITSTATUS(status));
  }
  return Err("{}: killed by signal {}", what, WTERMSIG(status));
}

Result<HookRunner> HookRunner::Start(const std::string& prog, uint32_t ttl,
                                     std::chrono::milliseconds timeout) {
  struct stat st;
  if (prog.empty() || prog[0] != '/' || ::stat(prog.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      ::access(prog.c_str(), X_OK) != 0) {
    return ErrCode(ErrorCode::kUsage, "--dns-hook: {} is not an executable file (give an "
                   "absolute path)", prog);
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return Err("--dns-hook: socketpair: {}", std::strerror(errno));
  }
  ScopedFd ours(sv[0]);
  ScopedFd theirs(sv[1]);
  pid_t pid = ::fork();
  if (pid < 0) {
    return Err("--dns-hook: fork: {}", std::strerror(errno));
  }
  if (pid == 0) {
    // The runner keeps only its socket and stdio; it outlives an interrupt
    // of the role so the role's clean-up deletions still run, and ends
    // when the role closes the socket.
    int fd = theirs.release();
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
      ::signal(sig, SIG_IGN);
    }
    if (fd > 3) {
      ::syscall(SYS_close_range, 3, fd - 1, 0);
    }
    ::syscall(SYS_close_range, fd + 1, ~0U, 0);
    RunnerLoop(fd, prog, ttl, timeout);
  }
  theirs.reset();
  return HookRunner(std::move(ours), pid, prog);
}

HookRunner::~HookRunner() {
  // Closing the socket ends the runner. It is not reaped here: the
  // sandboxed role may not wait(2); when the role exits, the runner is
  // reparented and reaped by init.
  fd_.reset();
}

std::unique_ptr<RecordUpdater> HookRunner::NewUpdater(std::chrono::milliseconds timeout) {
  return std::make_unique<RunnerUpdater>(fd_.get(), prog_, timeout);
}

}  // namespace bulkhead::challenge
