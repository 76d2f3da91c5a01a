// File-system helpers: owning fds, capped reads, atomic and exclusive writes,
// and advisory locks. Every write here is either complete or absent.
#ifndef BULKHEAD_UTIL_FS_H_
#define BULKHEAD_UTIL_FS_H_

#include <sys/types.h>

#include <string>
#include <string_view>

#include "util/result.h"
#include "util/secret.h"

namespace bulkhead {

// ScopedFd owns a file descriptor and closes it on destruction.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ScopedFd(ScopedFd&& o) noexcept : fd_(o.release()) {}
  ScopedFd& operator=(ScopedFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~ScopedFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// ReadFileCapped reads the whole regular file at `path`. It fails if the file
// is larger than `max_bytes` (naming the file and the cap) or cannot be read.
// A missing file gives ErrorCode::kNotFound.
Result<std::string> ReadFileCapped(const std::string& path, size_t max_bytes);

// ReadSecretFileCapped is ReadFileCapped for key material: the bytes are read
// into one buffer allocated up front (so no unwiped copy is left behind by a
// reallocation) and returned as a Secret. Same errors as ReadFileCapped.
Result<Secret> ReadSecretFileCapped(const std::string& path, size_t max_bytes);

// Durability says whether a write must survive a crash of the machine.
enum class Durability {
  kDurable,      // fsync the file and its directory: state, keys, certificates.
  kVisibleOnly,  // No fsync: short-lived files whose readers only need them
                 // complete while they exist (challenge tokens and dns-01
                 // drop files, removed again within seconds and worthless
                 // after a crash). Saves two fsyncs on the critical path.
};

// WriteFileAtomic writes `data` to a hidden temporary file beside `path`
// (".<name>.tmp-<random>") with `mode` and renames it over `path`, so that a
// reader sees either the old file or the complete new one. With kDurable
// (the default) it fsyncs the file before the rename and the directory after
// it. On failure the temporary file is removed and `path` is unchanged.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                       Durability durability = Durability::kDurable);

// WriteFileAtomicAt is WriteFileAtomic for the file `name` in the open
// directory `dirfd`, never following a symlink: the temporary file is
// created with O_EXCL|O_NOFOLLOW and renamed within `dirfd`, so a directory
// swapped or a symlink planted on the way cannot redirect the write.
// `shown_dir` names the directory in errors.
Status WriteFileAtomicAt(int dirfd, const std::string& shown_dir, const std::string& name,
                         std::string_view data, mode_t mode,
                         Durability durability = Durability::kDurable);

// CreateFileExclusive creates `path` with O_CREAT|O_EXCL and `mode` (so a
// secret never lands in a file someone else prepared), writes `data` and
// fsyncs. On a write failure the file is removed.
Status CreateFileExclusive(const std::string& path, std::string_view data, mode_t mode);

// MakeDirs creates `path` and missing parents with `mode` (like mkdir -p).
// Existing directories are left as they are.
Status MakeDirs(const std::string& path, mode_t mode);

// FsyncDir fsyncs the directory at `path` so that renames in it are durable.
Status FsyncDir(const std::string& path);

// RemoveTree deletes `path` recursively without following symlinks: `path`
// itself is opened with O_NOFOLLOW and every entry below is removed relative
// to its directory's descriptor, so a directory swapped for a symlink while
// the tree is removed sends no removal elsewhere. A missing path is not an
// error.
Status RemoveTree(const std::string& path);

// FileLock holds an exclusive flock(2) on a lock file for its lifetime.
class FileLock {
 public:
  // Acquire opens (creating, mode 0600) `path` and takes an exclusive lock.
  // With `wait` false it fails at once, naming the file, if another process
  // holds the lock.
  static Result<FileLock> Acquire(const std::string& path, bool wait);

 private:
  explicit FileLock(ScopedFd fd) : fd_(std::move(fd)) {}
  ScopedFd fd_;
};

// DirName returns the part of `path` before its last '/', or "." if none.
std::string DirName(const std::string& path);

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_FS_H_
