// Syntax of DNS names in presentation format, shared by the dns-01
// publishers, the zone compiler, TLSA and the names requested from the CA
// (acme::ValidateName).
#ifndef BULKHEAD_DNS_NAME_H_
#define BULKHEAD_DNS_NAME_H_

#include <cstddef>
#include <string_view>

namespace bulkhead::dns {

// DnsNameSyntax selects which variant of the name syntax CheckDnsName
// accepts. The variants differ on purpose: zone-file and service names may be
// absolute and use '_' (_acme-challenge, _25._tcp), while a name requested
// in a certificate is a host name (RFC 1123: no '-' at either end of a label,
// at least two labels) and may be a "*." wildcard.
struct DnsNameSyntax {
  bool allow_final_dot = true;     // "example.test." (absolute) is accepted.
  bool allow_underscore = false;   // '_' counts as a label character.
  bool allow_wildcard = false;     // One leading "*." label is accepted.
  bool host_labels = false;        // No label starts or ends with '-'.
  size_t min_labels = 1;
};

// DnsNameFault is the first thing CheckDnsName found wrong, in this order:
// the length of the whole name, then label by label its shape, then its
// characters, and finally the number of labels.
enum class DnsNameFault { kNone, kLength, kLabel, kCharacter, kTooFewLabels };

struct DnsNameCheck {
  DnsNameFault fault = DnsNameFault::kNone;
  std::string_view label;  // For kLabel and kCharacter: the offending label.
};

// CheckDnsName checks `name` against `syntax`: after an optional final dot,
// 1..253 characters (counting a "*." prefix), then labels of 1..63 letters,
// digits and '-' (plus the extras `syntax` allows). No escapes, no empty
// labels. Never fails otherwise; the verdict says what is wrong so callers
// can word their own errors.
DnsNameCheck CheckDnsName(std::string_view name, const DnsNameSyntax& syntax);

// IsDnsName says whether `name` (relative or absolute: one final dot is
// allowed) is 1..253 characters of labels of 1..63 letters, digits and '-'
// (and '_' when `allow_underscore`, for names like _acme-challenge or
// _25._tcp). No escapes, no wildcard, no empty labels.
bool IsDnsName(std::string_view name, bool allow_underscore);

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_NAME_H_
