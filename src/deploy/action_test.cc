#include "deploy/action.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "sandbox/sandbox.h"
#include "sandbox/seccomp.h"
#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::deploy {
namespace {

// Child is a `sleep` process started for the test and reaped at the end.
class Child {
 public:
  explicit Child(const char* seconds) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/bin/sleep", "sleep", seconds, static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  // Wait reaps the child and returns its wait status.
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  // WaitUntilExec polls until the child runs `sleep` (fork returns before
  // execve); false after five seconds.
  bool WaitUntilExec() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      auto info = InspectProcess(pid_);
      if (info.ok() && info->comm == "sleep") {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
};

using ActionTest = TempDirTest;

TEST(ActionSignalTest, OnlyReloadSignals) {
  EXPECT_EQ(*ParseReloadSignal("HUP"), SIGHUP);
  EXPECT_EQ(*ParseReloadSignal("sigusr1"), SIGUSR1);
  EXPECT_EQ(*ParseReloadSignal("USR2"), SIGUSR2);
  for (const char* bad : {"KILL", "TERM", "9", "", "STOP", "INT"}) {
    auto r = ParseReloadSignal(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUsage);
  }
}

TEST_F(ActionTest, StalePidFileNamingAnotherProgramIsRefused) {
  Child sleeper("30");
  ASSERT_TRUE(sleeper.WaitUntilExec());
  std::string pidfile = dir_ + "/nginx.pid";
  ASSERT_TRUE(WriteFileAtomic(pidfile, std::to_string(sleeper.pid()) + "\n", 0644).ok());
  auto r = SignalServer(pidfile, *ExpectedFromPidFile(pidfile), SIGHUP);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("refusing"), std::string::npos) << r.error().message;
  // Not signalled: still running.
  int status = 0;
  EXPECT_EQ(::waitpid(sleeper.pid(), &status, WNOHANG), 0);
}

TEST_F(ActionTest, SignalsTheExpectedProgram) {
  Child sleeper("30");
  ASSERT_TRUE(sleeper.WaitUntilExec());
  std::string pidfile = dir_ + "/sleep.pid";
  ASSERT_TRUE(WriteFileAtomic(pidfile, std::to_string(sleeper.pid()), 0644).ok());
  auto r = SignalServer(pidfile, *ExpectedFromPidFile(pidfile), SIGHUP);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, sleeper.pid());
  int status = sleeper.Wait();
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGHUP);
}

// reload-watch's sandbox (the part that may signal): it signals the process
// its pid-file check accepted, through a pidfd, and nothing else: a pid
// file naming another program is refused, and kill() of any pid ends the
// process (seccomp), so even a compromised watcher cannot signal by number.
TEST_F(ActionTest, SandboxedWatcherSignalsOnlyTheAcceptedProcess) {
  if (!sandbox::Probe().seccomp) {
    GTEST_SKIP() << "seccomp is unavailable";
  }
  Child server("30");
  Child other("30");
  ASSERT_TRUE(server.WaitUntilExec());
  ASSERT_TRUE(other.WaitUntilExec());
  std::string pidfile = dir_ + "/sleep.pid";
  std::string foreign = dir_ + "/nginx.pid";
  ASSERT_TRUE(WriteFileAtomic(pidfile, std::to_string(server.pid()), 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(foreign, std::to_string(other.pid()), 0644).ok());
  sandbox::Policy policy;
  policy.role = sandbox::Role::kReloadWatch;
  policy.read_paths = {dir_, "/proc"};
  pid_t target = other.pid();
  std::fflush(nullptr);
  pid_t watcher = ::fork();
  if (watcher == 0) {
    if (!sandbox::Enter(policy, false).ok()) {
      ::_exit(2);
    }
    if (SignalServer(foreign, *ExpectedFromPidFile(foreign), SIGHUP).ok()) {
      ::_exit(3);  // The check must refuse a pid file naming another program.
    }
    if (!SignalServer(pidfile, *ExpectedFromPidFile(pidfile), SIGHUP).ok()) {
      ::_exit(4);  // The accepted process must be signalled.
    }
    ::kill(target, SIGKILL);  // Must end this process instead.
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(watcher, &status, 0), watcher);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), sandbox::kForbiddenSyscallExitCode);
  int server_status = server.Wait();
  ASSERT_TRUE(WIFSIGNALED(server_status));
  EXPECT_EQ(WTERMSIG(server_status), SIGHUP);
  EXPECT_EQ(::waitpid(other.pid(), &status, WNOHANG), 0) << "the other process was signalled";
}

