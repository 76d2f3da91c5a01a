// Internationalized domain names (IDNA2008 with the UTS #46 mapping, by
// libidn2): what a person types ("bücher.example") becomes what the CA and
// the DNS use ("xn--bcher-kva.example"), and back for display.
#ifndef BULKHEAD_DNS_IDN_H_
#define BULKHEAD_DNS_IDN_H_

#include <string>
#include <string_view>

#include "util/result.h"

namespace bulkhead::dns {

// ToAsciiName returns the A-label form of `name`: a name of ASCII
// characters only is returned unchanged (it is checked elsewhere); one with
// other characters is converted label by label (lower-cased and normalized
// by UTS #46, non-transitional), keeping a leading "*." wildcard and a
// trailing dot. Fails (kUsage) naming the name and libidn2's reason for
// invalid UTF-8 or a label IDNA2008 does not allow.
Result<std::string> ToAsciiName(std::string_view name);

// ToUnicodeName returns the U-label form of a name with "xn--" labels, for
// display beside the A-label form; the name itself when it has none or
// does not convert.
std::string ToUnicodeName(std::string_view name);

// DisplayName returns "ascii (unicode)" for a name whose U-label form
// differs, else the name.
std::string DisplayName(std::string_view name);

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_IDN_H_
