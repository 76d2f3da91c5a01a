// What reload-watch does to a server: send it a signal after checking that
// the pid file really names it, or run a fixed program without a shell.
#ifndef BULKHEAD_DEPLOY_ACTION_H_
#define BULKHEAD_DEPLOY_ACTION_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
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

// ActionHelper is a small child process started before the sandbox, which
// performs reload-watch's one action on request with the rights the
// service had at start, which the sandboxed watcher no longer has:
//   - running the --exec program (it may read server configuration or talk
//     to a service manager);
//   - signalling the server (SignalServer), whose check reads
//     /proc/PID/exe: Landlock denies that link for processes outside the
//     watcher's domain, i.e. for every server.
// The action is fixed at Start; the helper accepts one byte per request
// over a socket pair and can do nothing else.
class ActionHelper {
 public:
  // Action is what the helper does per request: a line for the log on
  // success, or the error.
  using Action = std::function<Result<std::string>()>;

  ActionHelper() = default;
  ActionHelper(const ActionHelper&) = delete;
  ActionHelper& operator=(const ActionHelper&) = delete;
  // The destructor closes the socket (the helper then exits) and reaps it.
  ~ActionHelper();

  // Start forks the helper. Must run while single-threaded.
  Status Start(Action action);

  // Run asks the helper to act once and returns the action's result (its
  // text capped at 4 KiB); an error if the helper is gone.
  Result<std::string> Run();

  // fd is the watcher's end of the socket pair: what a compromised watcher
  // could write to (the tests do, to attack the helper).
  int fd() const { return sock_.get(); }

 private:
  ScopedFd sock_;
  pid_t pid_ = -1;
};

// ExecAction runs `argv` (RunProgram) and says so.
ActionHelper::Action ExecAction(std::vector<std::string> argv, std::chrono::milliseconds timeout);

// SignalAction signals the server (SignalServer) and names the pid.
ActionHelper::Action SignalAction(std::string pidfile, ExpectedProcess expected, int sig);

}  // namespace bulkhead::deploy

#endif  // BULKHEAD_DEPLOY_ACTION_H_
