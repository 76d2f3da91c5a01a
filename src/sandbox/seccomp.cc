#include "sandbox/seccomp.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <vector>

namespace bulkhead::sandbox {
namespace {

// The role named by the SIGSYS handler; set once, before the filter loads.
const char* volatile g_trap_role = "unknown";

// AppendText copies `text` into buf[*len..cap) and advances *len.
void AppendText(char* buf, size_t cap, size_t* len, const char* text) {
  while (*text != '\0' && *len < cap) {
    buf[(*len)++] = *text++;
  }
}

// AppendNumber appends `n` in decimal.
void AppendNumber(char* buf, size_t cap, size_t* len, long n) {
  char digits[24];
  size_t count = 0;
  bool negative = n < 0;
  unsigned long v = negative ? 0UL - static_cast<unsigned long>(n) : static_cast<unsigned long>(n);
  do {
    digits[count++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && count < sizeof(digits));
  if (negative) {
    AppendText(buf, cap, len, "-");
  }
  while (count > 0 && *len < cap) {
    buf[(*len)++] = digits[--count];
  }
}

// OnSigsys reports the forbidden call and ends the process. It is a fatal
// path: resolving the name allocates, which is acceptable because the
// process never returns to the interrupted code.
void OnSigsys(int /*sig*/, siginfo_t* info, void* /*context*/) {
  char buf[256];
  size_t len = 0;
  int nr = info->si_syscall;
  char* name = seccomp_syscall_resolve_num_arch(info->si_arch, nr);
  AppendText(buf, sizeof(buf), &len, "bulkhead: ");
  AppendText(buf, sizeof(buf), &len, g_trap_role);
  AppendText(buf, sizeof(buf), &len, " role: forbidden system call ");
  AppendText(buf, sizeof(buf), &len, name != nullptr ? name : "unknown");
  AppendText(buf, sizeof(buf), &len, " (");
  AppendNumber(buf, sizeof(buf), &len, nr);
  AppendText(buf, sizeof(buf), &len, ")\n");
  ssize_t ignored = ::write(STDERR_FILENO, buf, len);
  (void)ignored;
  ::_exit(kForbiddenSyscallExitCode);
}

// Int compares the low 32 bits of argument `arg` (an int in the C
// prototype, whose upper register half the kernel does not define).
scmp_arg_cmp Int(unsigned arg, uint32_t value) {
  return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, 0xffffffffULL, value};
}

// Masked requires (argument `arg` & `mask`) == `value` (low 32 bits).
scmp_arg_cmp Masked(unsigned arg, uint32_t mask, uint32_t value) {
  return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, value};
}

// Clear requires the bits of `mask` to be clear in argument `arg`.
scmp_arg_cmp Clear(unsigned arg, uint64_t mask) {
  return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, 0};
}

// Set requires the bits of `mask` to be set in argument `arg`.
scmp_arg_cmp Set(unsigned arg, uint64_t mask) {
  return scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, mask};
}

// Filter owns a libseccomp context and remembers the first failure, so the
// allowlists below read as plain lists.
class Filter {
 public:
  Filter() : ctx_(seccomp_init(SCMP_ACT_TRAP)) {}
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;
  ~Filter() {
    if (ctx_ != nullptr) {
      seccomp_release(ctx_);
    }
  }

  scmp_filter_ctx ctx() const { return ctx_; }

  // Allow permits `name`, if all of `args` match. A name this architecture
  // does not have (e.g. "poll" on arm64) is skipped.
  void Allow(const char* name, std::initializer_list<scmp_arg_cmp> args = {}) {
    Add(SCMP_ACT_ALLOW, name, args);
  }
  // AllowAll permits each of `names` unconditionally.
  void AllowAll(std::initializer_list<const char*> names) {
    for (const char* name : names) {
      Allow(name);
    }
  }
  // Fail makes `name` return -1 with `err` when `args` match, for calls a
  // library tries and then falls back from (glibc's nscd socket, clone3).
  void Fail(int err, const char* name, std::initializer_list<scmp_arg_cmp> args = {}) {
    Add(SCMP_ACT_ERRNO(static_cast<uint32_t>(err)), name, args);
  }

  Status status() const { return status_; }

