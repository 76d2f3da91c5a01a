// The drop-directory updater: one file per TXT value, for setups where
// something else (e.g. `bulkhead zone compile`) turns the files into zone
// data and bulkhead may write nothing but that directory.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "challenge/dns01.h"
#include "util/base64url.h"
#include "util/fs.h"

namespace bulkhead::challenge {
namespace {

class DropUpdater : public RecordUpdater {
 public:
  DropUpdater(std::string dir, uint32_t ttl) : dir_(std::move(dir)), ttl_(ttl) {}

  Status Add(const std::string& record_name, const std::string& value) override {
    BH_ASSIGN(std::string path, PathFor(record_name, value));
    return WriteFileAtomic(path, DropFileContent(record_name, ttl_, value), 0644,
                           Durability::kVisibleOnly);
  }

  Status Delete(const std::string& record_name, const std::string& value) override {
    BH_ASSIGN(std::string path, PathFor(record_name, value));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Err("removing drop file {}: {}", path, std::strerror(errno));
    }
    return OkStatus();
  }

  std::string Describe() const override { return fmt::format("drop directory {}", dir_); }

 private:
  // PathFor re-checks both parts: they become a file name.
  Result<std::string> PathFor(const std::string& record_name, const std::string& value) const {
    if (!IsSafeRecordName(record_name) || !IsBase64UrlToken(value) || value.size() != 43) {
      return Err("drop directory {}: refusing an unsafe record name or value", dir_);
    }
    return dir_ + "/" + record_name + value;
  }

  std::string dir_;
  uint32_t ttl_;
};

}  // namespace

Result<std::unique_ptr<RecordUpdater>> NewDropUpdater(const std::string& dir, uint32_t ttl) {
  struct stat st;
  if (dir.empty() || ::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return ErrCode(ErrorCode::kUsage, "--dns-drop: directory {} does not exist", dir);
  }
  return std::unique_ptr<RecordUpdater>(std::make_unique<DropUpdater>(dir, ttl));
}

}  // namespace bulkhead::challenge
