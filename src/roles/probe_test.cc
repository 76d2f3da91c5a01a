#include "roles/probe_role.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "probe/test_tls_server.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp.h"

namespace bulkhead::roles {
namespace {

using probe::testing::MakeCert;
using probe::testing::TestCert;
using probe::testing::TlsServer;

constexpr long kDay = 86400;

class ProbeRoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = MakeCert({"Test Root"}, -kDay, 3650 * kDay, nullptr, /*is_ca=*/true);
    inter_ = MakeCert({"Test Intermediate"}, -kDay, 3650 * kDay, &ca_, /*is_ca=*/true);
    char tmpl[] = "/tmp/bulkhead-probe-role-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    bundle_ = tmpl;
    std::ofstream(bundle_) << ca_.Pem();
  }
  void TearDown() override { std::remove(bundle_.c_str()); }

  probe::ProbeRequest Request(uint16_t port, const std::string& host = "good.test") {
    probe::ProbeRequest r;
    r.host = host;
    r.address = "127.0.0.1";
    r.port = port;
    r.ca_bundle = bundle_;
    r.timeout = std::chrono::milliseconds(5000);
    return r;
  }

  TestCert ca_;
  TestCert inter_;
  std::string bundle_;
};

// The role's results, rebuilt from messages, say what the in-process engine
// says (the fields the monitor reports), for good and bad endpoints alike.
TEST_F(ProbeRoleTest, ResultsMatchTheInProcessEngine) {
  TestCert good = MakeCert({"good.test", "www.good.test"}, -kDay, 60 * kDay, &inter_, false);
  TestCert expired = MakeCert({"good.test"}, -10 * kDay, -kDay, &inter_, false);
  TlsServer s1(good, {&inter_}, false,
               "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=1\r\nX-Other: y\r\n\r\n");
  TlsServer s2(expired, {&inter_}, false);
  int closed_port = 0;
  {
    TlsServer gone(good, {}, false);
    closed_port = gone.port();
  }
  std::vector<probe::ProbeRequest> requests = {Request(s1.port()), Request(s2.port(), "other.test"),
                                               Request(static_cast<uint16_t>(closed_port))};
  requests[0].http_headers = true;
  auto local = probe::ProbeAll(requests, {});
  ASSERT_TRUE(local.ok()) << local.error().message;
  ProbeJob job;
  job.requests = requests;
  auto remote = ProbeInRole(job);
  ASSERT_TRUE(remote.ok()) << remote.error().message;
  ASSERT_EQ(remote->size(), 3u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& a = (*local)[i];
    const auto& b = (*remote)[i];
    ASSERT_TRUE(a.ok() && b.ok()) << i;
    EXPECT_EQ(a->address, b->address);
    EXPECT_EQ(a->port, b->port);
    EXPECT_EQ(a->sni, b->sni);
    EXPECT_EQ(a->checked_name, b->checked_name);
    EXPECT_EQ(a->tls_version, b->tls_version);
    EXPECT_EQ(a->cipher, b->cipher);
    EXPECT_EQ(a->chain_valid, b->chain_valid);
    EXPECT_EQ(a->chain_error, b->chain_error);
    EXPECT_EQ(a->hostname_match, b->hostname_match);
    EXPECT_EQ(a->leaf_key.key_type, b->leaf_key.key_type);
    EXPECT_EQ(a->leaf_key.key_bits, b->leaf_key.key_bits);
    EXPECT_EQ(a->leaf_key.curve, b->leaf_key.curve);
    EXPECT_EQ(a->leaf_key.signature_algorithm, b->leaf_key.signature_algorithm);
    ASSERT_EQ(a->chain->size(), b->chain->size());
    for (size_t d = 0; d < a->chain->size(); ++d) {
      const crypto::CertInfo& x = (*a->chain)[d];
      const crypto::CertInfo& y = (*b->chain)[d];
      EXPECT_EQ(x.der, y.der);
      EXPECT_EQ(x.subject, y.subject);
      EXPECT_EQ(x.subject_cn, y.subject_cn);
      EXPECT_EQ(x.issuer, y.issuer);
      EXPECT_EQ(x.names, y.names);
      EXPECT_EQ(x.serial_hex, y.serial_hex);
      EXPECT_EQ(x.serial_der, y.serial_der);
      EXPECT_EQ(x.public_key_der, y.public_key_der);
      EXPECT_EQ(x.not_before, y.not_before);
      EXPECT_EQ(x.not_after, y.not_after);
    }
    // The signature facts TLSA matching needs came along.
    ASSERT_NE(b->links, nullptr);
    EXPECT_FALSE(b->links->leaf_self_signed);
    EXPECT_EQ(b->links->issued_by_next, std::vector<bool>{true});
  }
  EXPECT_TRUE((*remote)[0]->chain_valid);
  EXPECT_FALSE((*remote)[1]->chain_valid);
  EXPECT_FALSE((*remote)[1]->hostname_match);
  // HTTP: status and the headers the monitor reports, nothing else.
  EXPECT_EQ((*remote)[0]->http_status, std::optional<int>(200));
  EXPECT_EQ((*remote)[0]->http_headers,
            (std::map<std::string, std::string>{{"strict-transport-security", "max-age=1"}}));
  ASSERT_FALSE((*local)[2].ok());
  ASSERT_FALSE((*remote)[2].ok());
  EXPECT_EQ((*local)[2].error().message, (*remote)[2].error().message);
}

