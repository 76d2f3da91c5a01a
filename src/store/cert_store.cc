#include "store/cert_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <random>

#include "util/json.h"
#include "util/log.h"
#include "util/nofollow.h"

namespace bulkhead::store {
namespace {

constexpr size_t kMaxNameLen = 100;
constexpr size_t kMaxCertFile = 1 << 20;  // A chain is a few KiB; 1 MiB is generous.
constexpr size_t kMaxKeyFile = 64 << 10;  // Largest RSA keys are well below this.
constexpr size_t kMaxSettingsFile = 64 << 10;

constexpr char kLive[] = "live";
constexpr char kSettings[] = "settings.json";

std::string ErrnoText(int err) { return std::strerror(err); }

std::string RandomSuffix() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// ParseVersion accepts the names Commit gives version directories: a
// positive decimal without leading zeros. Returns 0 for anything else.
int ParseVersion(std::string_view s) {
  if (s.empty() || s.size() > 9 || s[0] == '0') {
    return 0;
  }
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return 0;
    }
    v = v * 10 + (c - '0');
  }
  return v;
}

Status CheckName(std::string_view name) {
  if (!IsValidCertName(name)) {
    std::string shown;
    for (char c : name.substr(0, kMaxNameLen)) {
      shown += IsNameChar(c) || c == '/' ? c : '?';
    }
    return ErrCode(ErrorCode::kUsage,
                   "invalid certificate name \"{}\": use 1 to {} characters of A-Z a-z 0-9 . _ -, "
                   "not starting with '.'",
                   shown, kMaxNameLen);
  }
  return OkStatus();
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// ReadLink returns the target of the symlink at `path`; kNotFound if absent.
Result<std::string> ReadLink(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  if (n < 0) {
    int err = errno;
    return ErrCode(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kFailure,
                   "reading link {}: {}", path, ErrnoText(err));
  }
  if (static_cast<size_t>(n) >= sizeof(buf)) {
    return Err("reading link {}: target too long", path);
  }
  return std::string(buf, static_cast<size_t>(n));
}

// LiveVersion returns the version `live` in `cert_dir` points at, 0 if there
// is no live link, or an error if the link is unreadable or foreign.
Result<int> LiveVersion(const std::string& cert_dir) {
  std::string link = cert_dir + "/" + kLive;
  Result<std::string> target = ReadLink(link);
  if (!target.ok()) {
    if (target.error().code == ErrorCode::kNotFound) {
      return 0;
    }
    return target.error();
  }
  int v = ParseVersion(*target);
  if (v == 0) {
    return Err("{} points at \"{}\", which is not a version directory", link, *target);
  }
  return v;
}

// ListEntries returns the names in `dir` other than "." and "..".
Result<std::vector<std::string>> ListEntries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    int err = errno;
    return ErrCode(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kFailure, "listing {}: {}",
                   dir, ErrnoText(err));
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      names.push_back(std::move(n));
    }
  }
  ::closedir(d);
  return names;
}

// RenameNoReplace renames `from` to `to`, failing if `to` exists: a rename
// over an empty directory would otherwise succeed silently.
Status RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return OkStatus();
  }
  int err = errno;
  if (err != EINVAL && err != ENOSYS) {
    return Err("renaming {} to {}: {}", from, to, ErrnoText(err));
  }
  // The file system cannot do RENAME_NOREPLACE; we hold the lock, so a check
  // first is good enough.
  struct stat st;
  if (::lstat(to.c_str(), &st) == 0) {
    return Err("renaming {} to {}: target exists", from, to);
  }
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return Err("renaming {} to {}: {}", from, to, ErrnoText(errno));
  }
  return OkStatus();
}

// CleanLeftovers removes what an interrupted Commit may have left behind:
// temporary names and numeric version directories without a complete set
// (unless live, which should never happen but must not be touched).
void CleanLeftovers(const std::string& cert_dir, int live) {
  Result<std::vector<std::string>> names = ListEntries(cert_dir);
  if (!names.ok()) {
    LogWarn("{}", names.error().message);
    return;
  }
  for (const std::string& n : *names) {
    std::string path = cert_dir + "/" + n;
    bool stale = false;
    if (n.find(".tmp-") != std::string::npos || n.rfind(".new-", 0) == 0) {
      stale = true;
    } else if (int v = ParseVersion(n); v != 0 && v != live && IsDirectory(path)) {
      stale = !IsRegularFile(path + "/cert.pem") || !IsRegularFile(path + "/fullchain.pem");
    }
    if (stale) {
      LogInfo("removing leftover {} from an interrupted run", path);
      Status st = RemoveTree(path);
      if (!st.ok()) {
        LogWarn("{}", st.error().message);
      }
    }
  }
}

