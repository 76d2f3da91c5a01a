#include "util/nofollow.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <vector>

namespace bulkhead {
namespace {

std::atomic<bool> g_openat2{true};

// kMaxSymlinks is the kernel's own bound (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) {
      slash = path.size();
    }
    if (slash > pos) {
      out.push_back(path.substr(pos, slash - pos));
    }
    pos = slash + 1;
  }
  return out;
}

std::string JoinPath(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    out += "/" + p;
  }
  return out.empty() ? "/" : out;
}

std::string Child(const std::string& dir, const std::string& name) {
  std::string out = dir;
  if (out.empty() || out.back() != '/') {
    out += '/';
  }
  out += name;
  return out;
}

// UserName names `uid` for messages.
std::string UserName(uid_t uid) {
  std::vector<char> buf(16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return fmt::format("{} (uid {})", pw.pw_name, uid);
  }
  return fmt::format("uid {}", uid);
}

// ComponentError explains why `name` in `dirfd` could not be opened as a
// directory without following it (`err` from the failed open).
Error ComponentError(int dirfd, const std::string& name, const std::string& shown, int err) {
  struct stat st;
  if (err == ENOENT) {
    return ErrCode(ErrorCode::kNotFound, "{} does not exist", shown);
  }
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) {
      return Err("{} is a symlink (owned by {}); refusing to follow it", shown,
                 UserName(st.st_uid));
    }
    if (!S_ISDIR(st.st_mode)) {
      return Err("{} is not a directory", shown);
    }
  }
  return Err("opening {}: {}", shown, std::strerror(err));
}

Result<ScopedFd> OpenRoot(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return Err("opening {}: {}", path, std::strerror(errno));
  }
  return fd;
}

// ReopenReadable turns an O_PATH descriptor of a directory into an O_RDONLY
// one (needed to list it or change its owner); keeps the O_PATH one when the
// caller may not read the directory.
ScopedFd ReopenReadable(ScopedFd fd) {
  int readable = ::openat(fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return readable >= 0 ? ScopedFd(readable) : std::move(fd);
}

Result<ScopedFd> WalkNoFollow(const std::string& path, bool path_only) {
  std::vector<std::string> parts = SplitPath(path);
  BH_ASSIGN(ScopedFd cur, OpenRoot(path[0] == '/' ? "/" : "."));
  std::string shown = path[0] == '/' ? "" : ".";
  for (size_t i = 0; i < parts.size(); ++i) {
    shown = shown.empty() ? "/" + parts[i] : Child(shown, parts[i]);
    bool last = i + 1 == parts.size();
    int flags = (last && !path_only ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(cur.get(), parts[i].c_str(), flags);
    if (fd < 0) {
      return ComponentError(cur.get(), parts[i], shown, errno).Wrap(path);
    }
    cur.reset(fd);
  }
  if (parts.empty() && !path_only) {
    cur = ReopenReadable(std::move(cur));
  }
  return cur;
}

}  // namespace

void SetOpenat2ForTesting(bool enabled) { g_openat2.store(enabled); }

Result<ScopedFd> OpenDirNoFollow(const std::string& path, bool path_only) {
  if (path.empty()) {
    return Err("opening a directory: empty path");
  }
  if (g_openat2.load()) {
    struct open_how how {};
    how.flags = (path_only ? O_PATH : O_RDONLY) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof(how));
    if (fd >= 0) {
      return ScopedFd(static_cast<int>(fd));
    }
    // Any failure (ENOSYS on kernels before 5.6, EPERM from a container's
    // filter, ELOOP for a symlink) goes to the walk, which either succeeds
    // the same way or names the component at fault.
  }
  return WalkNoFollow(path, path_only);
}

Result<ScopedFd> OpenDirAtNoFollow(int dirfd, const std::string& name, const std::string& shown,
                                   bool path_only) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return Err("{}: not a single path component", shown);
  }
  int fd = ::openat(dirfd, name.c_str(),
                    (path_only ? O_PATH : O_RDONLY) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return ComponentError(dirfd, name, shown, errno);
  }
  return ScopedFd(fd);
}

Result<std::string> ReadFileAtNoFollow(int dirfd, const std::string& name,
                                       const std::string& shown, size_t max_bytes) {
  ScopedFd fd(
      ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT) {
      return ErrCode(ErrorCode::kNotFound, "reading {}: {}", shown, std::strerror(err));
    }
    if (err == ELOOP) {
      return Err("reading {}: it is a symlink, which is not followed", shown);
    }
    return Err("reading {}: {}", shown, std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return Err("reading {}: {}", shown, std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Err("reading {}: not a regular file", shown);
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return Err("reading {}: file is {} bytes, more than the limit of {}", shown, st.st_size,
               max_bytes);
  }
  std::string out(max_bytes + 1, '\0');
  size_t got = 0;
  // One byte past the cap: a file that grows while read is noticed.
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err("reading {}: {}", shown, std::strerror(errno));
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) {
    return Err("reading {}: file grew beyond the limit of {} bytes", shown, max_bytes);
  }
  out.resize(got);
  return out;
}

Result<std::string> ReadFileNoFollow(const std::string& path, size_t max_bytes) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ReadFileAtNoFollow(AT_FDCWD, path, path, max_bytes);
  }
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  ScopedFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return ErrCode(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kFailure, "reading {}: {}",
                   path, std::strerror(err));
  }
  return ReadFileAtNoFollow(fd.get(), path.substr(slash + 1), path, max_bytes);
}

bool WritableByOthers(const struct stat& dir) {
  if (dir.st_uid != 0 && dir.st_uid != ::geteuid()) {
    return true;
  }
  if ((dir.st_mode & S_ISVTX) != 0) {
    return false;
  }
  return (dir.st_mode & S_IWOTH) != 0 || ((dir.st_mode & S_IWGRP) != 0 && dir.st_gid != 0);
}

