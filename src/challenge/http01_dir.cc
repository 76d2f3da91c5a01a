// The directory publisher: writes <dir>/<token> for a web server that already
// serves /.well-known/acme-challenge/ from there.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "challenge/http01.h"
#include "util/base64url.h"
#include "util/fs.h"
#include "util/log.h"

namespace bulkhead::challenge {
namespace {

constexpr size_t kMaxShownToken = 64;

// ShowToken renders a peer-supplied token for an error message: printable
// ASCII only, truncated, so a hostile CA cannot inject terminal controls.
std::string ShowToken(std::string_view token) {
  std::string out;
  for (char c : token.substr(0, kMaxShownToken)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (token.size() > kMaxShownToken) {
    out += "...";
  }
  return "\"" + out + "\"";
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// EnsureServedDir creates `path` if missing and makes it world-readable, as
// the web server usually runs as another user and our umask may be tight.
Status EnsureServedDir(const std::string& path) {
  if (IsDir(path)) {
    return OkStatus();
  }
  BH_TRY(MakeDirs(path, 0755));
  if (::chmod(path.c_str(), 0755) != 0) {
    return Err("chmod {}: {}", path, std::strerror(errno));
  }
  return OkStatus();
}

class DirectoryPublisher : public Publisher {
 public:
  DirectoryPublisher(std::string dir, std::string description)
      : dir_(std::move(dir)), description_(std::move(description)) {}

  ~DirectoryPublisher() override {
    for (const std::string& token : published_) {
      std::string path = dir_ + "/" + token;
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        LogWarn("removing challenge file {}: {}", path, std::strerror(errno));
      }
    }
  }

  Status Publish(std::string_view token, std::string_view key_authorization) override {
    if (!IsBase64UrlToken(token)) {
      return Err("refusing challenge token {}: not base64url", ShowToken(token));
    }
    std::string path = dir_ + "/" + std::string(token);
    BH_TRY(WriteFileAtomic(path, key_authorization, 0644, Durability::kVisibleOnly));
    published_.insert(std::string(token));
    LogDebug("published challenge file {}", path);
    return OkStatus();
  }

  Status Remove(std::string_view token) override {
    auto it = published_.find(std::string(token));
    if (it == published_.end()) {
      // Only files we wrote are ever removed.
      return OkStatus();
    }
    std::string path = dir_ + "/" + *it;
    published_.erase(it);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Err("removing challenge file {}: {}", path, std::strerror(errno));
    }
    return OkStatus();
  }

  std::string Describe() const override { return description_; }

 private:
  std::string dir_;
  std::string description_;
  std::set<std::string> published_;
};

}  // namespace

Result<std::unique_ptr<Publisher>> NewDirectoryPublisher(const std::string& root, bool webroot) {
  if (root.empty()) {
    return ErrCode(ErrorCode::kUsage, "challenge directory: empty path");
  }
  if (!webroot) {
    if (!IsDir(root)) {
      return ErrCode(ErrorCode::kUsage, "challenge directory {} does not exist", root);
    }
    return std::unique_ptr<Publisher>(
        new DirectoryPublisher(root, fmt::format("challenge directory {}", root)));
  }
  // A mistyped webroot must not silently become a new, unserved directory.
  if (!IsDir(root)) {
    return ErrCode(ErrorCode::kUsage, "webroot {} does not exist", root);
  }
  std::string well_known = root + "/.well-known";
  std::string dir = well_known + "/acme-challenge";
  BH_TRY(EnsureServedDir(well_known));
  BH_TRY(EnsureServedDir(dir));
  return std::unique_ptr<Publisher>(new DirectoryPublisher(dir, fmt::format("webroot {}", root)));
}

Result<int> SweepStaleTokens(const std::string& dir, std::string_view thumbprint,
                             int64_t min_age_seconds) {
  // A key authorization is token + "." + thumbprint: far below this cap.
  constexpr size_t kMaxTokenFile = 1024;
  if (!IsBase64UrlToken(thumbprint)) {
    return Err("sweeping {}: invalid account thumbprint", dir);
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) {
      return 0;
    }
    return Err("sweeping {}: {}", dir, std::strerror(errno));
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() <= 256 && IsBase64UrlToken(name)) {
      names.push_back(std::move(name));
    }
  }
  ::closedir(d);
  int removed = 0;
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<size_t>(st.st_size) > kMaxTokenFile ||
        now - static_cast<int64_t>(st.st_mtime) < min_age_seconds) {
      continue;
    }
    auto content = ReadFileCapped(path, kMaxTokenFile);
    if (content.ok() && *content == name + "." + std::string(thumbprint) &&
        ::unlink(path.c_str()) == 0) {
      LogInfo("removed {}, left by an interrupted run", path);
      ++removed;
    }
  }
  return removed;
}

}  // namespace bulkhead::challenge
