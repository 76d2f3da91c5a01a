#include "sandbox/sandbox.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/if_ether.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sandbox/identity.h"
#include "sandbox/landlock.h"
#include "sandbox/seccomp.h"
#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::sandbox {
namespace {

// Contains asserts that `text` contains `part`, showing both if not.
::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part
                                       << "\"";
}

// ChildResult is how a sandboxed child ended and what it said.
struct ChildResult {
  bool exited = false;
  int exit_code = -1;
  int term_signal = 0;
  std::string stderr_text;
  std::string report;  // What the child wrote to its report pipe.
};

// RunChild forks a child that runs `body(report_fd)` and _exits with its
// result; the child's stderr and report pipe are collected until both reach
// EOF (the child has exited) or a 20 s deadline passes (then it is killed).
ChildResult RunChild(const std::function<int(int report_fd)>& body) {
  ChildResult result;
  int err_pipe[2];
  int rep_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(rep_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return result;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return result;
  }
  if (pid == 0) {
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::close(err_pipe[0]);
    ::close(rep_pipe[0]);
    int rc = body(rep_pipe[1]);
    ::_exit(rc);
  }
  ::close(err_pipe[1]);
  ::close(rep_pipe[1]);
  ScopedFd err_fd(err_pipe[0]);
  ScopedFd rep_fd(rep_pipe[0]);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool err_open = true;
  bool rep_open = true;
  while (err_open || rep_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ADD_FAILURE() << "child did not finish in time; killing it";
      ::kill(pid, SIGKILL);
      break;
    }
    struct pollfd fds[2] = {{err_open ? err_fd.get() : -1, POLLIN, 0},
                            {rep_open ? rep_fd.get() : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) {
      ADD_FAILURE() << "poll: " << std::strerror(errno);
      ::kill(pid, SIGKILL);
      break;
    }
    char buf[4096];
    if (err_open && fds[0].revents != 0) {
      ssize_t got = ::read(err_fd.get(), buf, sizeof(buf));
      if (got <= 0) {
        err_open = false;
      } else {
        result.stderr_text.append(buf, static_cast<size_t>(got));
      }
    }
    if (rep_open && fds[1].revents != 0) {
      ssize_t got = ::read(rep_fd.get(), buf, sizeof(buf));
      if (got <= 0) {
        rep_open = false;
      } else {
        result.report.append(buf, static_cast<size_t>(got));
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

// Say appends "key=value\n" to the child's report.
void Say(int fd, const std::string& key, const std::string& value) {
  std::string line = key + "=" + value + "\n";
  ssize_t ignored = ::write(fd, line.data(), line.size());
  (void)ignored;
}

// Outcome turns a -1/errno result into "ok" or the errno's name.
std::string Outcome(int rc) {
  if (rc >= 0) {
    return "ok";
  }
  switch (errno) {
    case EACCES:
      return "EACCES";
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    default:
      return "errno " + std::to_string(errno);
  }
}

// OpenOutcome opens `path` with `flags` and reports Outcome.
std::string OpenOutcome(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
  std::string out = Outcome(fd);
  if (fd >= 0) {
    ::close(fd);
  }
  return out;
}

// ConnectOutcome connects a new TCP socket to 127.0.0.1:port.
std::string ConnectOutcome(uint16_t port) {
  ScopedFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) {
    return "socket " + Outcome(-1);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return Outcome(::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
}

// BindOutcome binds (and listens on) a new TCP socket at 127.0.0.1:port.
std::string BindOutcome(uint16_t port) {
  ScopedFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) {
    return "socket " + Outcome(-1);
  }
  int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Outcome(-1);
  }
  return Outcome(::listen(s.get(), 1));
}

// Listener is a loopback TCP listener on a free port.
struct Listener {
  ScopedFd fd;
  uint16_t port = 0;
};

Listener Listen() {
  Listener l;
  l.fd = ScopedFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_TRUE(l.fd.valid());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::listen(l.fd.get(), 8), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  l.port = ntohs(addr.sin_port);
  return l;
}

// Enters `policy` in the child; on failure prints why and returns false.
bool EnterOrSay(const Policy& policy, int report_fd) {
  Result<Report> r = Enter(policy, /*require_full=*/true);
  if (!r.ok()) {
    Say(report_fd, "enter", r.error().message);
    return false;
  }
  return true;
}

// ForbiddenMessage is the SIGSYS report's prefix for `role` and `syscall`.
std::string ForbiddenMessage(const std::string& role, const std::string& syscall) {
  return "bulkhead: " + role + " role: forbidden system call " + syscall + " (";
}

class SandboxTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    inside_ = dir_ + "/inside";
    outside_ = dir_ + "/outside";
    ASSERT_EQ(::mkdir(inside_.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(outside_.c_str(), 0700), 0);
    ASSERT_TRUE(WriteFileAtomic(inside_ + "/readable", "public", 0644).ok());
    ASSERT_TRUE(WriteFileAtomic(outside_ + "/secret", "private key", 0600).ok());
  }

  std::string inside_;
  std::string outside_;
};

TEST_F(SandboxTest, RoleNames) {
  EXPECT_EQ(RoleName(Role::kSigner), "signer");
  EXPECT_EQ(RoleName(Role::kKeys), "keys");
  EXPECT_EQ(RoleName(Role::kNet), "net");
  EXPECT_EQ(RoleName(Role::kChallenge), "challenge");
  EXPECT_EQ(RoleName(Role::kStore), "store");
}

TEST_F(SandboxTest, ProbeReportsThisKernel) {
  Report r = Probe();
  EXPECT_GE(r.landlock_abi, 1);
  EXPECT_TRUE(r.landlock_fs);
  EXPECT_TRUE(r.seccomp);
  if (r.landlock_abi >= 4) {
    EXPECT_TRUE(r.landlock_net);
    EXPECT_TRUE(r.gaps.empty()) << r.gaps.front();
  } else {
    EXPECT_FALSE(r.gaps.empty());
  }
  EXPECT_EQ(r.landlock_scope, r.landlock_abi >= 6);
}

TEST_F(SandboxTest, SignerReadsItsOpenKeyButCannotOpenFiles) {
  std::string key_path = outside_ + "/secret";
  std::string other = inside_ + "/readable";
  ChildResult c = RunChild([&](int report) {
    // Open, then sandbox, then use.
    int key_fd = ::open(key_path.c_str(), O_RDONLY | O_CLOEXEC);
    Policy p;
    p.role = Role::kSigner;
    if (key_fd < 0 || !EnterOrSay(p, report)) {
      return 1;
    }
    char buf[64];
    ssize_t got = ::read(key_fd, buf, sizeof(buf));
    Say(report, "key", got > 0 ? std::string(buf, static_cast<size_t>(got)) : "read failed");
    Say(report, "open", OpenOutcome(other, O_RDONLY));
    return 0;
  });
  EXPECT_TRUE(Contains(c.report, "key=private key\n"));
  // openat is not on the signer's list at all, so the call never reaches
  // Landlock: the process dies with a report.
  EXPECT_TRUE(c.exited);
  EXPECT_EQ(c.exit_code, kForbiddenSyscallExitCode) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.stderr_text, ForbiddenMessage("signer", "openat")));
  EXPECT_FALSE(Contains(c.report, "open="));
}

