// Parsing JSON from peers that may be hostile.
#ifndef BULKHEAD_UTIL_JSON_H_
#define BULKHEAD_UTIL_JSON_H_

#include <nlohmann/json.hpp>

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

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_JSON_H_
