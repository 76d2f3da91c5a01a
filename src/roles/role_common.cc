// Helpers shared by every role process body.
#include <cstdio>

#include "roles/compartments.h"

namespace bulkhead::roles {

bool EnterSandbox(const sandbox::Policy& policy, bool require_full) {
  auto report = sandbox::Enter(policy, require_full);
  if (!report.ok()) {
    std::fprintf(stderr, "bulkhead: %s role: entering the sandbox: %s\n",
                 std::string(sandbox::RoleName(policy.role)).c_str(),
                 report.error().message.c_str());
    return false;
  }
  return true;
}

}  // namespace bulkhead::roles
