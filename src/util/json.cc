#include "util/json.h"

namespace bulkhead {

bool JsonDepthWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return false;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

nlohmann::json ParseUntrustedJson(std::string_view text) {
  if (!JsonDepthWithin(text)) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
}

bool ReadJsonString(const nlohmann::json& j, const char* key, std::string* out, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    return !required;
  }
  if (!it->is_string()) {
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool ReadJsonInt(const nlohmann::json& j, const char* key, int64_t* out, int64_t min,
                 int64_t max) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) {
    return false;
  }
  int64_t v = it->get<int64_t>();
  if (v < min || v > max) {
    return false;
  }
  *out = v;
  return true;
}

bool JsonFlag(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace bulkhead
