#include "util/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace bulkhead {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err("writing {}: {}", path, ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

std::string RandomSuffix() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

}  // namespace

void ScopedFd::reset(int fd) {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return path.substr(0, slash);
}

// OpenForCappedRead opens `path` for reading and checks that it is a regular
// file of at most `max_bytes`; sets *out_size. kNotFound if it is missing.
static Result<ScopedFd> OpenForCappedRead(const std::string& path, size_t max_bytes, size_t* out_size) {
  // O_NONBLOCK: a FIFO put in the file's place must not stall the reader
  // (it is refused below as not a regular file).
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    int err = errno;
    return ErrCode(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kFailure, "reading {}: {}",
                   path, ErrnoText(err));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return Err("reading {}: {}", path, ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Err("reading {}: not a regular file", path);
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return Err("reading {}: file is {} bytes, more than the limit of {}", path, st.st_size,
               max_bytes);
  }
  *out_size = static_cast<size_t>(st.st_size);
  return fd;
}

Result<std::string> ReadFileCapped(const std::string& path, size_t max_bytes) {
  size_t size = 0;
  BH_ASSIGN(ScopedFd fd, OpenForCappedRead(path, max_bytes, &size));
  std::string out;
  out.resize(size);
  size_t got = 0;
  // The file may grow while we read; read one byte past the size to notice.
  for (;;) {
    if (got == out.size()) {
      if (out.size() >= max_bytes + 1) {
        return Err("reading {}: file grew beyond the limit of {} bytes", path, max_bytes);
      }
      out.resize(std::min(max_bytes + 1, out.size() + 4096));
    }
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err("reading {}: {}", path, ErrnoText(errno));
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) {
    return Err("reading {}: file grew beyond the limit of {} bytes", path, max_bytes);
  }
  out.resize(got);
  return out;
}

Result<Secret> ReadSecretFileCapped(const std::string& path, size_t max_bytes) {
  size_t size = 0;
  BH_ASSIGN(ScopedFd fd, OpenForCappedRead(path, max_bytes, &size));
  // One byte more than the cap lets us notice a file that grew meanwhile.
  Secret buf(std::string(max_bytes + 1, '\0'));
  char* p = const_cast<char*>(buf.data());
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd.get(), p + got, buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err("reading {}: {}", path, ErrnoText(errno));
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) {
    return Err("reading {}: file grew beyond the limit of {} bytes", path, max_bytes);
  }
  // Copy out into an exactly sized buffer; `buf` wipes itself on return.
  return Secret(std::string(p, got));
}

Status FsyncDir(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return Err("opening directory {}: {}", path, ErrnoText(errno));
  }
  if (::fsync(fd.get()) != 0) {
    return Err("fsync {}: {}", path, ErrnoText(errno));
  }
  return OkStatus();
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                       Durability durability) {
  const bool durable = durability == Durability::kDurable;
  // A hidden name: whoever scans the directory (a zone compiler reading a
  // dns-01 drop directory, a web server listing) skips it.
  size_t slash = path.rfind('/');
  std::string tmp = slash == std::string::npos
                        ? fmt::format(".{}.tmp-{}", path, RandomSuffix())
                        : fmt::format("{}/.{}.tmp-{}", path.substr(0, slash),
                                      path.substr(slash + 1), RandomSuffix());
  ScopedFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) {
    return Err("creating {}: {}", tmp, ErrnoText(errno));
  }
  Status st = WriteAll(fd.get(), data, tmp);
  if (st.ok() && ::fchmod(fd.get(), mode) != 0) {
    st = Err("chmod {}: {}", tmp, ErrnoText(errno));
  }
  if (st.ok() && durable && ::fsync(fd.get()) != 0) {
    st = Err("fsync {}: {}", tmp, ErrnoText(errno));
  }
  fd.reset();
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = Err("renaming {} to {}: {}", tmp, path, ErrnoText(errno));
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return durable ? FsyncDir(DirName(path)) : OkStatus();
}

