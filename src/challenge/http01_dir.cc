// The directory publisher: writes <dir>/<token> for a web server that already
// serves /.well-known/acme-challenge/ from there.
#include <dirent.h>
#include <fcntl.h>
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
#include "util/nofollow.h"
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

// OpenServedDir opens (creating it if missing, 0755: the web server usually
// runs as another user and our umask may be tight) the directory `name` in
// `parent` without following a symlink. `path_only`: an O_PATH descriptor
// for an existing directory (the sandboxed role may only read the
// challenge directory itself).
Result<ScopedFd> OpenServedDir(int parent, const std::string& name, const std::string& shown,
                               bool path_only) {
  auto fd = OpenDirAtNoFollow(parent, name, shown, path_only);
  if (fd.ok() || fd.error().code != ErrorCode::kNotFound) {
    return fd;
  }
  if (::mkdirat(parent, name.c_str(), 0755) != 0 && errno != EEXIST) {
    return Err("creating directory {}: {}", shown, std::strerror(errno));
  }
  BH_ASSIGN(ScopedFd made, OpenDirAtNoFollow(parent, name, shown));
  if (::fchmod(made.get(), 0755) != 0) {
    return Err("chmod {}: {}", shown, std::strerror(errno));
  }
  return made;
}

// DirectoryPublisher writes token files through a descriptor of the
// challenge directory opened without following symlinks: whoever can change
// a directory on the path cannot redirect the writes (or removals) later.
class DirectoryPublisher : public Publisher {
 public:
  DirectoryPublisher(ScopedFd dir_fd, std::string dir, std::string description)
      : dir_fd_(std::move(dir_fd)), dir_(std::move(dir)), description_(std::move(description)) {}

  ~DirectoryPublisher() override {
    for (const std::string& token : published_) {
      if (::unlinkat(dir_fd_.get(), token.c_str(), 0) != 0 && errno != ENOENT) {
        LogWarn("removing challenge file {}/{}: {}", dir_, token, std::strerror(errno));
      }
    }
  }

  std::string_view ChallengeType() const override { return kHttp01; }

  Status Publish(const Challenge& challenge) override {
    const std::string& token = challenge.token;
    if (!IsBase64UrlToken(token)) {
      return Err("refusing challenge token {}: not base64url", ShowToken(token));
    }
    std::string name(token);
    std::string path = dir_ + "/" + name;
    // A hidden temporary name (web servers and listings skip it), created
    // O_EXCL|O_NOFOLLOW in the directory's descriptor, then renamed over the
    // token's name: a reader sees the whole key authorization or nothing.
    // No fsync: a token is worthless after a crash.
    BH_TRY(WriteFileAtomicAt(dir_fd_.get(), dir_, name, challenge.key_authorization, 0644,
                             Durability::kVisibleOnly));
    published_.insert(name);
    LogDebug("published challenge file {}", path);
    return OkStatus();
  }

  Status Remove(const Challenge& challenge) override {
    auto it = published_.find(challenge.token);
    if (it == published_.end()) {
      // Only files we wrote are ever removed.
      return OkStatus();
    }
    std::string name = *it;
    published_.erase(it);
    if (::unlinkat(dir_fd_.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
      return Err("removing challenge file {}/{}: {}", dir_, name, std::strerror(errno));
    }
    return OkStatus();
  }

  // WaitReady: the file is in place once Publish returns.
  Status WaitReady() override { return OkStatus(); }

  std::string Describe() const override { return description_; }

 private:
  ScopedFd dir_fd_;
  std::string dir_;
  std::string description_;
  std::set<std::string> published_;
};

}  // namespace

Result<std::unique_ptr<Publisher>> NewDirectoryPublisher(const std::string& root, bool webroot) {
  if (root.empty()) {
    return ErrCode(ErrorCode::kUsage, "challenge directory: empty path");
  }
  // The sandboxed role may read only the challenge directory: the webroot
  // and .well-known are opened for lookup only.
  auto root_fd = OpenDirNoFollow(root, /*path_only=*/webroot);
  if (!root_fd.ok()) {
    if (root_fd.error().code == ErrorCode::kNotFound) {
      // A mistyped webroot must not silently become a new, unserved directory.
      return ErrCode(ErrorCode::kUsage, "{} {} does not exist",
                     webroot ? "webroot" : "challenge directory", root);
    }
    return root_fd.error().Wrap(webroot ? "webroot" : "challenge directory");
  }
  if (!webroot) {
    return std::unique_ptr<Publisher>(new DirectoryPublisher(
        std::move(root_fd).value(), root, fmt::format("challenge directory {}", root)));
  }
  std::string well_known = root + "/.well-known";
  std::string dir = well_known + "/acme-challenge";
  BH_ASSIGN(ScopedFd wk_fd, OpenServedDir(root_fd->get(), ".well-known", well_known, /*path_only=*/true));
  BH_ASSIGN(ScopedFd dir_fd, OpenServedDir(wk_fd.get(), "acme-challenge", dir, /*path_only=*/false));
  return std::unique_ptr<Publisher>(
      new DirectoryPublisher(std::move(dir_fd), dir, fmt::format("webroot {}", root)));
}

Result<int> SweepStaleTokens(const std::string& dir, std::string_view thumbprint,
                             int64_t min_age_seconds) {
  // A key authorization is token + "." + thumbprint: far below this cap.
  constexpr size_t kMaxTokenFile = 1024;
  if (!IsBase64UrlToken(thumbprint)) {
    return Err("sweeping {}: invalid account thumbprint", dir);
  }
  auto dir_fd = OpenDirNoFollow(dir);
  if (!dir_fd.ok()) {
    if (dir_fd.error().code == ErrorCode::kNotFound) {
      return 0;
    }
    return dir_fd.error().Wrap("sweeping");
  }
  int list_fd = ::openat(dir_fd->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* d = list_fd < 0 ? nullptr : ::fdopendir(list_fd);
  if (d == nullptr) {
    int err = errno;
    if (list_fd >= 0) {
      ::close(list_fd);
    }
    return Err("sweeping {}: {}", dir, std::strerror(err));
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
    if (::fstatat(dir_fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) > kMaxTokenFile ||
        now - static_cast<int64_t>(st.st_mtime) < min_age_seconds) {
      continue;
    }
    auto content = ReadFileAtNoFollow(dir_fd->get(), name, path, kMaxTokenFile);
    if (content.ok() && *content == name + "." + std::string(thumbprint) &&
        ::unlinkat(dir_fd->get(), name.c_str(), 0) == 0) {
      LogInfo("removed {}, left by an interrupted run", path);
      ++removed;
    }
  }
  return removed;
}

}  // namespace bulkhead::challenge
