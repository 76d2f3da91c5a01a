// Helpers shared by every role process body.
#include <cstdio>

#include "roles/compartments.h"
#include "roles/hostile.h"
#include "roles/process.h"

namespace bulkhead::roles {
namespace {

// The identity of this role process, set once right after fork (see
// RoleProcess::Start): each process runs exactly one role.
std::optional<sandbox::RunAs>& RoleIdentity() {
  static std::optional<sandbox::RunAs> identity;
  return identity;
}

}  // namespace

void SetRoleIdentity(const std::optional<sandbox::RunAs>& run_as) { RoleIdentity() = run_as; }

bool EnterSandbox(const sandbox::Policy& role_policy, bool require_full) {
  sandbox::Policy policy = role_policy;
  if (!policy.run_as) {
    policy.run_as = RoleIdentity();
  }
  auto report = sandbox::Enter(policy, require_full);
  if (!report.ok()) {
    std::fprintf(stderr, "bulkhead: %s role: entering the sandbox: %s\n",
                 std::string(sandbox::RoleName(policy.role)).c_str(),
                 report.error().message.c_str());
    return false;
  }
  // Test builds only: act as a compromised role would, right here.
  if (auto r = hostile::Requested(sandbox::RoleName(policy.role)); r) {
    hostile::RunAfterSandbox(*r);
  }
  return true;
}

}  // namespace bulkhead::roles