 private:
  void Add(uint32_t action, const char* name, std::initializer_list<scmp_arg_cmp> args) {
    if (ctx_ == nullptr || !status_.ok()) {
      return;
    }
    int nr = seccomp_syscall_resolve_name(name);
    if (nr < 0) {
      return;
    }
    std::vector<scmp_arg_cmp> cmps(args);
    int rc = seccomp_rule_add_array(ctx_, action, nr, static_cast<unsigned>(cmps.size()),
                                    cmps.empty() ? nullptr : cmps.data());
    if (rc != 0) {
      status_ = Err("sandbox: seccomp_rule_add({}): {}", name, std::strerror(-rc));
    }
  }

  scmp_filter_ctx ctx_;
  Status status_;
};

// AddBase allows what every role needs to compute, allocate, talk to its
// parent over already-open descriptors, and exit.
void AddBase(Filter& f, const Policy& policy) {
  f.AllowAll({
      // I/O on descriptors opened before Enter (or allowed below).
      "read", "write", "readv", "writev", "pread64", "close", "lseek", "fcntl",
      "fstat", "newfstatat", "statx",
      // Memory.
      "mmap", "munmap", "mprotect", "mremap", "brk", "madvise",
      // Threads, time and scheduling.
      "futex", "clock_gettime", "clock_getres", "gettimeofday", "time", "clock_nanosleep",
      "nanosleep", "sched_yield", "membarrier", "rseq", "set_robust_list", "set_tid_address",
      "restart_syscall",
      // Waiting for descriptors.
      "poll", "ppoll", "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait",
      "epoll_pwait", "epoll_pwait2",
      // Signals (to ourselves only, see tgkill below) and exit.
      "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "exit", "exit_group",
      // Harmless facts about ourselves.
      "getrandom", "getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid",
      "getresuid", "getresgid", "getgroups", "uname", "sysinfo", "umask",
  });
  // abort() and raise() signal the calling thread; nothing else may be
  // signalled (Landlock's signal scope says the same on ABI >= 6).
  f.Allow("tgkill", {Int(0, static_cast<uint32_t>(::getpid()))});
  // Resource limits of this process only.
  f.Allow("prlimit64", {Int(0, 0)});
  // Threads, never new processes. clone3 passes its flags in memory, which
  // seccomp cannot read, so it fails with ENOSYS and glibc falls back to
  // clone.
  f.Allow("clone", {Set(0, CLONE_THREAD)});
  f.Fail(ENOSYS, "clone3");
  // isatty() for stdio, readiness and non-blocking mode.
  f.Allow("ioctl", {Int(1, TCGETS)});
  f.Allow("ioctl", {Int(1, FIONREAD)});
  f.Allow("ioctl", {Int(1, FIONBIO)});
  // The socket to the parent (sendmsg/recvmsg may carry descriptors).
  std::vector<int> ipc_fds = policy.extra_ipc_fds;
  ipc_fds.push_back(policy.ipc_fd);
  for (int ipc_fd : ipc_fds) {
    if (ipc_fd < 0) {
      continue;
    }
    uint32_t fd = static_cast<uint32_t>(ipc_fd);
    for (const char* name : {"sendmsg", "recvmsg", "sendto", "recvfrom", "shutdown"}) {
      f.Allow(name, {Int(0, fd)});
    }
  }
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer runtime's own needs (counting CPUs, naming its
  // executable, and UBSan's probe whether memory is readable, which writes
  // it into a pipe); only in sanitizer builds.
  f.AllowAll({"sched_getaffinity", "readlink", "readlinkat", "pipe2", "pipe"});
#endif
}

// AddReadOnlyOpen allows opening files for reading only; Landlock decides
// which.
void AddReadOnlyOpen(Filter& f) {
  constexpr uint64_t kWriteFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND;
  f.Allow("openat", {Clear(2, kWriteFlags)});
  f.Allow("open", {Clear(1, kWriteFlags)});
  f.AllowAll({"access", "faccessat", "faccessat2", "readlink", "readlinkat"});
}

