// RoleProcess: a child process running one role, started with fork() (no
// exec: the child inherits the parent's already-validated settings) and
// connected to the parent by an ipc::Channel.
#ifndef BULKHEAD_ROLES_PROCESS_H_
#define BULKHEAD_ROLES_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/identity.h"
#include "util/result.h"

namespace bulkhead::roles {

// CloseFdsExcept closes every descriptor above 2 that is not in `keep`, so a
// role holds no channel or file meant for another role.
void CloseFdsExcept(std::vector<int> keep);

// ThreadCount is the number of threads of this process, from /proc/self/stat;
// nullopt if that cannot be read.
std::optional<int> ThreadCount();

// RoleProcess owns a child pid; its destructor kills and reaps a child that
// is still running, so no role outlives the run.
class RoleProcess {
 public:
  RoleProcess() = default;
  RoleProcess(const RoleProcess&) = delete;
  RoleProcess& operator=(const RoleProcess&) = delete;
  RoleProcess(RoleProcess&& o) noexcept : pid_(o.pid_), name_(std::move(o.name_)) { o.pid_ = -1; }
  RoleProcess& operator=(RoleProcess&& o) noexcept;
  ~RoleProcess();

  // Start forks; it refuses (with an error naming the role) if this process
  // runs more than one thread, since the child could hang on a lock another
  // thread held. The child closes every descriptor but stdio and `keep`,
  // runs `body` and _exits with its return value. With `run_as`, the child
  // switches to that user when its body enters the sandbox (EnterSandbox),
  // i.e. after it has opened what it needs. Fails with errno text.
  static Result<RoleProcess> Start(std::string name, std::vector<int> keep,
                                   const std::function<int()>& body,
                                   const std::optional<sandbox::RunAs>& run_as = std::nullopt);

  // Wait reaps the child, polling until `timeout`; then kills it. Returns
  // an error naming the role if it did not exit with status 0 (including
  // death by a signal such as SIGSYS from the sandbox).
  Status Wait(std::chrono::milliseconds timeout);

  const std::string& name() const { return name_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string name_;
};

// SetRoleIdentity records, in a freshly started role process, the user
// EnterSandbox switches to. Called by RoleProcess::Start in the child only.
void SetRoleIdentity(const std::optional<sandbox::RunAs>& run_as);

}  // namespace bulkhead::roles

#endif  // BULKHEAD_ROLES_PROCESS_H_
