#include "dns/name.h"

namespace bulkhead::dns {

bool IsDnsName(std::string_view name, bool allow_underscore) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > 253) {
    return false;
  }
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) {
        return false;
      }
      label = 0;
      continue;
    }
    bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-';
    if (!ldh && !(allow_underscore && c == '_')) {
      return false;
    }
    if (++label > 63) {
      return false;
    }
  }
  return label > 0;
}

}  // namespace bulkhead::dns
