#include "dns/idn.h"

#include <idn2.h>

#include <cstdlib>
#include <memory>

#include <fmt/format.h>

namespace bulkhead::dns {
namespace {

// IdnString owns a string libidn2 allocated.
struct IdnFree {
  void operator()(char* p) const { idn2_free(p); }
};
using IdnString = std::unique_ptr<char, IdnFree>;

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) {
      return false;
    }
  }
  return true;
}

// Shown escapes what is not printable ASCII, for messages.
std::string Shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 300)) {
    out += c >= 0x20 && c < 0x7f ? std::string(1, static_cast<char>(c))
                                 : fmt::format("\\x{:02x}", c);
  }
  return out;
}

}  // namespace

Result<std::string> ToAsciiName(std::string_view name) {
  if (IsAscii(name)) {
    return std::string(name);
  }
  std::string_view rest = name;
  std::string prefix;
  if (rest.substr(0, 2) == "*.") {
    prefix = "*.";
    rest.remove_prefix(2);
  }
  std::string suffix;
  if (!rest.empty() && rest.back() == '.') {
    suffix = ".";
    rest.remove_suffix(1);
  }
  std::string input(rest);  // NUL-terminated for libidn2.
  if (input.find('\0') != std::string::npos) {
    return ErrCode(ErrorCode::kUsage, "name \"{}\": contains a NUL byte", Shown(name));
  }
  char* out = nullptr;
  int rc = idn2_to_ascii_8z(input.c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  IdnString owned(out);
  if (rc != IDN2_OK) {
    return ErrCode(ErrorCode::kUsage, "name \"{}\" is not a valid internationalized name: {}",
                   Shown(name), idn2_strerror(rc));
  }
  return prefix + owned.get() + suffix;
}

std::string ToUnicodeName(std::string_view name) {
  std::string lower;
  for (char c : name) {
    lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  if (lower.find("xn--") == std::string::npos || !IsAscii(name) ||
      name.find('\0') != std::string_view::npos) {
    return std::string(name);
  }
  std::string_view rest = name;
  std::string prefix;
  if (rest.substr(0, 2) == "*.") {
    prefix = "*.";
    rest.remove_prefix(2);
  }
  std::string input(rest);
  char* out = nullptr;
  int rc = idn2_to_unicode_8z8z(input.c_str(), &out, 0);
  IdnString owned(out);
  if (rc != IDN2_OK || owned == nullptr) {
    return std::string(name);
  }
  return prefix + owned.get();
}

std::string DisplayName(std::string_view name) {
  std::string unicode = ToUnicodeName(name);
  return unicode == name ? std::string(name) : fmt::format("{} ({})", name, unicode);
}

}  // namespace bulkhead::dns
