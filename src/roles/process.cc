#include "roles/process.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>
#include <thread>

#include "util/fs.h"

namespace bulkhead::roles {

void CloseFdsExcept(std::vector<int> keep) {
  keep.push_back(2);
  std::sort(keep.begin(), keep.end());
  unsigned int next = 3;
  for (int fd : keep) {
    if (fd < static_cast<int>(next)) {
      continue;
    }
    if (static_cast<unsigned int>(fd) > next) {
      ::close_range(next, static_cast<unsigned int>(fd) - 1, 0);
    }
    next = static_cast<unsigned int>(fd) + 1;
  }
  ::close_range(next, ~0U, 0);
}

std::optional<int> ThreadCount() {
  // /proc/self/stat: "pid (comm) state ppid ...", num_threads is field 20.
  // comm may hold spaces and parentheses, so fields count from the last ')'.
  char buf[1024];
  ScopedFd fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return std::nullopt;
  }
  ssize_t n = ::read(fd.get(), buf, sizeof(buf) - 1);
  if (n <= 0) {
    return std::nullopt;
  }
  std::string_view stat(buf, static_cast<size_t>(n));
  size_t pos = stat.rfind(')');
  if (pos == std::string_view::npos) {
    return std::nullopt;
  }
  pos += 1;
  for (int field = 3; field <= 20; ++field) {
    while (pos < stat.size() && stat[pos] == ' ') {
      ++pos;
    }
    size_t end = stat.find(' ', pos);
    if (end == std::string_view::npos) {
      return std::nullopt;
    }
    if (field == 20) {
      int threads = 0;
      auto [p, ec] = std::from_chars(stat.data() + pos, stat.data() + end, threads);
      if (ec != std::errc() || p != stat.data() + end || threads < 1) {
        return std::nullopt;
      }
      return threads;
    }
    pos = end;
  }
  return std::nullopt;
}

RoleProcess& RoleProcess::operator=(RoleProcess&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0) {
      (void)Wait(std::chrono::milliseconds(0));
    }
    pid_ = o.pid_;
    name_ = std::move(o.name_);
    o.pid_ = -1;
  }
  return *this;
}

RoleProcess::~RoleProcess() {
  if (pid_ > 0) {
    (void)Wait(std::chrono::milliseconds(0));
  }
}

Result<RoleProcess> RoleProcess::Start(std::string name, std::vector<int> keep,
                                       const std::function<int()>& body,
                                       const std::optional<sandbox::RunAs>& run_as) {
  // After fork only the forking thread exists in the child; a lock another
  // thread held at that moment (malloc's, OpenSSL's, a sanitizer's) stays
  // held forever and the role hangs on it. So roles are forked from a
  // single-threaded process only, and a caller that breaks this is told so
  // at once instead of hanging now and then. (Unknown if /proc is absent.)
  if (std::optional<int> threads = ThreadCount(); threads && *threads > 1) {
    return Err(
        "starting the {} role: this process runs {} threads; roles are forked only from a "
        "single-threaded process (start the role before starting threads)",
        name, *threads);
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    return Err("starting the {} role: fork: {}", name, std::strerror(errno));
  }
  if (pid == 0) {
    // A role must not outlive the run that started it: if the parent dies
    // (even by SIGKILL), the kernel kills the role, so nothing is committed
    // by an orphan after the lock is gone.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
      ::_exit(1);
    }
    // Not dumpable before the body reads any secret (the signer reads its
    // key before it enters the sandbox): no process of the same user may
    // read this one's memory or attach to it. Inherited from main already;
    // set here too for roles started by other front ends and by tests.
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
      ::_exit(1);
    }
    // "bh-signer", ...: what `ps` and the operator see (15 bytes at most).
    std::string comm = ("bh-" + name).substr(0, 15);
    (void)::prctl(PR_SET_NAME, comm.c_str());
    CloseFdsExcept(std::move(keep));
    SetRoleIdentity(run_as);
    int rc = body();
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(rc);
  }
  RoleProcess p;
  p.pid_ = pid;
  p.name_ = std::move(name);
  return p;
}

Status RoleProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) {
    return OkStatus();
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // A pidfd becomes readable the moment the child exits, so the parent
  // reaps it at once instead of on its next poll tick (a role usually
  // exits right after its last message, and the run is waiting for it).
  // Kernels before 5.3 have none: then poll with a growing sleep.
  ScopedFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  std::chrono::milliseconds step{1};
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      break;
    }
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return Err("{} role: waitpid: {}", name_, std::strerror(errno));
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      // Through the pidfd when there is one: a sandboxed parent (reload-watch)
      // may signal only through pidfds, never a pid by number.
      if (pidfd.get() < 0 ||
          ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) != 0) {
        ::kill(pid_, SIGKILL);
      }
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return Err("the {} role did not finish in time and was stopped", name_);
    }
    if (pidfd.get() >= 0) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
      struct pollfd p = {pidfd.get(), POLLIN, 0};
      (void)::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 60000)));
      continue;
    }
    std::this_thread::sleep_for(step);
    step = std::min(step * 2, std::chrono::milliseconds(50));
  }
  pid_ = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return OkStatus();
  }
  if (WIFSIGNALED(status)) {
    return Err("the {} role was killed by signal {} ({})", name_, WTERMSIG(status),
               strsignal(WTERMSIG(status)));
  }
  return Err("the {} role failed (exit status {})", name_, WEXITSTATUS(status));
}

}  // namespace bulkhead::roles