// NumericVersions returns the version numbers of the directories in
// `cert_dir`, ascending.
Result<std::vector<int>> NumericVersions(const std::string& cert_dir) {
  BH_ASSIGN(std::vector<std::string> names, ListEntries(cert_dir));
  std::vector<int> out;
  for (const std::string& n : names) {
    int v = ParseVersion(n);
    if (v != 0 && IsDirectory(cert_dir + "/" + n)) {
      out.push_back(v);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// WriteVersionDir creates a complete, fsynced version directory at `tmp`.
Status WriteVersionDir(const std::string& tmp, const CertFiles& files,
                       const std::string& pending_key) {
  if (::mkdir(tmp.c_str(), 0700) != 0) {
    return Err("creating directory {}: {}", tmp, ErrnoText(errno));
  }
  if (files.key_from_pending) {
    // A hard link: the store moves the key without ever reading it.
    std::string dst = tmp + "/privkey.pem";
    if (::link(pending_key.c_str(), dst.c_str()) != 0) {
      return Err("linking {} to {}: {}", pending_key, dst, ErrnoText(errno));
    }
  } else if (!files.privkey_pem.empty()) {
    BH_TRY(CreateFileExclusive(tmp + "/privkey.pem", files.privkey_pem.view(), 0600));
  }
  BH_TRY(CreateFileExclusive(tmp + "/cert.pem", files.cert_pem, 0644));
  BH_TRY(CreateFileExclusive(tmp + "/chain.pem", files.chain_pem, 0644));
  BH_TRY(CreateFileExclusive(tmp + "/fullchain.pem", files.fullchain_pem, 0644));
  if (!files.settings_json.empty()) {
    BH_TRY(CreateFileExclusive(tmp + "/" + kSettings, files.settings_json, 0600));
  }
  return FsyncDir(tmp);
}

// SwitchLive points `live` in `cert_dir` at `version` with one rename(2), so
// readers see either the old or the new target, never neither.
Status SwitchLive(const std::string& cert_dir, int version) {
  std::string tmp_link = fmt::format("{}/{}.tmp-{}", cert_dir, kLive, RandomSuffix());
  std::string target = std::to_string(version);
  if (::symlink(target.c_str(), tmp_link.c_str()) != 0) {
    return Err("creating symlink {}: {}", tmp_link, ErrnoText(errno));
  }
  std::string live = cert_dir + "/" + kLive;
  if (::rename(tmp_link.c_str(), live.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_link.c_str());
    return Err("renaming {} to {}: {}", tmp_link, live, ErrnoText(err));
  }
  return FsyncDir(cert_dir);
}

// Prune removes the oldest version directories beyond kKeepVersions, never
// the live one. Failures only warn: the commit itself has succeeded.
void Prune(const std::string& cert_dir, int live) {
  Result<std::vector<int>> versions = NumericVersions(cert_dir);
  if (!versions.ok()) {
    LogWarn("{}", versions.error().message);
    return;
  }
  size_t excess = versions->size() > kKeepVersions ? versions->size() - kKeepVersions : 0;
  for (int v : *versions) {
    if (excess == 0) {
      break;
    }
    if (v == live) {
      continue;
    }
    Status st = RemoveTree(fmt::format("{}/{}", cert_dir, v));
    if (!st.ok()) {
      LogWarn("pruning old version: {}", st.error().message);
    }
    --excess;
  }
}

}  // namespace

bool IsValidCertName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLen || name[0] == '.') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

std::string DefaultCertName(std::string_view first_identifier) {
  std::string out;
  for (char c : first_identifier.substr(0, kMaxNameLen)) {
    out += IsNameChar(c) ? c : '_';
  }
  if (!out.empty() && out[0] == '.') {
    out[0] = '_';
  }
  if (out.empty()) {
    out = "cert";
  }
  return out;
}

std::string CertStore::CertDir(std::string_view name) const {
  return root_ + "/" + std::string(name);
}

Result<FileLock> CertStore::Lock(std::string_view name, bool wait) const {
  BH_TRY(CheckName(name));
  std::string dir = CertDir(name);
  BH_TRY(MakeDirs(dir, 0700));
  return FileLock::Acquire(dir + "/lock", wait);
}

Result<nlohmann::json> CertStore::LoadSettings(std::string_view name) const {
  BH_TRY(CheckName(name));
  std::string path = CertDir(name) + "/" + kSettings;
  // Written by the store role: a symlink or FIFO in its place is refused.
  Result<std::string> text = ReadFileNoFollow(path, kMaxSettingsFile);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) {
      return ErrCode(ErrorCode::kNotFound, "certificate {} is not managed here ({} not found)",
                     name, path);
    }
    return text.error();
  }
  nlohmann::json j = ParseUntrustedJson(*text);
  if (j.is_discarded()) {
    return Err("{}: invalid JSON (or nested deeper than {} levels)", path, kMaxJsonDepth);
  }
  if (!j.is_object()) {
    return Err("{}: expected a JSON object", path);
  }
  return j;
}

