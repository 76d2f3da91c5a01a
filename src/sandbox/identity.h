// The unprivileged identity a role process switches to when bulkhead runs
// as root (`--user`). The switch happens inside sandbox::Enter, after the
// role has opened what it needs (the signer its account key) and before it
// reads anything from another role, so a compromised role is then neither
// root nor able to touch files that belong to root.
#ifndef BULKHEAD_SANDBOX_IDENTITY_H_
#define BULKHEAD_SANDBOX_IDENTITY_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bulkhead::sandbox {

// RunAs is a resolved user and group.
struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // Supplementary groups, from the group database.
  std::string user;           // For messages.
  std::string group;
};

// kDefaultUser is used when bulkhead runs as root without --user and a user
// of this name exists.
inline constexpr std::string_view kDefaultUser = "bulkhead";

// LookupUserEntry resolves a user name or number through the user
// database: uid, primary group and every group the user is in (as at login).
// An unknown user is a kUsage error naming it.
Result<RunAs> LookupUserEntry(std::string_view user);

// ModeAllows says whether permission bits `mode` of a file owned by
// `owner`:`group` grant a user `uid` in groups `gids` every access in `want`
// (a mask of R_OK, W_OK, X_OK), as the kernel decides without ACLs or
// capabilities: the owner class if the uid matches, else the group class if
// any group matches, else the other class. Root reads and writes anything
// and executes a file only if some x bit is set (directories always).
bool ModeAllows(mode_t mode, uid_t owner, gid_t group, uid_t uid, const std::vector<gid_t>& gids,
                int want);

// LookupRunAs resolves "USER" or "USER:GROUP" (names or numbers) through the
// user and group databases. USER alone takes the user's primary group. Fails
// with a kUsage error naming the unknown user or group, or refusing uid 0.
Result<RunAs> LookupRunAs(std::string_view spec);

// DefaultRunAs decides who roles run as: `spec` when given; else, when the
// process is root and kDefaultUser exists, that user; else nobody (roles
// keep the caller's identity). `spec` naming another user than the caller
// needs root: a kUsage error otherwise.
Result<std::optional<RunAs>> DefaultRunAs(std::string_view spec);

// DropPrivileges switches the calling process (which must be root) to `who`:
// supplementary groups, then real/effective/saved gid, then uid, and checks
// that root cannot be regained. The parent-death signal, which the kernel
// clears on a credential change, is set again. On error the caller must exit.
Status DropPrivileges(const RunAs& who);

// AccessibleBy says whether `who` may access a file with status `st` for
// reading (R_OK) or writing (W_OK), from the mode bits alone (no ACLs).
bool AccessibleBy(const struct stat& st, const RunAs& who, int mode);

// CheckAccessibleBy stats `path` and returns an error naming `what`, the
// path, the user and the fix when `who` could not access it with `mode`
// (R_OK, W_OK; directories also need X_OK, which is checked with them).
Status CheckAccessibleBy(const std::string& path, const RunAs& who, int mode,
                         std::string_view what);

// ChownTree gives `dir` and everything below it to `who`, for the parts not
// already theirs. Used as root on directories that a role running as `who`
// must write, and that `who` may therefore have filled with traps: `dir` is
// reached by ResolveTrustedDir (util/nofollow.h: no symlink another user
// could have placed), every entry is opened relative to its directory with
// O_NOFOLLOW and changed through its descriptor (a symlink is given itself,
// never its target), and a non-directory with several hard links is refused.
// Fails naming the path at fault.
Status ChownTree(const std::string& dir, const RunAs& who);

}  // namespace bulkhead::sandbox

#endif  // BULKHEAD_SANDBOX_IDENTITY_H_
