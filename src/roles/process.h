// RoleProcess: a child process running one role, started with fork() (no
// exec: the child inherits the parent's already-validated settings) and
// connected to the parent by an ipc::Channel.
#ifndef BULKHEAD_ROLES_PROCESS_H_
#define BULKHEAD_ROLES_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "util/result.h"

namespace bulkhead::roles {

// CloseFdsExcept closes every descriptor above 2 that is not in `keep`, so a
// role holds no channel or file meant for another role.
void CloseFdsExcept(std::vector<int> keep);

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

  // Start forks; the child closes every descriptor but stdio and `keep`,
  // runs `body` and _exits with its return value. Fails with errno text.
  static Result<RoleProcess> Start(std::string name, std::vector<int> keep,
                                   const std::function<int()>& body);

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

}  // namespace bulkhead::roles

#endif  // BULKHEAD_ROLES_PROCESS_H_