TEST_F(SandboxTest, StoreWritesOnlyInsideItsDirectory) {
  ChildResult c = RunChild([&](int report) {
    Policy p;
    p.role = Role::kStore;
    p.write_dirs = {inside_};
    if (!EnterOrSay(p, report)) {
      return 1;
    }
    Say(report, "atomic", WriteFileAtomic(inside_ + "/cert.pem", "chain", 0644).ok() ? "ok" : "no");
    // The live-symlink switch: a new symlink renamed over the old one.
    Say(report, "symlink", Outcome(::symlink("cert.pem", (inside_ + "/live.tmp").c_str())));
    Say(report, "rename",
        Outcome(::rename((inside_ + "/live.tmp").c_str(), (inside_ + "/live").c_str())));
    Say(report, "outside", OpenOutcome(outside_ + "/cert.pem", O_WRONLY | O_CREAT | O_EXCL));
    Say(report, "read_outside", OpenOutcome(outside_ + "/secret", O_RDONLY));
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_EQ(c.exit_code, 0) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.report, "atomic=ok\n"));
  EXPECT_TRUE(Contains(c.report, "symlink=ok\n"));
  EXPECT_TRUE(Contains(c.report, "rename=ok\n"));
  EXPECT_TRUE(Contains(c.report, "outside=EACCES\n"));
  EXPECT_TRUE(Contains(c.report, "read_outside=EACCES\n"));
  Result<std::string> written = ReadFileCapped(inside_ + "/live", 100);
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(*written, "chain");
  EXPECT_NE(::access((outside_ + "/cert.pem").c_str(), F_OK), 0);
}

