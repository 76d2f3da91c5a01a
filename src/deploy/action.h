// What reload-watch does to a server: send it a signal after checking that
// the pid file really names it, or run a fixed program without a shell.
#ifndef BULKHEAD_DEPLOY_ACTION_H_
#define BULKHEAD_DEPLOY_ACTION_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "deploy/pidfile.h"
#include "util/fs.h"
#include "util/result.h"

namespace bulkhead::deploy {

// ParseReloadSignal maps "HUP", "SIGHUP", "USR1", "USR2" or "WINCH" (any
// case) to its number. Signals that stop or kill a server are refused
// (kUsage): this tool reloads, it never restarts.
Result<int> ParseReloadSignal(std::string_view name);

// SignalServer reads `pidfile`, checks that the pid exists and runs
// `expected`, and sends it `sig`. The process is pinned with a pidfd before
// the check, so a pid reused between the check and the signal cannot be
// hit. Returns the pid signalled, or an error naming the refusal.
Result<pid_t> SignalServer(const std::string& pidfile, const ExpectedProcess& expected,
                           int sig);

// RunProgram runs argv[0] (an absolute path) with `argv` and a minimal
// environment, no shell, stdin from /dev/null and descriptors above 2
// closed. It waits at most `timeout` (then kills and reaps the program) and
// fails unless the program exits 0.
Status RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// ExecHelper is a small child process started before the sandbox, which
// runs the --exec program on request: the program must keep the rights of
// the service (it may read server configuration or talk to a service
// manager), which the sandboxed watcher no longer has. The helper accepts
// one byte per request over a socket pair and can run nothing but the argv
// fixed at Start.
class ExecHelper {
 public:
  ExecHelper() = default;
  ExecHelper(const ExecHelper&) = delete;
  ExecHelper& operator=(const ExecHelper&) = delete;
  // The destructor closes the socket (the helper then exits) and reaps it.
  ~ExecHelper();

  // Start forks the helper. Must run while single-threaded.
  Status Start(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

  // Run asks the helper to run the program and waits for its verdict.
  Status Run();

  // fd is the watcher's end of the socket pair (for the sandbox policy).
  int fd() const { return sock_.get(); }

 private:
  ScopedFd sock_;
  pid_t pid_ = -1;
  std::vector<std::string> argv_;
};

}  // namespace bulkhead::deploy

#endif  // BULKHEAD_DEPLOY_ACTION_H_
