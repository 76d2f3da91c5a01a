// seccomp system-call allowlists, one per role, built with libseccomp.
// Internal to the sandbox module; callers use sandbox::Enter.
#ifndef BULKHEAD_SANDBOX_SECCOMP_H_
#define BULKHEAD_SANDBOX_SECCOMP_H_

#include "sandbox/sandbox.h"
#include "util/result.h"

namespace bulkhead::sandbox {

// kForbiddenSyscallExitCode is the exit status of a process killed for a
// system call outside its allowlist (EX_SOFTWARE: a bug or an attack).
inline constexpr int kForbiddenSyscallExitCode = 70;

// SeccompAvailable returns whether the kernel can load filters whose default
// action is SECCOMP_RET_TRAP.
bool SeccompAvailable();

// ApplySeccomp installs a SIGSYS handler and loads the allowlist of
// `policy.role` on all threads of the process. Afterwards a call outside the
// list makes the handler write "bulkhead: <role> role: forbidden system call
// <name> (<nr>)" to stderr and _exit(kForbiddenSyscallExitCode); a call from
// a foreign architecture kills the process outright. It returns an error
// naming the libseccomp call that failed (nothing is loaded then).
Status ApplySeccomp(const Policy& policy);

}  // namespace bulkhead::sandbox

#endif  // BULKHEAD_SANDBOX_SECCOMP_H_
