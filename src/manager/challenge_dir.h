// Where the challenge role writes, decided and prepared by the parent.
#ifndef BULKHEAD_MANAGER_CHALLENGE_DIR_H_
#define BULKHEAD_MANAGER_CHALLENGE_DIR_H_

#include <optional>
#include <string>

#include "manager/settings.h"
#include "sandbox/identity.h"
#include "util/result.h"

namespace bulkhead::manager {

// ChallengePaths are a directory method's paths with every symlink resolved.
struct ChallengePaths {
  std::string target;     // The webroot, challenge directory or drop directory.
  std::string write_dir;  // Where files go: <target>/.well-known/acme-challenge
                          // for a webroot, else <target>.
};

// PrepareChallengeDir resolves the directory the challenge role writes for
// `s` and returns its paths (both empty for the methods that write none).
// Symlinks on the way are followed only where no user but root (or the
// caller) could have placed them (ResolveTrustedDir, util/nofollow.h); any
// other is refused, naming it and its owner. A webroot's .well-known and
// acme-challenge directories are created (0755) if missing, through
// descriptors. With `who` (root running the roles as that user), a
// directory `who` cannot write is an error naming the fix, except a
// webroot's acme-challenge directory, which root gives to `who` itself
// (fchown on the open directory) only if the webroot, .well-known and
// acme-challenge all belong to root or the webroot's owner and none is
// writable by group or others; otherwise the error says to give it to
// `who` by hand. A missing target is a kUsage error naming it.
Result<ChallengePaths> PrepareChallengeDir(const CertSettings& s,
                                           const std::optional<sandbox::RunAs>& who);

// CheckChallengeTarget is the early, side-effect-free part of
// PrepareChallengeDir, run before anything is locked, created or sent: for
// the directory methods, a target that does not exist (or is not a
// directory) is a kUsage error naming it and saying that only
// .well-known/acme-challenge is created under a webroot. Other methods,
// and other stat(2) errors, pass (PrepareChallengeDir reports those).
Status CheckChallengeTarget(const CertSettings& s);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_CHALLENGE_DIR_H_