// A chain served from many addresses crosses the channel once and is shared.
TEST_F(ProbeRoleTest, SharesChainsAndServesRepeatedRuns) {
  TestCert good = MakeCert({"good.test"}, -kDay, 60 * kDay, &inter_, false);
  TlsServer s1(good, {&inter_}, false);
  TlsServer s2(good, {&inter_}, false);
  ProbeJob job;
  job.requests = {Request(s1.port()), Request(s2.port())};
  auto role = ProbeRole::Start(job);
  ASSERT_TRUE(role.ok()) << role.error().message;
  for (int run = 0; run < 2; ++run) {
    auto results = role->Run();
    ASSERT_TRUE(results.ok()) << results.error().message;
    ASSERT_TRUE((*results)[0].ok() && (*results)[1].ok());
    EXPECT_EQ((*results)[0]->chain.get(), (*results)[1]->chain.get());
  }
  Status stopped = role->Stop();
  EXPECT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_FALSE(role->Run().ok());
}

// Without a CA bundle the role uses the system trust store, which OpenSSL
// reads by listing its directory: allowed in the sandbox (the chain of a
// test CA is simply not trusted there).
TEST_F(ProbeRoleTest, SystemTrustStoreWorksInTheSandbox) {
  TestCert good = MakeCert({"good.test"}, -kDay, 60 * kDay, &inter_, false);
  TlsServer server(good, {&inter_}, false);
  probe::ProbeRequest r = Request(server.port());
  r.ca_bundle.clear();
  ProbeJob job;
  job.requests = {r};
  auto results = ProbeInRole(job);
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_TRUE((*results)[0].ok()) << (*results)[0].error().message;
  EXPECT_FALSE((*results)[0]->chain_valid);
  EXPECT_TRUE((*results)[0]->hostname_match);
}

// An engine failure is reported; the role lives on.
TEST_F(ProbeRoleTest, MissingCaBundleIsAnErrorOfTheRun) {
  probe::ProbeRequest r = Request(1);
  r.ca_bundle = "/nonexistent/bundle.pem";
  ProbeJob job;
  job.requests = {r};
  auto role = ProbeRole::Start(job);
  ASSERT_TRUE(role.ok());
  auto results = role->Run();
  ASSERT_FALSE(results.ok());
  EXPECT_NE(results.error().message.find("/nonexistent/bundle.pem"), std::string::npos)
      << results.error().message;
  EXPECT_TRUE(role->Stop().ok());
}

// The attacks below run in a child that entered the probe role's sandbox;
// each must end the child through the seccomp report (exit status 70).

// AttackInSandbox forks, enters `policy` and runs `attack`, whose return
// value is the exit status if the attack was not stopped. Returns the wait
// status.
int AttackInSandbox(const sandbox::Policy& policy, const std::function<int()>& attack) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    auto entered = sandbox::Enter(policy, false);
    if (!entered.ok()) {
      ::_exit(2);
    }
    ::_exit(attack());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

