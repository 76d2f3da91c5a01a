#include "sandbox/identity.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>

#include "util/fs.h"
#include "util/nofollow.h"

namespace bulkhead::sandbox {
namespace {

// kMaxTreeDepth bounds ChownTree: certificate directories are two levels deep.
constexpr int kMaxTreeDepth = 8;

bool ParseId(std::string_view s, unsigned* out) {
  if (s.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

Status LookupGroup(std::string_view spec, RunAs* out) {
  std::string name(spec);
  std::vector<char> buf(16384);
  struct group gr;
  struct group* found = nullptr;
  unsigned id = 0;
  bool numeric = ParseId(spec, &id);
  int rc = numeric ? ::getgrgid_r(static_cast<gid_t>(id), &gr, buf.data(), buf.size(), &found)
                   : ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found);
  if (rc == 0 && found != nullptr) {
    out->gid = gr.gr_gid;
    out->group = gr.gr_name;
    return OkStatus();
  }
  if (numeric) {  // A bare gid is usable without a database entry.
    out->gid = static_cast<gid_t>(id);
    out->group = name;
    return OkStatus();
  }
  return ErrCode(ErrorCode::kUsage, "--user: no group {:?} in the group database", name);
}

std::string GroupName(gid_t gid) {
  std::vector<char> buf(16384);
  struct group gr;
  struct group* found = nullptr;
  if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return gr.gr_name;
  }
  return std::to_string(gid);
}

// kMaxGroups bounds getgrouplist's answer; far above any real user.
constexpr int kMaxGroups = 4096;

// FillGroups sets who->groups to every group of who->user with primary
// group who->gid.
Status FillGroups(RunAs* who) {
  std::vector<gid_t> groups(64);
  int count = static_cast<int>(groups.size());
  if (::getgrouplist(who->user.c_str(), who->gid, groups.data(), &count) < 0) {
    if (count <= 0 || count > kMaxGroups) {
      return Err("user {}: getgrouplist returned {} groups", who->user, count);
    }
    groups.resize(static_cast<size_t>(count));
    if (::getgrouplist(who->user.c_str(), who->gid, groups.data(), &count) < 0) {
      return Err("user {}: getgrouplist failed", who->user);
    }
  }
  groups.resize(static_cast<size_t>(count));
  who->groups = std::move(groups);
  return OkStatus();
}

// ChownOpen gives the file open at `fd` (status `st`) to `who` unless it is
// theirs already. A non-directory with more than one hard link is refused:
// a user who can write the tree could have linked a file from elsewhere
// into it (where the kernel's protected_hardlinks is off).
Status ChownOpen(int fd, const struct stat& st, const std::string& path, const RunAs& who) {
  if (st.st_uid == who.uid && st.st_gid == who.gid) {
    return OkStatus();
  }
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    return Err("not giving {} to {}: it has {} hard links, so it may be a file from elsewhere",
               path, who.user, st.st_nlink);
  }
  // On the descriptor: whatever replaces the name meanwhile is not touched.
  if (::fchownat(fd, "", who.uid, who.gid, AT_EMPTY_PATH) != 0) {
    return Err("giving {} to {}: {}", path, who.user, std::strerror(errno));
  }
  return OkStatus();
}

// ChownTreeAt gives the directory open at `dirfd` and everything below it to
// `who`, opening each entry relative to its directory without following
// symlinks (a symlink itself is given, never its target).
Status ChownTreeAt(int dirfd, const struct stat& dir_st, const std::string& path,
                   const RunAs& who, int depth) {
  BH_TRY(ChownOpen(dirfd, dir_st, path, who));
  if (depth >= kMaxTreeDepth) {
    return Err("giving {} to {}: nested deeper than {} levels", path, who.user, kMaxTreeDepth);
  }
  int list_fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (list_fd < 0) {
    return Err("{}: {}", path, std::strerror(errno));
  }
  DIR* d = ::fdopendir(list_fd);
  if (d == nullptr) {
    ::close(list_fd);
    return Err("{}: {}", path, std::strerror(errno));
  }
  Status result = OkStatus();
  while (struct dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) {
      continue;
    }
    std::string child = path + "/" + e->d_name;
    int fd = ::openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    bool is_dir = fd >= 0;
    if (!is_dir) {
      fd = ::openat(dirfd, e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == ENOENT) {
        continue;  // Removed meanwhile.
      }
      result = Err("{}: {}", child, std::strerror(errno));
      break;
    }
    ScopedFd owned(fd);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      result = Err("{}: {}", child, std::strerror(errno));
      break;
    }
    result = is_dir ? ChownTreeAt(fd, st, child, who, depth + 1) : ChownOpen(fd, st, child, who);
    if (!result.ok()) {
      break;
    }
  }
  ::closedir(d);
  return result;
}

}  // namespace

Result<RunAs> LookupUserEntry(std::string_view user) {
  std::string name(user);
  std::vector<char> buf(16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  unsigned id = 0;
  int rc = ParseId(user, &id)
               ? ::getpwuid_r(static_cast<uid_t>(id), &pw, buf.data(), buf.size(), &found)
               : ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr) {
    return ErrCode(ErrorCode::kUsage, "no user {:?} in the user database", name);
  }
  RunAs who;
  who.uid = pw.pw_uid;
  who.gid = pw.pw_gid;
  who.user = pw.pw_name;
  who.group = GroupName(who.gid);
  BH_TRY(FillGroups(&who));
  return who;
}

