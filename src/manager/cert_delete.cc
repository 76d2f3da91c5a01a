#include "manager/cert_delete.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "manager/settings_record.h"
#include "util/fs.h"
#include "util/log.h"

namespace bulkhead::manager {
namespace {

// kMaxArchiveAttempts bounds the "-<n>" suffixes tried: more deletions of
// one name within a second than this is not a real use.
constexpr int kMaxArchiveAttempts = 100;

std::string ErrnoText(int err) { return std::strerror(err); }

// MakeArchiveDir creates <state>/archive (0700) and a fresh directory
// below it named by ArchiveDirName (prefixed with `prefix`), and returns
// its path. mkdir(2) itself tells whether the name is free.
Result<std::string> MakeArchiveDir(const std::string& state_dir, std::string_view name,
                                   int64_t now, std::string_view prefix) {
  std::string root = state_dir + "/archive";
  BH_TRY(MakeDirs(root, 0700));
  for (int attempt = 1; attempt <= kMaxArchiveAttempts; ++attempt) {
    std::string dir = fmt::format("{}/{}{}", root, prefix, ArchiveDirName(name, now, attempt));
    if (::mkdir(dir.c_str(), 0700) == 0) {
      return dir;
    }
    if (errno != EEXIST) {
      return Err("creating {}: {}", dir, ErrnoText(errno));
    }
  }
  return Err("{}: no free archive name for {} after {} attempts", root, name, kMaxArchiveAttempts);
}

// MoveRecord moves root's record of `name` (if there is one) to
// `archive_dir`/root-settings/, or removes it when `archive_dir` is empty.
// Returns whether there was one.
Result<bool> MoveRecord(const std::string& state_dir, const std::string& name,
                        const std::string& archive_dir) {
  std::string record = SettingsRecordPath(state_dir, name);
  struct stat st;
  if (::lstat(record.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return false;
    }
    return Err("{}: {}", record, ErrnoText(errno));
  }
  if (archive_dir.empty()) {
    if (::unlink(record.c_str()) != 0) {
      return Err("removing {}: {}", record, ErrnoText(errno));
    }
    return true;
  }
  std::string dir = archive_dir + "/root-settings";
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return Err("creating {}: {}", dir, ErrnoText(errno));
  }
  std::string to = dir + "/" + name + ".json";
  if (::rename(record.c_str(), to.c_str()) != 0) {
    return Err("moving {} to {}: {}", record, to, ErrnoText(errno));
  }
  return true;
}

}  // namespace

std::string ArchiveDirName(std::string_view name, int64_t now, int attempt) {
  time_t t = static_cast<time_t>(now);
  struct tm tm;
  char stamp[32] = "unknown-time";
  if (::gmtime_r(&t, &tm) != nullptr) {
    std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
  }
  if (attempt > 1) {
    return fmt::format("{}-{}-{}", name, stamp, attempt);
  }
  return fmt::format("{}-{}", name, stamp);
}

Status CheckDeletable(const store::CertStore& certs, std::string_view name) {
  if (!store::IsValidCertName(name)) {
    return ErrCode(ErrorCode::kUsage, "--name: invalid certificate name");
  }
  std::string dir = certs.CertDir(name);
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return ErrCode(ErrorCode::kUsage, "no certificate {} is managed here ({} not found)", name,
                     dir);
    }
    return Err("{}: {}", dir, ErrnoText(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return ErrCode(ErrorCode::kUsage, "{} is not a certificate directory", dir);
  }
  return OkStatus();
}

Result<DeleteOutcome> DeleteCertificate(const std::string& state_dir,
                                        const store::CertStore& certs, const std::string& name,
                                        DeleteMode mode, int64_t now,
                                        const std::function<Status()>& confirm) {
  BH_TRY(CheckDeletable(certs, name));
  // Held through the rename: no issue, renew, revoke or rollback of this
  // certificate runs meanwhile. The lock file moves with the directory.
  BH_ASSIGN(FileLock lock, certs.Lock(name, /*wait=*/false));
  BH_TRY(confirm());
  bool purge = mode == DeleteMode::kPurge;
  BH_ASSIGN(std::string archive_dir, MakeArchiveDir(state_dir, name, now, purge ? "." : ""));
  std::string from = certs.CertDir(name);
  std::string to = purge ? archive_dir + "/" + name : archive_dir + "/certs";
  if (!purge && ::mkdir(to.c_str(), 0700) != 0) {
    return Err("creating {}: {}", to, ErrnoText(errno));
  }
  if (!purge) {
    to += "/" + name;
  }
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Err("moving {} to {}: {}", from, to, ErrnoText(errno));
  }
  if (Status synced = FsyncDir(certs.root()); !synced.ok()) {
    LogWarn("{}", synced.error().message);
  }
  DeleteOutcome out;
  if (!purge) {
    out.archive_dir = archive_dir;
  }
  auto record = MoveRecord(state_dir, name, out.archive_dir);
  if (!record.ok()) {
    return Err("{} was {}, but root's settings record was not: {}", from,
               purge ? "removed" : "moved to " + to, record.error().message);
  }
  out.record_moved = *record;
  if (purge) {
    if (Status removed = RemoveTree(archive_dir); !removed.ok()) {
      return Err("{} left {}, but removing it failed: {}", from, archive_dir,
                 removed.error().message);
    }
  }
  return out;
}

}  // namespace bulkhead::manager