TEST_F(ActionTest, VanishedPidIsNotFound) {
  Child gone("0");
  pid_t pid = gone.pid();
  gone.Wait();
  std::string pidfile = dir_ + "/sleep.pid";
  ASSERT_TRUE(WriteFileAtomic(pidfile, std::to_string(pid), 0644).ok());
  auto r = SignalServer(pidfile, ExpectedProcess{"", "sleep"}, SIGHUP);
  EXPECT_FALSE(r.ok());
}

TEST_F(ActionTest, RunProgramReportsStatusAndTimeout) {
  EXPECT_TRUE(RunProgram({"/bin/true"}, std::chrono::seconds(10)).ok());
  EXPECT_FALSE(RunProgram({"/bin/false"}, std::chrono::seconds(10)).ok());
  EXPECT_FALSE(RunProgram({"true"}, std::chrono::seconds(10)).ok());
  auto start = std::chrono::steady_clock::now();
  Status st = RunProgram({"/bin/sleep", "30"}, std::chrono::milliseconds(200));
  EXPECT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // No shell: the argument is passed as is.
  std::string out = dir_ + "/touched";
  EXPECT_TRUE(RunProgram({"/usr/bin/touch", out + " ; echo"}, std::chrono::seconds(10)).ok());
  EXPECT_EQ(::access((out + " ; echo").c_str(), F_OK), 0);
}

TEST_F(ActionTest, ActionHelperRunsTheFixedProgram) {
  std::string out = dir_ + "/ran";
  ActionHelper helper;
  ASSERT_TRUE(helper.Start(ExecAction({"/usr/bin/touch", out}, std::chrono::seconds(10))).ok());
  auto ran = helper.Run();
  ASSERT_TRUE(ran.ok()) << ran.error().message;
  EXPECT_EQ(*ran, "ran /usr/bin/touch");
  EXPECT_EQ(::access(out.c_str(), F_OK), 0);
  ActionHelper failing;
  ASSERT_TRUE(failing.Start(ExecAction({"/bin/false"}, std::chrono::seconds(10))).ok());
  auto failed = failing.Run();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "/bin/false exited with status 1");
}

// A compromised watcher holds the socket: anything but the one request
// ends the helper without acting, and nothing it sends makes the helper
// run its action twice per request or do anything else.
TEST_F(ActionTest, ActionHelperActsOnlyOnItsOneRequest) {
  std::string marker = dir_ + "/acted";
  ActionHelper helper;
  ASSERT_TRUE(helper
                  .Start([marker]() -> Result<std::string> {
                    BH_TRY(WriteFileAtomic(marker, "x", 0644));
                    return std::string("acted");
                  })
                  .ok());
  // The helper may be gone when Run writes: an error, not SIGPIPE (the
  // program ignores SIGPIPE in main).
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old), 0);
  const std::string attack = "X/bin/sh -c id; R";
  ASSERT_EQ(::write(helper.fd(), attack.data(), attack.size()),
            static_cast<ssize_t>(attack.size()));
  auto after = helper.Run();
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().message.rfind("action helper", 0), 0u) << after.error().message;
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "the helper acted on a forged request";
  ::sigaction(SIGPIPE, &old, nullptr);
}

// The helper's answer comes back whole (error text included) and capped.
TEST_F(ActionTest, ActionHelperReturnsTheActionsErrorCapped) {
  ActionHelper helper;
  ASSERT_TRUE(helper
                  .Start([]() -> Result<std::string> {
                    return Err("refused: {}", std::string(10000, 'x'));
                  })
                  .ok());
  for (int i = 0; i < 2; ++i) {
    auto r = helper.Run();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message.rfind("refused: xxx", 0), 0u);
    EXPECT_EQ(r.error().message.size(), 4095u);
  }
}

}  // namespace
}  // namespace bulkhead::deploy