TEST_F(SandboxTest, NetReadsOnlyItsPathsAndConnectsOnlyToItsPort) {
  Listener allowed = Listen();
  Listener denied = Listen();
  ChildResult c = RunChild([&](int report) {
    Policy p;
    p.role = Role::kNet;
    p.read_paths = NetSystemReadPaths();
    p.read_paths.push_back(inside_);
    p.connect_ports = {allowed.port};
    if (!EnterOrSay(p, report)) {
      return 1;
    }
    Say(report, "read_inside", OpenOutcome(inside_ + "/readable", O_RDONLY));
    Say(report, "read_outside", OpenOutcome(outside_ + "/secret", O_RDONLY));
    Say(report, "connect_denied", ConnectOutcome(denied.port));
    Say(report, "connect_allowed", ConnectOutcome(allowed.port));
    // glibc's nscd probe must fail softly, not kill the process.
    Say(report, "unix_socket", Outcome(::socket(AF_UNIX, SOCK_STREAM, 0)));
    // Name resolution through NSS (files) works inside the sandbox.
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int gai = ::getaddrinfo("localhost", "443", &hints, &res);
    Say(report, "resolve", gai == 0 ? "ok" : ::gai_strerror(gai));
    if (res != nullptr) {
      ::freeaddrinfo(res);
    }
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_EQ(c.exit_code, 0) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.report, "read_inside=ok\n"));
  EXPECT_TRUE(Contains(c.report, "read_outside=EACCES\n"));
  EXPECT_TRUE(Contains(c.report, "connect_denied=EACCES\n"));
  EXPECT_TRUE(Contains(c.report, "connect_allowed=ok\n"));
  EXPECT_TRUE(Contains(c.report, "unix_socket=EACCES\n"));
  EXPECT_TRUE(Contains(c.report, "resolve=ok\n"));
}

TEST_F(SandboxTest, NetCannotOpenFilesForWriting) {
  ChildResult c = RunChild([&](int report) {
    Policy p;
    p.role = Role::kNet;
    p.read_paths = {inside_};
    if (!EnterOrSay(p, report)) {
      return 1;
    }
    Say(report, "write", OpenOutcome(inside_ + "/readable", O_WRONLY));
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_EQ(c.exit_code, kForbiddenSyscallExitCode) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.stderr_text, ForbiddenMessage("net", "openat")));
}

