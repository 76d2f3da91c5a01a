// Hostile actions for tests; see hostile.h. Compiled with
// BULKHEAD_TEST_HOOKS=1 only in test builds; otherwise every entry point is
// inert and the attack code is not in the binary.
#include "roles/hostile.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

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

bool RunAfterSandbox(const Request& request) {
  (void)request;
  return false;
}

#else

bool Enabled() { return false; }
std::optional<Request> Requested(std::string_view) { return std::nullopt; }
void Finish(const Request&, const Result<std::string>&) { ::_exit(kHostileExit); }
bool RunAfterSandbox(const Request&) { return false; }

#endif

}  // namespace bulkhead::roles::hostile
