#include "manager/renewal_status.h"

#include <nlohmann/json.hpp>

#include "util/fs.h"
#include "util/json.h"
#include "util/nofollow.h"

namespace bulkhead::manager {
namespace {

constexpr size_t kMaxStatusFile = 1 << 20;
constexpr size_t kMaxError = 300;

}  // namespace

std::string RenewalStatusPath(const std::string& state_dir) {
  return state_dir + "/renewal-status.json";
}

Result<std::map<std::string, RenewalAttempt>> LoadRenewalStatus(const std::string& state_dir) {
  std::map<std::string, RenewalAttempt> out;
  std::string path = RenewalStatusPath(state_dir);
  Result<std::string> text = ReadFileNoFollow(path, kMaxStatusFile);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) {
      return out;
    }
    return text.error();
  }
  nlohmann::json j = ParseUntrustedJson(*text);
  if (j.is_discarded() || !j.is_object()) {
    return Err("{}: not a JSON object", path);
  }
  for (const auto& [name, entry] : j.items()) {
    if (!entry.is_object() || !entry.contains("at") || !entry["at"].is_number_integer() ||
        !entry.contains("ok") || !entry["ok"].is_boolean()) {
      continue;
    }
    RenewalAttempt a;
    a.at = entry["at"].get<int64_t>();
    a.ok = entry["ok"].get<bool>();
    if (entry.contains("last_success") && entry["last_success"].is_number_integer()) {
      a.last_success = entry["last_success"].get<int64_t>();
    }
    if (entry.contains("error") && entry["error"].is_string()) {
      a.error = entry["error"].get<std::string>().substr(0, kMaxError);
    }
    out[name] = std::move(a);
  }
  return out;
}

Status RecordRenewalAttempt(const std::string& state_dir, const std::string& name, int64_t at,
                            bool ok, std::string_view error) {
  // An unreadable old file is replaced rather than blocking the record.
  Result<std::map<std::string, RenewalAttempt>> loaded = LoadRenewalStatus(state_dir);
  std::map<std::string, RenewalAttempt> all;
  if (loaded.ok()) {
    all = std::move(*loaded);
  }
  RenewalAttempt& a = all[name];
  a.at = at;
  a.ok = ok;
  if (ok) {
    a.last_success = at;
    a.error.clear();
  } else {
    std::string_view first = error.substr(0, error.find('\n'));
    a.error = std::string(first.substr(0, kMaxError));
  }
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [n, v] : all) {
    j[n] = {{"at", v.at}, {"ok", v.ok}, {"last_success", v.last_success}, {"error", v.error}};
  }
  std::string text;
  try {
    text = j.dump(2, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return Err("{}: {}", RenewalStatusPath(state_dir), e.what());
  }
  return WriteFileAtomic(RenewalStatusPath(state_dir), text, 0644);
}

}  // namespace bulkhead::manager