TEST_F(SandboxTest, ChallengeWritesItsDirectoryAndListensButCannotConnect) {
  Listener other = Listen();
  // A free port for the child's server: bind port 0, note it, release it.
  uint16_t free_port = Listen().port;
  ChildResult c = RunChild([&](int report) {
    Policy p;
    p.role = Role::kChallenge;
    p.write_dirs = {inside_};
    p.bind_ports = {free_port};
    if (!EnterOrSay(p, report)) {
      return 1;
    }
    Say(report, "publish",
        WriteFileAtomic(inside_ + "/token", "token.thumbprint", 0644).ok() ? "ok" : "no");
    Say(report, "remove", Outcome(::unlink((inside_ + "/token").c_str())));
    Say(report, "outside", OpenOutcome(outside_ + "/token", O_WRONLY | O_CREAT | O_EXCL));
    Say(report, "read_outside", OpenOutcome(outside_ + "/secret", O_RDONLY));
    Say(report, "bind_allowed", BindOutcome(free_port));
    Say(report, "bind_denied", BindOutcome(other.port));
    Say(report, "connect", ConnectOutcome(other.port));
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_TRUE(Contains(c.report, "publish=ok\n"));
  EXPECT_TRUE(Contains(c.report, "remove=ok\n"));
  EXPECT_TRUE(Contains(c.report, "outside=EACCES\n"));
  EXPECT_TRUE(Contains(c.report, "read_outside=EACCES\n"));
  EXPECT_TRUE(Contains(c.report, "bind_allowed=ok\n"));
  // Landlock refuses before the kernel looks at whether the port is taken.
  EXPECT_TRUE(Contains(c.report, "bind_denied=EACCES\n"));
  EXPECT_EQ(c.exit_code, kForbiddenSyscallExitCode) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.stderr_text, ForbiddenMessage("challenge", "connect")));
}

TEST_F(SandboxTest, KeysCreatesItsKeyButHasNoNetwork) {
  ChildResult c = RunChild([&](int report) {
    Policy p;
    p.role = Role::kKeys;
    p.write_dirs = {inside_};
    if (!EnterOrSay(p, report)) {
      return 1;
    }
    Say(report, "create",
        CreateFileExclusive(inside_ + "/domain.key", "key", 0600).ok() ? "ok" : "no");
    Say(report, "outside", OpenOutcome(outside_ + "/secret", O_RDONLY));
    Say(report, "socket", Outcome(::socket(AF_INET, SOCK_STREAM, 0)));
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_TRUE(Contains(c.report, "create=ok\n"));
  EXPECT_TRUE(Contains(c.report, "outside=EACCES\n"));
  EXPECT_EQ(c.exit_code, kForbiddenSyscallExitCode) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.stderr_text, ForbiddenMessage("keys", "socket")));
}

TEST_F(SandboxTest, RequireFullFailsOnAnOldKernel) {
  Listener listener = Listen();
  ChildResult c = RunChild([&](int report) {
    SetLandlockAbiCapForTesting(3);
    Policy p;
    p.role = Role::kNet;
    p.connect_ports = {1};
    Result<Report> r = Enter(p, /*require_full=*/true);
    Say(report, "enter", r.ok() ? "ok" : r.error().message);
    // The error came after applying what the kernel offers: paths are
    // restricted already.
    Say(report, "read_outside", OpenOutcome(outside_ + "/secret", O_RDONLY));
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_EQ(c.exit_code, 0) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.report, "enter=sandbox: net role: the kernel cannot enforce"));
  EXPECT_TRUE(Contains(c.report, "TCP connect and bind are not limited"));
  EXPECT_TRUE(Contains(c.report, "read_outside=EACCES\n"));
}

TEST_F(SandboxTest, GapsAreReportedWithoutRequireFull) {
  Listener listener = Listen();
  ChildResult c = RunChild([&](int report) {
    SetLandlockAbiCapForTesting(3);
    Policy p;
    p.role = Role::kNet;
    p.connect_ports = {1};
    Result<Report> r = Enter(p, /*require_full=*/false);
    if (!r.ok()) {
      Say(report, "enter", r.error().message);
      return 1;
    }
    Say(report, "abi", std::to_string(r->landlock_abi));
    Say(report, "net", r->landlock_net ? "yes" : "no");
    Say(report, "gaps", std::to_string(r->gaps.size()));
    // The gap is real: the port rule could not be enforced.
    Say(report, "connect", ConnectOutcome(listener.port));
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_EQ(c.exit_code, 0) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.report, "abi=3\n"));
  EXPECT_TRUE(Contains(c.report, "net=no\n"));
  EXPECT_TRUE(Contains(c.report, "gaps=1\n"));
  EXPECT_TRUE(Contains(c.report, "connect=ok\n"));
}

