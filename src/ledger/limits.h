// The CA rate limits bulkhead knows, shipped as data, and the grouping of
// identifiers they count by (registered domain, via the Public Suffix List).
#ifndef BULKHEAD_LEDGER_LIMITS_H_
#define BULKHEAD_LEDGER_LIMITS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace bulkhead::ledger {

// LimitKind names one kind of limit; the names are the keys of limits.json.
enum class LimitKind {
  kNewOrdersPerAccount,       // Orders created by one account.
  kCertsPerRegisteredDomain,  // Certificates naming one registered domain.
  kDuplicateCertificates,     // Certificates for one exact identifier set.
  kFailedAuthzPerIdentifier,  // Failed authorizations for one identifier.
};

// Limit allows `max` events per sliding `window_seconds`; max <= 0 turns
// the limit off.
struct Limit {
  int max = 0;
  int64_t window_seconds = 0;
};

// Limits is the whole table; `source` says where it came from, for output.
struct Limits {
  Limit new_orders;
  Limit certs_per_domain;
  Limit duplicates;
  Limit failed_authz;
  std::string source;

  const Limit& Get(LimitKind kind) const;
  Limit& Get(LimitKind kind);
};

// LetsEncryptLimits returns Let's Encrypt's published production limits
// (letsencrypt.org/docs/rate-limits, as published in 2025): 300 new orders
// per account per 3 hours; 50 certificates per registered domain per 7 days;
// 5 certificates per exact identifier set per 7 days; 5 failed
// authorizations per identifier per account per hour. The CA uses token
// buckets; a sliding window of the same size is never more permissive.
Limits LetsEncryptLimits();

// LimitKey returns the limits.json key of `kind`
// ("new_orders_per_account", ...).
std::string_view LimitKey(LimitKind kind);

// LimitTitle returns a human name ("new orders per account").
std::string_view LimitTitle(LimitKind kind);

// ParseLimits reads a limits.json text: an object whose optional members
// are LimitKey names, each {"max": N, "window_seconds": S} with N >= 0 and
// 0 < S <= one year. Members left out keep Let's Encrypt's values. Unknown
// members are an error (ErrorCode::kUsage) naming `source`, so a typo never
// silently leaves a limit at its default.
Result<Limits> ParseLimits(std::string_view text, std::string_view source);

// NoLimits returns a table with every limit off: what bulkhead knows of a
// CA that publishes no limits it ships (orders are still recorded).
Limits NoLimits();

// LoadLimits returns ParseLimits of `path` if that file exists (it then
// applies to every CA); otherwise LetsEncryptLimits() for Let's Encrypt's
// production directory `directory_url` (or when it is empty) and NoLimits()
// for any other CA. Fails if the file exists but is unreadable or bad.
Result<Limits> LoadLimits(const std::string& path, const std::string& directory_url = "");

// RegisteredDomain returns what a CA counts an identifier under: for a DNS
// name (a leading "*." is ignored) its registrable domain by the Public
// Suffix List, or the name itself when it has none (a public suffix, or an
// unlisted single label); for an IPv4 address the address; for an IPv6
// address its /64 prefix ("2001:db8:1:2::/64"). Never fails.
std::string RegisteredDomain(std::string_view identifier);

}  // namespace bulkhead::ledger

#endif  // BULKHEAD_LEDGER_LIMITS_H_
