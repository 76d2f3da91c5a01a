// Syntax of DNS names in presentation format, shared by the dns-01
// publishers, the zone compiler and TLSA.
#ifndef BULKHEAD_DNS_NAME_H_
#define BULKHEAD_DNS_NAME_H_

#include <string_view>

namespace bulkhead::dns {

// IsDnsName says whether `name` (relative or absolute: one final dot is
// allowed) is 1..253 characters of labels of 1..63 letters, digits and '-'
// (and '_' when `allow_underscore`, for names like _acme-challenge or
// _25._tcp). No escapes, no wildcard, no empty labels.
bool IsDnsName(std::string_view name, bool allow_underscore);

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_NAME_H_
