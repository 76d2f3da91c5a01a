// Opening paths that a less trusted user may control, without following the
// symlinks such a user could have placed there. Root acts on the challenge
// directory, the certificate directory and what the roles wrote; each of
// those may hold a component another user owns, who could swap it for a
// symlink to /etc or to the account directory at any moment. These helpers
// open such paths one component at a time with O_NOFOLLOW (or with
// openat2(RESOLVE_NO_SYMLINKS)), so every later operation works on a
// descriptor of the directory actually checked, never on a path again.
#ifndef BULKHEAD_UTIL_NOFOLLOW_H_
#define BULKHEAD_UTIL_NOFOLLOW_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <string>

#include "util/fs.h"
#include "util/result.h"

namespace bulkhead {

// OpenDirNoFollow opens the directory `path` (O_RDONLY|O_DIRECTORY|O_CLOEXEC,
// or O_PATH instead of O_RDONLY with `path_only`: enough to open what is
// below it, and needs no read access, which a sandboxed role may lack) with
// no symlink anywhere on the way: openat2(RESOLVE_NO_SYMLINKS) when the
// kernel has it, else one component at a time with O_NOFOLLOW. Fails naming
// `path` and the first component that is a symlink or not a directory;
// ErrorCode::kNotFound when a component is missing.
Result<ScopedFd> OpenDirNoFollow(const std::string& path, bool path_only = false);

// OpenDirAtNoFollow opens the single component `name` inside `dirfd` as a
// directory (O_RDONLY, or O_PATH with `path_only`), refusing a symlink.
// `shown` names it in errors; kNotFound when it is missing.
Result<ScopedFd> OpenDirAtNoFollow(int dirfd, const std::string& name, const std::string& shown,
                                   bool path_only = false);

// ReadFileAtNoFollow reads the regular file `name` in `dirfd` (opened with
// O_NOFOLLOW|O_NONBLOCK, so neither a symlink nor a FIFO can redirect or
// stall the reader) and returns at most `max_bytes` bytes. A symlink,
// anything but a regular file or a larger file is an error naming `shown`;
// a missing file is kNotFound.
Result<std::string> ReadFileAtNoFollow(int dirfd, const std::string& name,
                                       const std::string& shown, size_t max_bytes);

// ReadFileNoFollow is ReadFileAtNoFollow for `path`: the directories on the
// way are followed as usual (use it for files whose directory only root or
// the reader can replace), the file itself is not.
Result<std::string> ReadFileNoFollow(const std::string& path, size_t max_bytes);

// WritableByOthers says whether a user other than root and the calling
// process's user could create, rename or remove entries in the directory
// with status `dir`: it belongs to such a user, or it is writable by a group
// other than root's or by everyone, without the sticky bit (which keeps
// others from renaming entries they do not own).
bool WritableByOthers(const struct stat& dir);

// ResolvedDir is an open directory reached by a checked walk.
struct ResolvedDir {
  ScopedFd fd;       // O_RDONLY|O_DIRECTORY.
  std::string path;  // Absolute, with every symlink resolved and no "." or "..".
  struct stat st {};
};

// ResolveTrustedDir opens the directory `path` (absolute, or relative to the
// working directory), following only symlinks that no user but root and the
// caller could have placed: the link must belong to root or the caller and
// sit in a directory that WritableByOthers says no one else may change. Real
// directories owned by anyone are walked through. Returns the directory and
// its symlink-free path, so a process that must not follow symlinks at all
// (OpenDirNoFollow) can open it again. Fails naming the symlink and its owner
// (or the component that is missing or not a directory: kNotFound when
// missing). At most 40 symlinks are followed.
Result<ResolvedDir> ResolveTrustedDir(const std::string& path);

// ResolveTrustedDirAt is ResolveTrustedDir for `rel` below `base`. With
// `create_mode` non-zero, missing components are created (mkdirat, then
// fchmod to exactly `create_mode`, whatever the umask) and opened without
// following symlinks.
Result<ResolvedDir> ResolveTrustedDirAt(const ResolvedDir& base, const std::string& rel,
                                        mode_t create_mode);

// SetOpenat2ForTesting(false) makes OpenDirNoFollow walk component by
// component even where openat2 exists, so tests cover both ways.
void SetOpenat2ForTesting(bool enabled);

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_NOFOLLOW_H_
