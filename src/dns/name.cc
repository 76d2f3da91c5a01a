#include "dns/name.h"

namespace bulkhead::dns {

DnsNameCheck CheckDnsName(std::string_view name, const DnsNameSyntax& syntax) {
  if (syntax.allow_final_dot && !name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > 253) {
    return {DnsNameFault::kLength, {}};
  }
  if (syntax.allow_wildcard && name.substr(0, 2) == "*.") {
    name.remove_prefix(2);
  }
  size_t labels = 0;
  while (true) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63 ||
        (syntax.host_labels && (label.front() == '-' || label.back() == '-'))) {
      return {DnsNameFault::kLabel, label};
    }
    for (char c : label) {
      bool ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-';
      if (!ldh && !(syntax.allow_underscore && c == '_')) {
        return {DnsNameFault::kCharacter, label};
      }
    }
    ++labels;
    if (dot == std::string_view::npos) {
      break;
    }
    name.remove_prefix(dot + 1);
  }
  if (labels < syntax.min_labels) {
    return {DnsNameFault::kTooFewLabels, {}};
  }
  return {};
}

bool IsDnsName(std::string_view name, bool allow_underscore) {
  DnsNameSyntax syntax;
  syntax.allow_underscore = allow_underscore;
  return CheckDnsName(name, syntax).fault == DnsNameFault::kNone;
}

}  // namespace bulkhead::dns