Status CertStore::SaveSettings(std::string_view name, const nlohmann::json& settings) const {
  BH_TRY(CheckName(name));
  std::string dir = CertDir(name);
  std::string text;
  try {
    text = settings.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return Err("serialising settings for {}: {}", name, e.what());
  }
  BH_TRY(MakeDirs(dir, 0700));
  return WriteFileAtomic(dir + "/" + kSettings, text, 0600);
}

Result<LiveSet> CertStore::LoadLive(std::string_view name) const {
  BH_TRY(CheckName(name));
  BH_ASSIGN(int version, LiveVersion(CertDir(name)));
  if (version == 0) {
    return ErrCode(ErrorCode::kNotFound, "certificate {} has no live version yet", name);
  }
  return LoadVersion(name, version);
}

namespace {

// OpenVersionDir opens version `version` of `cert_dir` without following a
// symlink: the store role wrote it. kNotFound if it is not there.
Result<ScopedFd> OpenVersionDir(const std::string& cert_dir, int version) {
  std::string version_dir = fmt::format("{}/{}", cert_dir, version);
  ScopedFd dir(::open(version_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) {
    int err = errno;
    return ErrCode(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kFailure, "opening {}: {}",
                   version_dir,
                   err == ELOOP || err == ENOTDIR ? "not a directory (a symlink is not followed)"
                                                  : ErrnoText(err));
  }
  return dir;
}

}  // namespace

Result<VersionList> CertStore::Versions(std::string_view name) const {
  BH_TRY(CheckName(name));
  std::string cert_dir = CertDir(name);
  VersionList list;
  BH_ASSIGN(list.versions, NumericVersions(cert_dir));
  BH_ASSIGN(list.live, LiveVersion(cert_dir));
  return list;
}

Result<LiveSet> CertStore::LoadVersion(std::string_view name, int version) const {
  BH_TRY(CheckName(name));
  std::string cert_dir = CertDir(name);
  LiveSet set;
  set.version = version;
  std::error_code ec;
  std::filesystem::path abs =
      std::filesystem::absolute(fmt::format("{}/{}", cert_dir, version), ec);
  set.dir = ec ? fmt::format("{}/{}", cert_dir, version) : abs.lexically_normal().string();
  // The version directory and its files were written by the store role:
  // none of them is followed if it is a symlink, and a FIFO cannot stall
  // the reader.
  BH_ASSIGN(ScopedFd dir, OpenVersionDir(cert_dir, version));
  BH_ASSIGN(set.cert_pem,
            ReadFileAtNoFollow(dir.get(), "cert.pem", set.dir + "/cert.pem", kMaxCertFile));
  BH_ASSIGN(set.fullchain_pem, ReadFileAtNoFollow(dir.get(), "fullchain.pem",
                                                  set.dir + "/fullchain.pem", kMaxCertFile));
  struct stat st;
  set.has_key = ::fstatat(dir.get(), "privkey.pem", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISREG(st.st_mode);
  return set;
}

Result<Secret> CertStore::ReadVersionKey(std::string_view name, int version) const {
  BH_TRY(CheckName(name));
  std::string cert_dir = CertDir(name);
  BH_ASSIGN(ScopedFd dir, OpenVersionDir(cert_dir, version));
  std::string shown = fmt::format("{}/{}/privkey.pem", cert_dir, version);
  Result<std::string> pem = ReadFileAtNoFollow(dir.get(), "privkey.pem", shown, kMaxKeyFile);
  if (!pem.ok()) {
    return pem.error();
  }
  return Secret(std::move(*pem));
}

Result<nlohmann::json> CertStore::LoadVersionSettings(std::string_view name, int version) const {
  BH_TRY(CheckName(name));
  std::string cert_dir = CertDir(name);
  BH_ASSIGN(ScopedFd dir, OpenVersionDir(cert_dir, version));
  std::string shown = fmt::format("{}/{}/{}", cert_dir, version, kSettings);
  BH_ASSIGN(std::string text, ReadFileAtNoFollow(dir.get(), kSettings, shown, kMaxSettingsFile));
  nlohmann::json j = ParseUntrustedJson(text);
  if (j.is_discarded() || !j.is_object()) {
    return Err("{}: not a JSON object (or nested deeper than {} levels)", shown, kMaxJsonDepth);
  }
  return j;
}

Status CertStore::SetLive(std::string_view name, int version) const {
  BH_TRY(CheckName(name));
  std::string cert_dir = CertDir(name);
  BH_ASSIGN(ScopedFd dir, OpenVersionDir(cert_dir, version));
  for (const char* file : {"cert.pem", "fullchain.pem"}) {
    struct stat st;
    if (::fstatat(dir.get(), file, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      return Err("{}/{}/{} is missing or not a regular file", cert_dir, version, file);
    }
  }
  return SwitchLive(cert_dir, version);
}

Result<Secret> CertStore::ReadLiveKey(std::string_view name) const {
  BH_TRY(CheckName(name));
  std::string cert_dir = CertDir(name);
  BH_ASSIGN(int version, LiveVersion(cert_dir));
  if (version == 0) {
    return ErrCode(ErrorCode::kNotFound, "certificate {} has no live version yet", name);
  }
  Result<Secret> key =
      ReadSecretFileCapped(fmt::format("{}/{}/privkey.pem", cert_dir, version), kMaxKeyFile);
  if (!key.ok() && key.error().code == ErrorCode::kNotFound) {
    return ErrCode(ErrorCode::kNotFound,
                   "certificate {} (version {}) has no private key stored (issued from a CSR?)",
                   name, version);
  }
  return key;
}

Result<int> CertStore::Commit(std::string_view name, const CertFiles& files) const {
  BH_TRY(CheckName(name));
  std::string cert_dir = CertDir(name);
  BH_TRY(MakeDirs(cert_dir, 0700));
  BH_ASSIGN(int live, LiveVersion(cert_dir));
  CleanLeftovers(cert_dir, live);

  BH_ASSIGN(std::vector<int> versions, NumericVersions(cert_dir));
  int highest = std::max(live, versions.empty() ? 0 : versions.back());
  if (highest >= 999999999) {
    return Err("{}: version numbers exhausted", cert_dir);
  }
  int version = highest + 1;

  std::string tmp = fmt::format("{}/.new-{}-{}", cert_dir, version, RandomSuffix());
  Status written = WriteVersionDir(tmp, files, PendingDir(name) + "/privkey.pem");
  if (written.ok()) {
    written = RenameNoReplace(tmp, fmt::format("{}/{}", cert_dir, version));
  }
  if (!written.ok()) {
    (void)RemoveTree(tmp);
    return written.error().Wrap(fmt::format("storing certificate {}", name));
  }
  BH_TRY(FsyncDir(cert_dir));
  BH_TRY(SwitchLive(cert_dir, version));
  Prune(cert_dir, version);
  return version;
}

std::string CertStore::PendingDir(std::string_view name) const {
  return CertDir(name) + "/pending";
}

namespace {

// ReplaceExclusive creates dir/file under a temporary name with O_EXCL and
// `mode`, then renames it over dir/file.
Status ReplaceExclusive(const std::string& dir, std::string_view file, std::string_view data,
                        mode_t mode) {
  std::string tmp = fmt::format("{}/{}.tmp-{}", dir, file, RandomSuffix());
  BH_TRY(CreateFileExclusive(tmp, data, mode));
  std::string dst = fmt::format("{}/{}", dir, file);
  if (::rename(tmp.c_str(), dst.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Err("renaming {} to {}: {}", tmp, dst, ErrnoText(err));
  }
  return OkStatus();
}

}  // namespace

Status CertStore::WritePendingKey(std::string_view name, const Secret& key_pem) const {
  BH_TRY(CheckName(name));
  std::string dir = PendingDir(name);
  BH_TRY(MakeDirs(dir, 0700));
  BH_TRY(ReplaceExclusive(dir, "privkey.pem", key_pem.view(), 0600));
  return FsyncDir(dir);
}

std::string CertStore::NextDir(std::string_view name) const { return CertDir(name) + "/next"; }

Status CertStore::WriteNextKey(std::string_view name, const Secret& key_pem,
                               std::string_view public_pem) const {
  BH_TRY(CheckName(name));
  std::string dir = NextDir(name);
  BH_TRY(MakeDirs(dir, 0755));
  // A run killed between create and rename leaves a temporary copy.
  if (auto entries = ListEntries(dir); entries.ok()) {
    for (const std::string& entry : *entries) {
      if (entry.find(".tmp-") != std::string::npos) {
        (void)::unlink((dir + "/" + entry).c_str());
      }
    }
  }
  BH_TRY(ReplaceExclusive(dir, "privkey.pem", key_pem.view(), 0600));
  BH_TRY(ReplaceExclusive(dir, "pubkey.pem", public_pem, 0644));
  return FsyncDir(dir);
}

Result<Secret> CertStore::ReadNextKey(std::string_view name) const {
  BH_TRY(CheckName(name));
  return ReadSecretFileCapped(NextDir(name) + "/privkey.pem", kMaxKeyFile);
}

Result<Secret> CertStore::ReadPendingKey(std::string_view name) const {
  BH_TRY(CheckName(name));
  return ReadSecretFileCapped(PendingDir(name) + "/privkey.pem", kMaxKeyFile);
}

Status CertStore::WritePendingPublicKey(std::string_view name, std::string_view spki_der) const {
  BH_TRY(CheckName(name));
  std::string dir = PendingDir(name);
  BH_TRY(MakeDirs(dir, 0700));
  // No fsync: only this run's store reads it, and a resumed order has the
  // keys role write it again.
  return WriteFileAtomic(dir + "/pubkey.der", spki_der, 0644, Durability::kVisibleOnly);
}

Result<std::string> CertStore::ReadPendingPublicKey(std::string_view name) const {
  BH_TRY(CheckName(name));
  return ReadFileCapped(PendingDir(name) + "/pubkey.der", 16 * 1024);
}

Status CertStore::SavePendingOrder(std::string_view name, const nlohmann::json& order) const {
  BH_TRY(CheckName(name));
  std::string dir = PendingDir(name);
  BH_TRY(MakeDirs(dir, 0700));
  return WriteFileAtomic(dir + "/order.json", order.dump(2) + "\n", 0600);
}

Result<nlohmann::json> CertStore::LoadPendingOrder(std::string_view name) const {
  BH_TRY(CheckName(name));
  std::string path = PendingDir(name) + "/order.json";
  BH_ASSIGN(std::string text, ReadFileNoFollow(path, kMaxSettingsFile));
  nlohmann::json j = ParseUntrustedJson(text);
  if (j.is_discarded() || !j.is_object()) {
    return Err("{} is not a JSON object", path);
  }
  return j;
}

Status CertStore::ClearPending(std::string_view name) const {
  BH_TRY(CheckName(name));
  return RemoveTree(PendingDir(name));
}

Result<std::vector<std::string>> CertStore::List() const {
  Result<std::vector<std::string>> entries = ListEntries(root_);
  if (!entries.ok()) {
    if (entries.error().code == ErrorCode::kNotFound) {
      return std::vector<std::string>{};
    }
    return entries.error();
  }
  std::vector<std::string> names;
  for (std::string& n : *entries) {
    if (IsValidCertName(n) && IsDirectory(CertDir(n)) &&
        IsRegularFile(CertDir(n) + "/" + kSettings)) {
      names.push_back(std::move(n));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace bulkhead::store