// AddFileWrites allows creating, replacing and removing files; Landlock
// decides where. chmod/chown/utimes by path are absent on purpose: Landlock
// does not govern them, so they are allowed only on open descriptors.
void AddFileWrites(Filter& f) {
  // openat2: opening a directory with RESOLVE_NO_SYMLINKS (util/nofollow.h).
  f.AllowAll({"openat", "openat2", "open", "unlinkat", "unlink", "rmdir", "renameat", "renameat2",
              "rename", "mkdirat", "mkdir", "fchmod", "fsync", "fdatasync", "ftruncate",
              "getdents64", "flock"});
}

// AddStreamSocketIo allows using connected or accepted TCP sockets.
void AddStreamSocketIo(Filter& f) {
  f.AllowAll({"getsockopt", "setsockopt", "getsockname", "getpeername", "sendto", "recvfrom",
              "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "pipe2", "eventfd2"});
}

// AddInetSocket allows creating IPv4/IPv6 TCP sockets: family AF_INET or
// AF_INET6, type SOCK_STREAM (SOCK_NONBLOCK and SOCK_CLOEXEC may be or-ed
// in), protocol 0 or IPPROTO_TCP, and nothing else. Landlock limits which
// TCP ports they may reach, but only for TCP: an MPTCP socket (protocol
// IPPROTO_MPTCP) is not covered by Landlock on every kernel, and SCTP, raw
// and packet sockets never are, so those never reach the kernel (the
// default action kills the process). With `udp`, SOCK_DGRAM with protocol
// 0 or IPPROTO_UDP too, for the roles that send DNS queries.
void AddInetSocket(Filter& f, bool udp) {
  constexpr uint32_t kTypeMask = ~static_cast<uint32_t>(SOCK_NONBLOCK | SOCK_CLOEXEC);
  for (int family : {AF_INET, AF_INET6}) {
    for (int protocol : {0, static_cast<int>(IPPROTO_TCP)}) {
      f.Allow("socket", {Int(0, static_cast<uint32_t>(family)), Masked(1, kTypeMask, SOCK_STREAM),
                         Int(2, static_cast<uint32_t>(protocol))});
    }
    if (udp) {
      for (int protocol : {0, static_cast<int>(IPPROTO_UDP)}) {
        f.Allow("socket", {Int(0, static_cast<uint32_t>(family)),
                           Masked(1, kTypeMask, SOCK_DGRAM),
                           Int(2, static_cast<uint32_t>(protocol))});
      }
    }
  }
}

// AddProbe is the probe role's list: it reads the trust store (Landlock
// decides which files), makes TCP connections (Landlock limits the ports),
// drives them with asio (epoll, eventfd, timerfd) and writes nothing but
// its channel. UDP sockets only with resolve_names, for the resolver.
void AddProbe(Filter& f, const Policy& policy) {
  AddReadOnlyOpen(f);
  // OpenSSL's default trust store lists its certificate directory.
  f.Allow("getdents64");
  // TCP only (no MPTCP, SCTP, raw or packet sockets); UDP for the resolver.
  AddInetSocket(f, policy.resolve_names);
  if (policy.resolve_names) {
    // glibc's nscd probe and interface-address check fall back on EACCES.
    f.Fail(EACCES, "socket", {Int(0, AF_UNIX)});
    f.Fail(EACCES, "socket", {Int(0, AF_NETLINK)});
  }
  f.AllowAll({"connect", "getsockopt", "setsockopt", "getsockname", "getpeername", "sendto",
              "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "eventfd2",
              "pipe2", "timerfd_create", "timerfd_settime", "timerfd_gettime",
              // The engine consumes a pending SIGPIPE of its own.
              "rt_sigtimedwait"});
}

void AddRole(Filter& f, const Policy& policy) {
  switch (policy.role) {
    case Role::kSigner:
      // Computes on the key it was handed; no files, no network.
      break;
    case Role::kKeys:
      AddFileWrites(f);
      // Following the live symlink to reuse the live key.
      f.AllowAll({"readlinkat", "readlink"});
      break;
    case Role::kStore:
      AddFileWrites(f);
      f.AllowAll({"symlinkat", "symlink", "readlinkat", "readlink", "linkat", "link"});
      break;
    case Role::kChallenge:
      AddFileWrites(f);
      if (!policy.bind_ports.empty() || !policy.connect_ports.empty()) {
        AddInetSocket(f, policy.udp);
        AddStreamSocketIo(f);
      }
      if (!policy.bind_ports.empty()) {
        // The standalone http-01 server. No connect() unless the pre-flight
        // check below asks for it.
        f.AllowAll({"bind", "listen", "accept", "accept4", "timerfd_create", "timerfd_settime",
                    "timerfd_gettime"});
      }
      if (!policy.connect_ports.empty()) {
        // dns-01: DNS queries and RFC 2136 updates over UDP and TCP (and
        // talking to the hook runner's socket); http-01 with the pre-flight
        // check: fetching the own tokens. Landlock limits TCP connect to
        // connect_ports; UDP destinations are not limited (UDP sockets
        // exist only when policy.udp says so).
        f.Allow("connect");
        // As for net: glibc's nscd probe and interface-address check fall
        // back cleanly on EACCES; libcurl's wake-up pair reaches no one.
        f.Fail(EACCES, "socket", {Int(0, AF_UNIX)});
        f.Fail(EACCES, "socket", {Int(0, AF_NETLINK)});
        f.Allow("socketpair", {Int(0, AF_UNIX)});
      }
      break;
    case Role::kNet:
      AddReadOnlyOpen(f);
      // TCP to the CA (whose addresses were resolved before the role
      // started); UDP only for a role that queries DNS itself (DANE).
      AddInetSocket(f, policy.udp);
      AddStreamSocketIo(f);
      f.Allow("connect");
      // glibc tries nscd over AF_UNIX and asks the kernel for interface
      // addresses over AF_NETLINK; both fall back cleanly on EACCES.
      f.Fail(EACCES, "socket", {Int(0, AF_UNIX)});
      f.Fail(EACCES, "socket", {Int(0, AF_NETLINK)});
      // libcurl's wake-up channel: a connected pair cannot reach anyone.
      f.Allow("socketpair", {Int(0, AF_UNIX)});
      break;
    case Role::kReloadWatch:
      // Stats and reads what Landlock allows; writes only the metrics file
      // (Landlock limits writes to its directory).
      AddFileWrites(f);
      f.AllowAll({"readlinkat", "readlink", "inotify_init1", "inotify_add_watch",
                  "inotify_rm_watch", "access", "faccessat", "faccessat2"});
      // Signalling the server only through a pidfd pinned before the pid
      // check (and stopping its own helpers the same way): no kill(), so no
      // pid is ever signalled by number. --verify's TLS parsing runs in the
      // probe role, which may signal nothing.
      f.AllowAll({"pidfd_open", "pidfd_send_signal"});
      // Asking the --exec helper and the probe role (forked before Enter)
      // and reaping them.
      f.AllowAll({"wait4", "waitid"});
      break;
    case Role::kProbe:
      AddProbe(f, policy);
      break;
  }
}

}  // namespace

bool SeccompAvailable() {
  uint32_t action = SECCOMP_RET_TRAP;
  return ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

Status ApplySeccomp(const Policy& policy) {
  Filter f;
  if (f.ctx() == nullptr) {
    return Err("sandbox: seccomp_init failed");
  }
  // Calls made through a foreign ABI (i386 on x86-64) never match the
  // native allowlist: kill the whole process.
  int rc = seccomp_attr_set(f.ctx(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) {
    return Err("sandbox: seccomp_attr_set(BADARCH): {}", std::strerror(-rc));
  }
  // Any thread that exists already gets the same filter.
  rc = seccomp_attr_set(f.ctx(), SCMP_FLTATR_CTL_TSYNC, 1);
  if (rc != 0) {
    return Err("sandbox: seccomp_attr_set(TSYNC): {}", std::strerror(-rc));
  }
  AddBase(f, policy);
  AddRole(f, policy);
  BH_TRY(f.status());

  g_trap_role = RoleName(policy.role).data();
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = OnSigsys;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGSYS, &sa, nullptr) != 0) {
    return Err("sandbox: installing the SIGSYS handler: {}", std::strerror(errno));
  }
  // A blocked SIGSYS would turn the report into a silent kill.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGSYS);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);

  rc = seccomp_load(f.ctx());
  if (rc != 0) {
    return Err("sandbox: seccomp_load: {}", std::strerror(-rc));
  }
  return OkStatus();
}

}  // namespace bulkhead::sandbox
