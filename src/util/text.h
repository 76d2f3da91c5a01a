// Small ASCII text helpers shared by the parsers (HTTP, DNS presentation
// format, hex fields). Locale-independent on purpose.
#ifndef BULKHEAD_UTIL_TEXT_H_
#define BULKHEAD_UTIL_TEXT_H_

#include <span>
#include <string>
#include <string_view>

namespace bulkhead {

// AsciiLower returns `s` with A-Z mapped to a-z; other bytes unchanged.
std::string AsciiLower(std::string_view s);

// TrimBlanks returns `s` without leading and trailing spaces, tabs, CR and LF.
std::string_view TrimBlanks(std::string_view s);

// PrintableExcerpt renders peer-chosen text for a message: at most
// `max_bytes` bytes, anything but printable ASCII as '?', and "..." when cut,
// so hostile input can neither flood nor garble a terminal or log.
std::string PrintableExcerpt(std::string_view s, size_t max_bytes);

// TruncateUtf8 returns at most `max_bytes` bytes of `s`, cut before a
// UTF-8 continuation byte so a multi-byte character is never split.
std::string TruncateUtf8(std::string_view s, size_t max_bytes);

// HexEncode returns the lower-case hex digits of `bytes`.
std::string HexEncode(std::string_view bytes);

// HexDigitValue returns 0..15 for a hex digit (either case), -1 otherwise.
int HexDigitValue(char c);

// EditDistance returns the Levenshtein distance between `a` and `b` (one
// insertion, deletion or substitution of a byte costs 1).
size_t EditDistance(std::string_view a, std::string_view b);

// ClosestWord returns the word of `words` nearest to `typed` by
// EditDistance (the first of equals), or "" when none is within
// `max_distance` or `words` is empty: the "did you mean" of a typo.
std::string ClosestWord(std::string_view typed, std::span<const std::string> words,
                        size_t max_distance);

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_TEXT_H_