Result<RunAs> LookupRunAs(std::string_view spec) {
  size_t colon = spec.find(':');
  auto entry = LookupUserEntry(spec.substr(0, colon));
  if (!entry.ok()) {
    return entry.error().Wrap("--user");
  }
  RunAs who = std::move(entry).value();
  if (colon != std::string_view::npos) {
    BH_TRY(LookupGroup(spec.substr(colon + 1), &who));
    BH_TRY(FillGroups(&who));  // Supplementary groups as at login with that group.
  }
  if (who.uid == 0) {
    return ErrCode(ErrorCode::kUsage, "--user {}: roles must not run as root", spec);
  }
  return who;
}

bool ModeAllows(mode_t mode, uid_t owner, gid_t group, uid_t uid, const std::vector<gid_t>& gids,
                int want) {
  const int need = want & (R_OK | W_OK | X_OK);  // 4, 2, 1: the rwx bit values.
  const mode_t perm = mode & 0777;
  if (uid == 0) {
    return (need & X_OK) == 0 || S_ISDIR(mode) || (perm & 0111) != 0;
  }
  int bits;
  if (uid == owner) {
    bits = (perm >> 6) & 7;
  } else if (std::find(gids.begin(), gids.end(), group) != gids.end()) {
    bits = (perm >> 3) & 7;
  } else {
    bits = perm & 7;
  }
  return (bits & need) == need;
}

Result<std::optional<RunAs>> DefaultRunAs(std::string_view spec) {
  uid_t me = ::geteuid();
  if (spec.empty()) {
    if (me != 0) {
      return std::optional<RunAs>();
    }
    auto who = LookupRunAs(kDefaultUser);
    if (!who.ok()) {
      return std::optional<RunAs>();  // No such user: roles stay root.
    }
    return std::optional<RunAs>(std::move(who).value());
  }
  BH_ASSIGN(RunAs who, LookupRunAs(spec));
  if (me != 0) {
    if (who.uid == me) {
      return std::optional<RunAs>();  // Already that user.
    }
    return ErrCode(ErrorCode::kUsage, "--user {} needs root (running as uid {})", spec, me);
  }
  return std::optional<RunAs>(std::move(who));
}

Status DropPrivileges(const RunAs& who) {
  if (::geteuid() != 0) {
    return Err("switching to user {}: not running as root", who.user);
  }
  int death_signal = 0;
  (void)::prctl(PR_GET_PDEATHSIG, &death_signal);
  pid_t parent = ::getppid();
  if (::setgroups(who.groups.size(), who.groups.data()) != 0) {
    return Err("switching to user {}: setgroups: {}", who.user, std::strerror(errno));
  }
  if (::setresgid(who.gid, who.gid, who.gid) != 0) {
    return Err("switching to group {}: {}", who.group, std::strerror(errno));
  }
  if (::setresuid(who.uid, who.uid, who.uid) != 0) {
    return Err("switching to user {}: {}", who.user, std::strerror(errno));
  }
  uid_t r, e, s;
  gid_t rg, eg, sg;
  if (::getresuid(&r, &e, &s) != 0 || ::getresgid(&rg, &eg, &sg) != 0 || r != who.uid ||
      e != who.uid || s != who.uid || rg != who.gid || eg != who.gid || sg != who.gid) {
    return Err("switching to user {}: the kernel did not change every id", who.user);
  }
  if (::setuid(0) == 0 || ::seteuid(0) == 0) {
    return Err("switching to user {}: root could be regained", who.user);
  }
  // The kernel clears the parent-death signal when credentials change.
  if (death_signal != 0) {
    if (::prctl(PR_SET_PDEATHSIG, death_signal) != 0 || ::getppid() != parent) {
      return Err("switching to user {}: the parent process is gone", who.user);
    }
  }
  return OkStatus();
}

bool AccessibleBy(const struct stat& st, const RunAs& who, int mode) {
  std::vector<gid_t> gids = who.groups;
  gids.push_back(who.gid);
  return ModeAllows(st.st_mode, st.st_uid, st.st_gid, who.uid, gids, mode);
}

Status CheckAccessibleBy(const std::string& path, const RunAs& who, int mode,
                         std::string_view what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Err("{} {}: {}", what, path, std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    mode |= X_OK;
  }
  if (!AccessibleBy(st, who, mode)) {
    return Err("{} {} is not {} by user {} (the roles run as {}:{}): {}", what, path,
               (mode & W_OK) ? "writable" : "readable", who.user, who.user, who.group,
               (mode & W_OK) ? fmt::format("chown {} it, or give group {} write access",
                                           who.user, who.group)
                             : fmt::format("give group {} read access", who.group));
  }
  // Every directory on the way must be searchable.
  std::string dir = DirName(path);
  while (!dir.empty() && dir != "/" && dir != ".") {
    if (::stat(dir.c_str(), &st) == 0 && !AccessibleBy(st, who, X_OK)) {
      return Err("{} {}: user {} cannot enter {} (no search permission): chmod o+x or "
                 "give group {} access",
                 what, path, who.user, dir, who.group);
    }
    std::string up = DirName(dir);
    if (up == dir) {
      break;
    }
    dir = up;
  }
  return OkStatus();
}

Status ChownTree(const std::string& dir, const RunAs& who) {
  BH_ASSIGN(ResolvedDir top, ResolveTrustedDir(dir));
  return ChownTreeAt(top.fd.get(), top.st, dir, who, 0);
}

}  // namespace bulkhead::sandbox