TEST_F(SandboxTest, SignerHasNoGapsOnAnOldKernel) {
  // The signer cannot create sockets at all, so missing Landlock port rules
  // are no gap for it.
  ChildResult c = RunChild([&](int report) {
    SetLandlockAbiCapForTesting(3);
    Policy p;
    p.role = Role::kSigner;
    Result<Report> r = Enter(p, /*require_full=*/true);
    Say(report, "enter", r.ok() ? "ok" : r.error().message);
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_EQ(c.exit_code, 0) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.report, "enter=ok\n"));
}

TEST_F(SandboxTest, EnterRefusesAMultiThreadedProcess) {
  ChildResult c = RunChild([&](int report) {
    int hold[2];
    if (::pipe(hold) != 0) {
      return 1;
    }
    // A thread that blocks until the process exits.
    std::thread t([fd = hold[0]] {
      char b;
      ssize_t ignored = ::read(fd, &b, 1);
      (void)ignored;
    });
    t.detach();
    Policy p;
    p.role = Role::kSigner;
    Result<Report> r = Enter(p, /*require_full=*/true);
    Say(report, "enter", r.ok() ? "ok" : r.error().message);
    // Still unrestricted: nothing was applied.
    Say(report, "open", OpenOutcome(outside_ + "/secret", O_RDONLY));
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_EQ(c.exit_code, 0) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.report, "threads; Enter must run before any thread starts"));
  EXPECT_TRUE(Contains(c.report, "open=ok\n"));
}


#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

// SocketKind is one socket a role might try to create.
struct SocketKind {
  const char* name;
  int family;
  int type;
  int protocol;
};

// The sockets no role may create: Landlock's TCP port rules do not cover
// them (MPTCP on some kernels, the others on all), so seccomp must stop
// them before they exist.
const SocketKind kNeverAllowed[] = {
    {"mptcp", AF_INET, SOCK_STREAM, IPPROTO_MPTCP},
    {"mptcp6", AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_MPTCP},
    {"sctp", AF_INET, SOCK_STREAM, IPPROTO_SCTP},
    {"sctp_seqpacket", AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP},
    {"raw", AF_INET, SOCK_RAW, IPPROTO_UDP},
    {"raw6", AF_INET6, SOCK_RAW, IPPROTO_RAW},
    {"packet", AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)},
    {"udp_as_stream_flags", AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_TCP},
};

// RolePolicies returns one policy per role, each as wide as the role ever
// gets (the challenge role with both a listener and pre-flight/dns-01
// connects and UDP).
std::vector<Policy> RolePolicies(uint16_t port) {
  std::vector<Policy> out;
  for (Role role : {Role::kSigner, Role::kKeys, Role::kNet, Role::kChallenge, Role::kStore,
                    Role::kReloadWatch}) {
    Policy p;
    p.role = role;
    if (role == Role::kNet || role == Role::kReloadWatch) {
      p.connect_ports = {port};
    }
    if (role == Role::kChallenge) {
      p.connect_ports = {port};
      p.bind_ports = {port};
      p.udp = true;
    }
    out.push_back(p);
  }
  return out;
}

TEST_F(SandboxTest, NoRoleCreatesMptcpSctpRawOrPacketSockets) {
  for (const Policy& policy : RolePolicies(1)) {
    std::string role(RoleName(policy.role));
    for (const SocketKind& kind : kNeverAllowed) {
      SCOPED_TRACE(role + " " + kind.name);
      ChildResult c = RunChild([&](int report) {
        if (!EnterOrSay(policy, report)) {
          return 1;
        }
        int fd = ::socket(kind.family, kind.type, kind.protocol);
        Say(report, "socket", Outcome(fd));
        return 0;
      });
      EXPECT_TRUE(c.exited) << c.stderr_text;
      EXPECT_EQ(c.exit_code, kForbiddenSyscallExitCode) << c.report << c.stderr_text;
      EXPECT_TRUE(Contains(c.stderr_text, ForbiddenMessage(role, "socket")));
      EXPECT_FALSE(Contains(c.report, "socket="));
    }
  }
}

// UdpOutcome sends one datagram to 127.0.0.1:port from a new UDP socket.
std::string UdpOutcome(uint16_t port) {
  ScopedFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) {
    return "socket " + Outcome(-1);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return Outcome(static_cast<int>(
      ::sendto(s.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))));
}