Status WriteFileAtomicAt(int dirfd, const std::string& shown_dir, const std::string& name,
                         std::string_view data, mode_t mode, Durability durability) {
  const bool durable = durability == Durability::kDurable;
  std::string tmp = fmt::format(".{}.tmp-{}", name, RandomSuffix());
  std::string shown = shown_dir + "/" + name;
  ScopedFd fd(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       mode));
  if (!fd.valid()) {
    return Err("creating {}/{}: {}", shown_dir, tmp, ErrnoText(errno));
  }
  Status st = WriteAll(fd.get(), data, shown);
  if (st.ok() && ::fchmod(fd.get(), mode) != 0) {
    st = Err("chmod {}: {}", shown, ErrnoText(errno));
  }
  if (st.ok() && durable && ::fsync(fd.get()) != 0) {
    st = Err("fsync {}: {}", shown, ErrnoText(errno));
  }
  fd.reset();
  if (st.ok() && ::renameat(dirfd, tmp.c_str(), dirfd, name.c_str()) != 0) {
    st = Err("renaming {}/{} to {}: {}", shown_dir, tmp, shown, ErrnoText(errno));
  }
  if (!st.ok()) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    return st;
  }
  if (durable && ::fsync(dirfd) != 0) {
    return Err("fsync {}: {}", shown_dir, ErrnoText(errno));
  }
  return OkStatus();
}

Status CreateFileExclusive(const std::string& path, std::string_view data, mode_t mode) {
  mode_t old_mask = ::umask(077);
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  int err = errno;
  ::umask(old_mask);
  if (!fd.valid()) {
    return Err("creating {}: {}", path, ErrnoText(err));
  }
  Status st = WriteAll(fd.get(), data, path);
  if (st.ok() && ::fchmod(fd.get(), mode) != 0) {
    st = Err("chmod {}: {}", path, ErrnoText(errno));
  }
  if (st.ok() && ::fsync(fd.get()) != 0) {
    st = Err("fsync {}: {}", path, ErrnoText(errno));
  }
  if (!st.ok()) {
    ::unlink(path.c_str());
  }
  return st;
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) {
    return Err("creating directory: empty path");
  }
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string part = path.substr(0, pos);
    if (part.empty()) {
      continue;
    }
    if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
      return Err("creating directory {}: {}", part, ErrnoText(errno));
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Err("creating directory {}: exists and is not a directory", path);
  }
  return OkStatus();
}

namespace {

// kMaxRemoveDepth bounds RemoveTree's recursion (and its open descriptors):
// what it removes is a few levels deep.
constexpr int kMaxRemoveDepth = 32;

// RemoveEntriesAt empties the directory open at `dirfd`, opening and
// removing every entry relative to its directory: a name swapped for a
// symlink meanwhile is removed itself, never followed.
Status RemoveEntriesAt(int dirfd, const std::string& path, int depth) {
  if (depth > kMaxRemoveDepth) {
    return Err("removing {}: nested deeper than {} levels", path, kMaxRemoveDepth);
  }
  int list_fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (list_fd < 0) {
    return Err("removing {}: {}", path, ErrnoText(errno));
  }
  DIR* dir = ::fdopendir(list_fd);
  if (dir == nullptr) {
    ::close(list_fd);
    return Err("removing {}: {}", path, ErrnoText(errno));
  }
  Status result;
  while (struct dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    std::string child = path + "/" + name;
    Status st = OkStatus();
    ScopedFd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub.valid()) {
      st = RemoveEntriesAt(sub.get(), child, depth + 1);
      if (st.ok() && ::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        st = Err("removing {}: {}", child, ErrnoText(errno));
      }
    } else if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) {
      st = Err("removing {}: {}", child, ErrnoText(errno));
    }
    if (!st.ok() && result.ok()) {
      result = st;
    }
  }
  ::closedir(dir);
  return result;
}

}  // namespace

Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return OkStatus();
    }
    return Err("removing {}: {}", path, ErrnoText(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    ScopedFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      return Err("removing {}: {}", path, ErrnoText(errno));
    }
    BH_TRY(RemoveEntriesAt(fd.get(), path, /*depth=*/0));
    if (::rmdir(path.c_str()) != 0) {
      return Err("removing {}: {}", path, ErrnoText(errno));
    }
    return OkStatus();
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Err("removing {}: {}", path, ErrnoText(errno));
  }
  return OkStatus();
}

Result<FileLock> FileLock::Acquire(const std::string& path, bool wait) {
  ScopedFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) {
    return Err("opening lock {}: {}", path, ErrnoText(errno));
  }
  int op = LOCK_EX | (wait ? 0 : LOCK_NB);
  while (::flock(fd.get(), op) != 0) {
    if (errno == EINTR) {
      continue;
    }
    if (errno == EWOULDBLOCK) {
      return Err("{} is locked by another bulkhead run; try again when it has finished", path);
    }
    return Err("locking {}: {}", path, ErrnoText(errno));
  }
  return FileLock(std::move(fd));
}

}  // namespace bulkhead
