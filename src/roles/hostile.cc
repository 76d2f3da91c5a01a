// Hostile actions for tests; see hostile.h. Compiled with
// BULKHEAD_TEST_HOOKS=1 only in test builds; otherwise every entry point is
// inert and the attack code is not in the binary.
#include "roles/hostile.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bulkhead::roles::hostile {

#if defined(BULKHEAD_TEST_HOOKS) && BULKHEAD_TEST_HOOKS

bool Enabled() { return true; }

std::optional<Request> Requested(std::string_view role) {
  const char* env = std::getenv("BULKHEAD_TEST_HOSTILE");
  if (env == nullptr) {
    return std::nullopt;
  }
  std::string_view spec(env);
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos || spec.substr(0, colon) != role) {
    return std::nullopt;
  }
  Request r;
  r.role = std::string(role);
  std::string_view rest = spec.substr(colon + 1);
  size_t next = rest.find(':');
  r.action = std::string(rest.substr(0, next));
  if (next != std::string_view::npos) {
    r.arg = std::string(rest.substr(next + 1));
  }
  return r;
}

void Finish(const Request& request, const Result<std::string>& outcome) {
  if (outcome.ok()) {
    std::fprintf(stderr, "bulkhead: hostile %s %s: SUCCEEDED: %s\n", request.role.c_str(),
                 request.action.c_str(), outcome->c_str());
  } else {
    std::fprintf(stderr, "bulkhead: hostile %s %s: blocked: %s\n", request.role.c_str(),
                 request.action.c_str(), outcome.error().message.c_str());
  }
  std::fflush(stderr);
  ::_exit(kHostileExit);
}

namespace {

// KillTarget signals the process named by `arg` ("parent" or a pid) with
// SIGKILL: a compromised role silencing the process that checks it.
Result<std::string> KillTarget(const std::string& arg) {
  pid_t pid = arg == "parent" ? ::getppid() : static_cast<pid_t>(std::atoi(arg.c_str()));
  if (pid <= 1) {
    return Err("no target process in '{}'", arg);
  }
  if (::kill(pid, SIGKILL) != 0) {
    return Err("kill({}): {}", pid, std::strerror(errno));
  }
  return fmt::format("sent SIGKILL to pid {}", pid);
}

// WriteOutside creates (or truncates) the file `path` and writes to it.
Result<std::string> WriteOutside(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Err("open({}, O_CREAT): {}", path, std::strerror(errno));
  }
  ssize_t n = ::write(fd, "hostile\n", 8);
  ::close(fd);
  if (n != 8) {
    return Err("write({}): short write", path);
  }
  return fmt::format("wrote {}", path);
}

}  // namespace

bool RunAfterSandbox(const Request& request) {
  if (request.action == "kill") {
    Finish(request, KillTarget(request.arg));
  }
  if (request.action == "write-outside") {
    Finish(request, WriteOutside(request.arg));
  }
  return false;
}

#else

bool Enabled() { return false; }
std::optional<Request> Requested(std::string_view) { return std::nullopt; }
void Finish(const Request&, const Result<std::string>&) { ::_exit(kHostileExit); }
bool RunAfterSandbox(const Request&) { return false; }

#endif

}  // namespace bulkhead::roles::hostile