TEST_F(SandboxTest, NetHasTcpToItsPortButNoUdp) {
  Listener allowed = Listen();
  // TCP with every accepted spelling of the type and protocol still works.
  ChildResult ok = RunChild([&](int report) {
    Policy p;
    p.role = Role::kNet;
    p.connect_ports = {allowed.port};
    if (!EnterOrSay(p, report)) {
      return 1;
    }
    Say(report, "tcp", ConnectOutcome(allowed.port));
    ScopedFd a(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    Say(report, "tcp_flags", a.valid() ? "ok" : Outcome(-1));
    ScopedFd b(::socket(AF_INET6, SOCK_STREAM, 0));
    Say(report, "tcp6", b.valid() ? "ok" : Outcome(-1));
    return 0;
  });
  ASSERT_TRUE(ok.exited) << ok.stderr_text;
  EXPECT_EQ(ok.exit_code, 0) << ok.report << ok.stderr_text;
  EXPECT_TRUE(Contains(ok.report, "tcp=ok\n"));
  EXPECT_TRUE(Contains(ok.report, "tcp_flags=ok\n"));
  EXPECT_TRUE(Contains(ok.report, "tcp6=ok\n"));

  ChildResult udp = RunChild([&](int report) {
    Policy p;
    p.role = Role::kNet;
    p.connect_ports = {allowed.port};
    if (!EnterOrSay(p, report)) {
      return 1;
    }
    Say(report, "udp", UdpOutcome(allowed.port));
    return 0;
  });
  EXPECT_TRUE(udp.exited) << udp.stderr_text;
  EXPECT_EQ(udp.exit_code, kForbiddenSyscallExitCode) << udp.report << udp.stderr_text;
  EXPECT_TRUE(Contains(udp.stderr_text, ForbiddenMessage("net", "socket")));
}

TEST_F(SandboxTest, UdpOnlyWhereThePolicySaysSo) {
  // A UDP receiver, so that the datagram has somewhere to go.
  ScopedFd sink(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sink.valid());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(sink.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(sink.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  uint16_t port = ntohs(addr.sin_port);
  ChildResult c = RunChild([&](int report) {
    Policy p;
    p.role = Role::kNet;  // As the DANE observer uses it.
    p.connect_ports = {53};
    p.udp = true;
    if (!EnterOrSay(p, report)) {
      return 1;
    }
    Say(report, "udp", UdpOutcome(port));
    ScopedFd u(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
    Say(report, "udp6", u.valid() ? "ok" : Outcome(-1));
    // MPTCP stays closed with UDP open.
    Say(report, "mptcp", Outcome(::socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP)));
    return 0;
  });
  EXPECT_TRUE(Contains(c.report, "udp=ok\n"));
  EXPECT_TRUE(Contains(c.report, "udp6=ok\n"));
  EXPECT_EQ(c.exit_code, kForbiddenSyscallExitCode) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.stderr_text, ForbiddenMessage("net", "socket")));
  char buf[8];
  EXPECT_EQ(::recv(sink.get(), buf, sizeof(buf), MSG_DONTWAIT), 1);
}

// CapLines returns the Cap* lines of /proc/self/status read from `fd`,
// which was opened before Enter (Landlock closes /proc afterwards; a
// status file re-reads the live values from offset 0).
std::string CapLines(int fd) {
  std::string text;
  char buf[4096];
  if (::lseek(fd, 0, SEEK_SET) != 0) {
    return "lseek failed";
  }
  ssize_t got;
  while ((got = ::read(fd, buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(got));
  }
  std::istringstream in(text);
  std::string line;
  std::string out;
  while (std::getline(in, line)) {
    if (line.rfind("Cap", 0) == 0) {
      out += line + "\n";
    }
  }
  return out;
}

// AllCapsZero says whether every Cap* line of `lines` is zero.
bool AllCapsZero(const std::string& lines, bool bounding_too) {
  std::istringstream in(lines);
  std::string line;
  int seen = 0;
  while (std::getline(in, line)) {
    std::string name = line.substr(0, line.find(':'));
    std::string value = line.substr(line.find(':') + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    if (name == "CapBnd" && !bounding_too) {
      continue;
    }
    ++seen;
    if (value.find_first_not_of('0') != std::string::npos) {
      return false;
    }
  }
  return seen == (bounding_too ? 5 : 4);
}

TEST_F(SandboxTest, EveryRoleDropsEveryCapabilityEvenAsRoot) {
  bool root = ::geteuid() == 0;
  std::optional<RunAs> nobody;
  if (root) {
    auto who = LookupRunAs("nobody");
    if (who.ok()) {
      nobody = *who;
    }
  }
  for (const Policy& base : RolePolicies(1)) {
    for (bool switch_user : {false, true}) {
      if (switch_user && !nobody) {
        continue;
      }
      std::string role(RoleName(base.role));
      SCOPED_TRACE(role + (switch_user ? " as nobody" : " keeping its uid"));
      ChildResult c = RunChild([&](int report) {
        Policy p = base;
        if (switch_user) {
          p.run_as = nobody;
        }
        int status = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (status < 0) {
          return 1;
        }
        Say(report, "zero_before", AllCapsZero(CapLines(status), root) ? "yes" : "no");
        if (!EnterOrSay(p, report)) {
          return 1;
        }
        std::string after = CapLines(status);
        // reload-watch included: its helper signals the server.
        Say(report, "zero", AllCapsZero(after, root) ? "yes" : "no");
        Say(report, "after", after);
        Say(report, "uid", std::to_string(::geteuid()));
        return 0;
      });
      ASSERT_TRUE(c.exited) << c.stderr_text;
      EXPECT_EQ(c.exit_code, 0) << c.report << c.stderr_text;
      EXPECT_TRUE(Contains(c.report, "zero=yes\n")) << c.report;
      if (root) {
        // The test means something: root had capabilities before Enter.
        EXPECT_TRUE(Contains(c.report, "zero_before=no\n")) << c.report;
      }
      if (root && !switch_user) {
        EXPECT_TRUE(Contains(c.report, "uid=0\n"));
      }
    }
  }
}

TEST_F(SandboxTest, DropAllCapabilitiesLeavesNothing) {
  ChildResult c = RunChild([&](int report) {
    Status st = DropAllCapabilities();
    Say(report, "drop", st.ok() ? "ok" : st.error().message);
    int status = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    Say(report, "zero", AllCapsZero(CapLines(status), ::geteuid() == 0) ? "yes" : "no");
    // Without CAP_NET_BIND_SERVICE a port below 1024 is out of reach
    // (unless the machine lowered ip_unprivileged_port_start).
    ScopedFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(1);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    Say(report, "bind_1",
        Outcome(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr))));
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_TRUE(Contains(c.report, "drop=ok\n"));
  EXPECT_TRUE(Contains(c.report, "zero=yes\n")) << c.report;
  Result<std::string> start =
      ReadFileCapped("/proc/sys/net/ipv4/ip_unprivileged_port_start", 32);
  if (!start.ok() || std::atoi(start->c_str()) > 1) {
    EXPECT_TRUE(Contains(c.report, "bind_1=EACCES\n"));
  }
}

TEST_F(SandboxTest, ListenerBoundBeforeEnterServesOnAPrivilegedPort) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to bind a port below 1024";
  }
  auto nobody = LookupRunAs("nobody");
  ASSERT_TRUE(nobody.ok()) << nobody.error().message;
  ChildResult c = RunChild([&](int report) {
    // Open (as root), then sandbox: the standalone http-01 listener's way.
    ScopedFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    uint16_t port = 0;
    for (uint16_t candidate = 1023; candidate > 900 && port == 0; --candidate) {
      addr.sin_port = htons(candidate);
      if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
        port = candidate;
      }
    }
    if (port == 0 || ::listen(listener.get(), 4) != 0) {
      Say(report, "listen", "no free port below 1024");
      return 1;
    }
    Policy p;
    p.role = Role::kChallenge;
    p.bind_ports = {port};
    p.connect_ports = {port};
    p.run_as = *nobody;
    if (!EnterOrSay(p, report)) {
      return 1;
    }
    Say(report, "uid", std::to_string(::geteuid()));
    Say(report, "connect", ConnectOutcome(port));
    ScopedFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    Say(report, "accept", accepted.valid() ? "ok" : Outcome(-1));
    // Binding it anew needs the capability the role no longer has.
    Say(report, "bind_again", BindOutcome(port));
    return 0;
  });
  ASSERT_TRUE(c.exited) << c.stderr_text;
  EXPECT_EQ(c.exit_code, 0) << c.report << c.stderr_text;
  EXPECT_TRUE(Contains(c.report, "uid=" + std::to_string(nobody->uid) + "\n"));
  EXPECT_TRUE(Contains(c.report, "connect=ok\n"));
  EXPECT_TRUE(Contains(c.report, "accept=ok\n"));
  EXPECT_TRUE(Contains(c.report, "bind_again=EACCES\n"));
}