bool KilledBySeccomp(int status) {
  return WIFEXITED(status) && WEXITSTATUS(status) == sandbox::kForbiddenSyscallExitCode;
}

// Victim is a process the attacks aim at; it must survive them.
class Victim {
 public:
  Victim() {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::pause();
      ::_exit(0);
    }
  }
  ~Victim() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }
  bool Alive() const { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

class ProbeSandboxTest : public ProbeRoleTest {
 protected:
  void SetUp() override {
    ProbeRoleTest::SetUp();
    if (!sandbox::Probe().seccomp) {
      GTEST_SKIP() << "seccomp is unavailable";
    }
    ProbeJob job;
    job.requests = {Request(443)};
    policy_ = ProbePolicy(job, -1);
  }
  sandbox::Policy policy_;
};

TEST_F(ProbeSandboxTest, CannotSignalAnyProcess) {
  Victim victim;
  pid_t target = victim.pid();
  int status = AttackInSandbox(policy_, [target] { return ::kill(target, SIGKILL) == 0 ? 0 : 1; });
  EXPECT_TRUE(KilledBySeccomp(status)) << status;
  EXPECT_TRUE(victim.Alive());
  // Nor its parent (signal 0: the test process must live either way), nor
  // through a pidfd.
  EXPECT_TRUE(KilledBySeccomp(AttackInSandbox(policy_, [] { return ::kill(::getppid(), 0); })));
  EXPECT_TRUE(KilledBySeccomp(AttackInSandbox(policy_, [target] {
    return static_cast<int>(::syscall(SYS_pidfd_open, target, 0)) >= 0 ? 0 : 1;
  })));
  EXPECT_TRUE(victim.Alive());
}

TEST_F(ProbeSandboxTest, CannotWriteFiles) {
  std::string path = bundle_ + ".hostile";
  int status = AttackInSandbox(policy_, [&path] {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    return fd >= 0 ? 0 : 1;
  });
  EXPECT_TRUE(KilledBySeccomp(status)) << status;
  struct stat st;
  EXPECT_NE(::stat(path.c_str(), &st), 0) << path << " was created";
  // Reading stays possible (the trust store).
  EXPECT_EQ(WEXITSTATUS(AttackInSandbox(policy_, [this] {
              int fd = ::open(bundle_.c_str(), O_RDONLY);
              return fd >= 0 ? 0 : 1;
            })),
            0);
}

TEST_F(ProbeSandboxTest, UdpAndUnixSocketsOnlyToResolve) {
  EXPECT_TRUE(KilledBySeccomp(
      AttackInSandbox(policy_, [] { return ::socket(AF_INET, SOCK_DGRAM, 0) >= 0 ? 0 : 1; })));
  EXPECT_TRUE(KilledBySeccomp(
      AttackInSandbox(policy_, [] { return ::socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 1; })));
  EXPECT_EQ(WEXITSTATUS(AttackInSandbox(policy_, [] {
              return ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : 1;
            })),
            0);
  sandbox::Policy resolving = policy_;
  resolving.resolve_names = true;
  EXPECT_EQ(WEXITSTATUS(AttackInSandbox(resolving, [] {
              return ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0) >= 0 ? 0 : 1;
            })),
            0);
}

TEST_F(ProbeSandboxTest, PolicyFollowsTheJob) {
  ProbeJob job;
  job.requests = {Request(8443), Request(443), Request(8443)};
  job.requests[1].address.clear();
  sandbox::Policy p = ProbePolicy(job, 7);
  EXPECT_EQ(p.role, sandbox::Role::kProbe);
  EXPECT_EQ(p.connect_ports, (std::vector<uint16_t>{443, 8443}));
  EXPECT_TRUE(p.resolve_names);
  EXPECT_TRUE(p.write_dirs.empty());
  EXPECT_TRUE(p.bind_ports.empty());
  EXPECT_EQ(p.ipc_fd, 7);
  EXPECT_NE(std::find(p.read_paths.begin(), p.read_paths.end(), bundle_), p.read_paths.end());
}

}  // namespace
}  // namespace bulkhead::roles
