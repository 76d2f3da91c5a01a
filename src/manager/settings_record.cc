#include "manager/settings_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/json.h"
#include "util/log.h"
#include "util/nofollow.h"

namespace bulkhead::manager {
namespace {

constexpr char kRecordDir[] = "root-settings";
constexpr size_t kMaxRecordFile = 64 << 10;  // As settings.json.
// kMaxShownDiffs bounds the error: enough to see what was changed.
constexpr size_t kMaxShownDiffs = 6;
constexpr size_t kMaxShownValue = 120;

// OpenRecordDir opens <state>/root-settings (created 0700 with `create`)
// and checks that only root can change it. kNotFound if it is missing.
Result<ResolvedDir> OpenRecordDir(const std::string& state_dir, bool create) {
  BH_ASSIGN(ResolvedDir state, ResolveTrustedDir(state_dir));
  BH_ASSIGN(ResolvedDir dir, ResolveTrustedDirAt(state, kRecordDir, create ? 0700 : 0));
  if (dir.st.st_uid != 0 || WritableByOthers(dir.st)) {
    return Err("{} must belong to root and be writable by root only (owner uid {}, mode {:o})",
               dir.path, dir.st.st_uid, dir.st.st_mode & 07777);
  }
  return dir;
}

// Show renders a JSON value for a message: escaped (ASCII only, so no
// terminal controls) and cut short.
std::string Show(const nlohmann::json& v) {
  std::string s = v.dump(/*indent=*/-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
  if (s.size() > kMaxShownValue) {
    s = s.substr(0, kMaxShownValue) + "...";
  }
  return s;
}

// Field turns a JSON pointer ("/challenge/target") into "challenge.target".
std::string Field(const std::string& pointer) {
  std::string out;
  for (char c : pointer.substr(pointer.empty() ? 0 : 1)) {
    out += c == '/' ? '.' : c;
  }
  return out.empty() ? "(the whole object)" : out;
}

// Differences lists, one per line, what differs between `record` and `now`.
std::string Differences(const nlohmann::json& record, const nlohmann::json& now) {
  nlohmann::json patch = nlohmann::json::diff(record, now);
  std::string out;
  size_t shown = 0;
  for (const nlohmann::json& op : patch) {
    if (shown == kMaxShownDiffs) {
      out += fmt::format("\n  ... and {} more", patch.size() - shown);
      break;
    }
    std::string ptr = op.value("path", "");
    nlohmann::json::json_pointer jp(ptr);
    out += fmt::format("\n  {}: {} in settings.json, {} in root's record", Field(ptr),
                       now.contains(jp) ? Show(now.at(jp)) : "absent",
                       record.contains(jp) ? Show(record.at(jp)) : "absent");
    ++shown;
  }
  return out;
}

// OnlyRootWrote says whether `cert_dir`/settings.json could only have been
// written by root: both belong to root and nobody else may change them.
bool OnlyRootWrote(const std::string& cert_dir) {
  struct stat dir;
  struct stat file;
  std::string path = cert_dir + "/settings.json";
  return ::lstat(cert_dir.c_str(), &dir) == 0 && S_ISDIR(dir.st_mode) && dir.st_uid == 0 &&
         !WritableByOthers(dir) && ::lstat(path.c_str(), &file) == 0 && S_ISREG(file.st_mode) &&
         file.st_uid == 0 && (file.st_mode & 022) == 0;
}

}  // namespace

std::string SettingsRecordPath(const std::string& state_dir, const std::string& name) {
  return fmt::format("{}/{}/{}.json", state_dir, kRecordDir, name);
}

Status SaveSettingsRecord(const std::string& state_dir, const CertSettings& s) {
  if (::geteuid() != 0) {
    return OkStatus();
  }
  if (!store::IsValidCertName(s.name)) {
    return Err("recording settings: invalid certificate name");
  }
  BH_ASSIGN(ResolvedDir dir, OpenRecordDir(state_dir, /*create=*/true));
  std::string text = s.ToJson().dump(2) + "\n";
  // A renewal with unchanged settings costs no write (two fsyncs).
  auto old = ReadFileAtNoFollow(dir.fd.get(), s.name + ".json", dir.path, text.size() + 1);
  if (old.ok() && *old == text) {
    return OkStatus();
  }
  return WriteFileAtomicAt(dir.fd.get(), dir.path, s.name + ".json", text, 0600);
}

Status CheckSettingsRecord(const std::string& state_dir, const store::CertStore& certs,
                           const CertSettings& loaded) {
  if (::geteuid() != 0) {
    return OkStatus();
  }
  const std::string cert_dir = certs.CertDir(loaded.name);
  const std::string settings_path = cert_dir + "/settings.json";
  const std::string record_path = SettingsRecordPath(state_dir, loaded.name);
  const std::string accept =
      "Root does not act on settings that another user can write. If the change is yours, "
      "run `bulkhead issue --force` as root with the options you want: a successful issue "
      "records them";
  Result<std::string> text = ErrCode(ErrorCode::kNotFound, "no record");
  auto dir = OpenRecordDir(state_dir, /*create=*/false);
  if (dir.ok()) {
    text = ReadFileAtNoFollow(dir->fd.get(), loaded.name + ".json", record_path, kMaxRecordFile);
  } else if (dir.error().code != ErrorCode::kNotFound) {
    return dir.error();
  }
  if (!text.ok()) {
    if (text.error().code != ErrorCode::kNotFound) {
      return text.error();
    }
    if (OnlyRootWrote(cert_dir)) {
      // A state directory from before records: nothing but root wrote these.
      BH_TRY(SaveSettingsRecord(state_dir, loaded));
      LogInfo("{}: recorded the settings in {}", loaded.name, record_path);
      return OkStatus();
    }
    return Err("{} was not written by root alone, and root has no record of these settings "
               "({} is missing). {}.",
               settings_path, record_path, accept);
  }
  nlohmann::json parsed = ParseUntrustedJson(*text);
  if (parsed.is_discarded()) {
    return Err("{}: not valid JSON", record_path);
  }
  BH_ASSIGN(CertSettings record, CertSettings::FromJson(parsed, record_path));
  nlohmann::json want = record.ToJson();
  nlohmann::json got = loaded.ToJson();
  if (want == got) {
    return OkStatus();
  }
  return Err("{} differs from root's record of these settings ({}):{}\n{}.", settings_path,
             record_path, Differences(want, got), accept);
}

}  // namespace bulkhead::manager