// AttackFromSameUser forks a process that becomes `uid` (no capabilities)
// and tries to open /proc/TARGET/mem and to PTRACE_SEIZE `target`;
// returns "mem=...,ptrace=...".
std::string AttackFromSameUser(pid_t target, uid_t uid, gid_t gid) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return "pipe failed";
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(out[0]);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      ::_exit(1);
    }
    std::string path = "/proc/" + std::to_string(target) + "/mem";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    std::string r = "mem=" + Outcome(fd);
    long rc = ::ptrace(PTRACE_SEIZE, target, nullptr, nullptr);
    r += ",ptrace=" + Outcome(static_cast<int>(rc));
    if (rc == 0) {
      ::ptrace(PTRACE_DETACH, target, nullptr, nullptr);
    }
    ssize_t ignored = ::write(out[1], r.data(), r.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(out[1]);
  std::string r;
  char buf[256];
  ssize_t got;
  while ((got = ::read(out[0], buf, sizeof(buf))) > 0) {
    r.append(buf, static_cast<size_t>(got));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return r;
}

// RunTarget forks a child of user `who` that (with `sandboxed`) enters the
// signer's sandbox, then waits; meanwhile another process of the same user
// attacks it. Returns the attack's result.
std::string AttackTarget(const RunAs& who, bool sandboxed) {
  int ready[2];
  int go[2];
  if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(go, O_CLOEXEC) != 0) {
    return "pipe failed";
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    ::close(go[1]);
    if (sandboxed) {
      Policy p;
      p.role = Role::kSigner;
      p.run_as = who;
      if (!Enter(p, /*require_full=*/false).ok()) {
        ::_exit(1);
      }
    } else if (!DropPrivileges(who).ok()) {
      ::_exit(1);
    } else {
      // Make the control case explicit: an ordinary process is dumpable.
      ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    }
    char b = 'r';
    ssize_t ignored = ::write(ready[1], &b, 1);
    ignored = ::read(go[0], &b, 1);
    (void)ignored;
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(go[0]);
  char b;
  std::string r;
  if (::read(ready[0], &b, 1) == 1) {
    r = AttackFromSameUser(pid, who.uid, who.gid);
  } else {
    r = "target did not start";
  }
  ::close(go[1]);
  ::close(ready[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return r;
}

TEST_F(SandboxTest, RolesAreNotDumpable) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to run the target and the attacker as another user";
  }
  auto nobody = LookupRunAs("nobody");
  ASSERT_TRUE(nobody.ok()) << nobody.error().message;
  // Control: an unsandboxed process of the same user can be read and
  // traced (so the attack below is a real one).
  EXPECT_EQ(AttackTarget(*nobody, /*sandboxed=*/false), "mem=ok,ptrace=ok");
  // After Enter neither works for another process of the same user.
  std::string r = AttackTarget(*nobody, /*sandboxed=*/true);
  EXPECT_TRUE(Contains(r, "mem=EACCES")) << r;
  EXPECT_TRUE(Contains(r, "ptrace=EPERM")) << r;
}

}  // namespace
}  // namespace bulkhead::sandbox
