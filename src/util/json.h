// Parsing JSON from peers that may be hostile.
#ifndef BULKHEAD_UTIL_JSON_H_
#define BULKHEAD_UTIL_JSON_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace bulkhead {

// kMaxJsonDepth bounds nesting: ACME objects nest four levels at most, and
// copying or printing a deeper document recurses once per level, so an
// attacker could otherwise overflow the stack with a small body.
inline constexpr int kMaxJsonDepth = 32;

// JsonDepthWithin reports whether `text` never nests arrays/objects deeper
// than `max_depth` (counting brackets outside strings; no parsing).
bool JsonDepthWithin(std::string_view text, int max_depth = kMaxJsonDepth);

// ParseUntrustedJson parses `text` without exceptions. It returns a
// discarded value (is_discarded()) for invalid JSON and for documents nested
// deeper than kMaxJsonDepth.
nlohmann::json ParseUntrustedJson(std::string_view text);

// The Read* helpers take one typed member of a JSON object read from disk or
// a peer; each returns false when the member has the wrong type (or is
// missing where it must be present), so the caller reports its own error
// naming the file and the key. On false, `*out` is left unchanged.

// ReadJsonString stores the string member `key` of `j` in `*out`. An absent
// member fails when `required`, else returns true and leaves `*out` alone.
bool ReadJsonString(const nlohmann::json& j, const char* key, std::string* out, bool required);

// ReadJsonInt stores the integer member `key` of `j` in `*out`; fails when it
// is absent, not an integer, or outside [min, max].
bool ReadJsonInt(const nlohmann::json& j, const char* key, int64_t* out,
                 int64_t min = std::numeric_limits<int64_t>::min(),
                 int64_t max = std::numeric_limits<int64_t>::max());

// JsonFlag returns true only when member `key` of `j` is the boolean true:
// for optional flags where absent or malformed means "off". Never fails.
bool JsonFlag(const nlohmann::json& j, const char* key);

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_JSON_H_