Result<ResolvedDir> ResolveTrustedDirAt(const ResolvedDir& base, const std::string& rel,
                                        mode_t create_mode) {
  int dup = ::fcntl(base.fd.get(), F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    return Err("{}: {}", base.path, std::strerror(errno));
  }
  ScopedFd cur(dup);
  struct stat cur_st = base.st;
  std::vector<std::string> parts = SplitPath(base.path);
  std::deque<std::string> todo;
  for (std::string& p : SplitPath(rel)) {
    todo.push_back(std::move(p));
  }
  const std::string whole = rel.empty() ? base.path : (rel[0] == '/' ? rel : Child(base.path, rel));
  if (!rel.empty() && rel[0] == '/') {
    BH_ASSIGN(cur, OpenRoot("/"));
    parts.clear();
    if (::fstat(cur.get(), &cur_st) != 0) {
      return Err("/: {}", std::strerror(errno));
    }
  }
  int links = 0;
  while (!todo.empty()) {
    std::string comp = std::move(todo.front());
    todo.pop_front();
    if (comp == ".") {
      continue;
    }
    std::string dir = JoinPath(parts);
    if (comp == "..") {
      if (parts.empty()) {
        continue;  // "/.." is "/".
      }
      int fd = ::openat(cur.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 || ::fstat(fd, &cur_st) != 0) {
        int err = errno;
        if (fd >= 0) {
          ::close(fd);
        }
        return Err("{}: opening the parent of {}: {}", whole, dir, std::strerror(err));
      }
      cur.reset(fd);
      parts.pop_back();
      continue;
    }
    std::string shown = Child(dir, comp);
    struct stat lst;
    bool created = false;
    if (::fstatat(cur.get(), comp.c_str(), &lst, AT_SYMLINK_NOFOLLOW) != 0) {
      int err = errno;
      if (err != ENOENT || create_mode == 0) {
        return ComponentError(cur.get(), comp, shown, err).Wrap(whole);
      }
      if (::mkdirat(cur.get(), comp.c_str(), create_mode) != 0) {
        if (errno != EEXIST) {
          return Err("creating directory {}: {}", shown, std::strerror(errno));
        }
        if (++links > kMaxSymlinks) {  // Someone keeps racing us.
          return Err("creating directory {}: it keeps changing", shown);
        }
        todo.push_front(std::move(comp));  // Made meanwhile: look at it again.
        continue;
      }
      created = true;
      lst.st_mode = S_IFDIR;
    }
    if (S_ISLNK(lst.st_mode)) {
      if (lst.st_uid != 0 && lst.st_uid != ::geteuid()) {
        return Err("{}: {} is a symlink owned by {}; refusing to follow a symlink another "
                   "user could have placed",
                   whole, shown, UserName(lst.st_uid));
      }
      if (WritableByOthers(cur_st)) {
        return Err("{}: {} is a symlink in {}, which another user than root can change (owner "
                   "{}, mode {:o}); refusing to follow it",
                   whole, shown, dir, UserName(cur_st.st_uid), cur_st.st_mode & 07777);
      }
      if (++links > kMaxSymlinks) {
        return Err("{}: more than {} symlinks", whole, kMaxSymlinks);
      }
      char buf[PATH_MAX];
      ssize_t n = ::readlinkat(cur.get(), comp.c_str(), buf, sizeof(buf));
      if (n < 0 || static_cast<size_t>(n) >= sizeof(buf)) {
        return Err("{}: reading the symlink {}: {}", whole, shown,
                   n < 0 ? std::strerror(errno) : "target too long");
      }
      std::string target(buf, static_cast<size_t>(n));
      std::vector<std::string> more = SplitPath(target);
      todo.insert(todo.begin(), more.begin(), more.end());
      if (!target.empty() && target[0] == '/') {
        BH_ASSIGN(cur, OpenRoot("/"));
        parts.clear();
        if (::fstat(cur.get(), &cur_st) != 0) {
          return Err("/: {}", std::strerror(errno));
        }
      }
      continue;
    }
    // Created ones are opened readable: their mode is set through the
    // descriptor, never by path.
    int flags = (created ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(cur.get(), comp.c_str(), flags);
    if (fd < 0) {
      return ComponentError(cur.get(), comp, shown, errno).Wrap(whole);
    }
    ScopedFd next(fd);
    if (created && ::fchmod(next.get(), create_mode) != 0) {
      return Err("chmod {}: {}", shown, std::strerror(errno));
    }
    if (::fstat(next.get(), &cur_st) != 0) {
      return Err("{}: {}", shown, std::strerror(errno));
    }
    cur = std::move(next);
    parts.push_back(std::move(comp));
  }
  ResolvedDir out;
  out.fd = ReopenReadable(std::move(cur));
  out.path = JoinPath(parts);
  out.st = cur_st;
  return out;
}

Result<ResolvedDir> ResolveTrustedDir(const std::string& path) {
  if (path.empty()) {
    return Err("opening a directory: empty path");
  }
  ResolvedDir root;
  BH_ASSIGN(root.fd, OpenRoot("/"));
  root.path.assign(1, '/');  // (GCC 12 warns wrongly about = "/" here.)
  if (::fstat(root.fd.get(), &root.st) != 0) {
    return Err("/: {}", std::strerror(errno));
  }
  std::string abs = path;
  if (path[0] != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) {
      return Err("{}: the working directory: {}", path, std::strerror(errno));
    }
    abs = Child(std::string(cwd), path);
  }
  return ResolveTrustedDirAt(root, abs, 0);
}

}  // namespace bulkhead
