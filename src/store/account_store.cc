#include "store/account_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "util/fs.h"
#include "util/text.h"

namespace bulkhead::store {
namespace {

constexpr size_t kMaxKeyFile = 64 << 10;
constexpr size_t kMaxInfoFile = 64 << 10;

bool IsHostChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

}  // namespace

Result<std::string> CaDirName(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return ErrCode(ErrorCode::kUsage, "directory URL \"{}\": {}", url.substr(0, 200), why);
  };
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return bad("expected scheme://host[:port]/...");
  }
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (authority.find('@') != std::string_view::npos) {
    return bad("user information in the URL is not supported");
  }

  std::string host;
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return bad("unterminated [IPv6] address");
    }
    for (char c : authority.substr(1, close - 1)) {
      if (!(IsHostChar(c) || c == ':')) {
        return bad("unsafe character in host");
      }
      host += c == ':' ? '_' : c;
    }
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') {
        return bad("unexpected text after ]");
      }
      port = rest.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    for (char c : authority.substr(0, colon)) {
      if (!IsHostChar(c)) {
        return bad("unsafe character in host");
      }
      host += c;
    }
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
    }
  }
  host = AsciiLower(host);
  // A leading '.' would allow "." and ".." as directory names.
  if (host.empty() || host[0] == '.') {
    return bad("missing or invalid host");
  }
  if (port.empty()) {
    return host;
  }
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad("invalid port");
  }
  int p = std::stoi(std::string(port));
  if (p < 1 || p > 65535) {
    return bad("invalid port");
  }
  return fmt::format("{}_{}", host, p);
}

bool AccountStore::HasKey() const {
  struct stat st;
  return ::lstat(KeyPath().c_str(), &st) == 0;
}

Result<Secret> AccountStore::ReadKey() const {
  Result<Secret> key = ReadSecretFileCapped(KeyPath(), kMaxKeyFile);
  if (!key.ok() && key.error().code == ErrorCode::kNotFound) {
    return ErrCode(ErrorCode::kNotFound,
                   "no account key at {}: run `bulkhead account register` first", KeyPath());
  }
  return key;
}

Status AccountStore::CreateKey(const Secret& pem) const {
  BH_TRY(MakeDirs(dir_, 0700));
  if (HasKey()) {
    // O_EXCL below would refuse anyway; this gives the clearer message.
    return Err("account key {} already exists; refusing to overwrite it", KeyPath());
  }
  return CreateFileExclusive(KeyPath(), pem.view(), 0400);
}

Status AccountStore::ReplaceKey(const Secret& pem) const {
  BH_TRY(MakeDirs(dir_, 0700));
  if (HasKey()) {
    // A hard link keeps the old key reachable under its new name while
    // account.key itself is swapped by one rename: there is no moment without
    // a key, and link(2) never overwrites an older backup.
    std::string base =
        fmt::format("{}.old-{}", KeyPath(), static_cast<long long>(std::time(nullptr)));
    std::string old = base;
    for (int i = 1; ::link(KeyPath().c_str(), old.c_str()) != 0; ++i) {
      int err = errno;
      if (err != EEXIST || i > 100) {
        return Err("keeping the previous account key as {}: {}", old, std::strerror(err));
      }
      old = fmt::format("{}-{}", base, i);
    }
  }
  return WriteFileAtomic(KeyPath(), pem.view(), 0400);
}

Status AccountStore::ReplaceKeyKeeping(const Secret& new_pem, const Secret& old_pem) const {
  std::string base =
      fmt::format("{}.old-{}", KeyPath(), static_cast<long long>(std::time(nullptr)));
  std::string old = base;
  struct stat st;
  // Never overwrite an older backup: pick the first free name.
  for (int i = 1; ::lstat(old.c_str(), &st) == 0; ++i) {
    if (i > 100) {
      return Err("keeping the previous account key: too many backups named {}-N", base);
    }
    old = fmt::format("{}-{}", base, i);
  }
  Status kept = CreateFileExclusive(old, old_pem.view(), 0400);
  if (!kept.ok()) {
    return kept.error().Wrap("keeping the previous account key");
  }
  return WriteFileAtomic(KeyPath(), new_pem.view(), 0400);
}

Result<nlohmann::json> AccountStore::LoadInfo() const {
  BH_ASSIGN(std::string text, ReadFileCapped(InfoPath(), kMaxInfoFile));
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    if (!j.is_object()) {
      return Err("{}: expected a JSON object", InfoPath());
    }
    return j;
  } catch (const nlohmann::json::exception& e) {
    return Err("{}: invalid JSON: {}", InfoPath(), e.what());
  }
}

Status AccountStore::SaveInfo(const nlohmann::json& info) const {
  std::string text;
  try {
    text = info.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return Err("serialising {}: {}", InfoPath(), e.what());
  }
  BH_TRY(MakeDirs(dir_, 0700));
  return WriteFileAtomic(InfoPath(), text, 0600);
}

}  // namespace bulkhead::store
