// ACME resource objects (RFC 8555 section 7.1) as bulkhead reads them. Every
// field that the protocol code relies on is checked when parsed; a CA that
// sends something else gets a clear error, never a crash.
#ifndef BULKHEAD_ACME_TYPES_H_
#define BULKHEAD_ACME_TYPES_H_

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace bulkhead::acme {

// Directory is the CA's directory object (RFC 8555 7.1.1).
struct Directory {
  std::string new_nonce;
  std::string new_account;
  std::string new_order;
  std::string revoke_cert;
  std::string key_change;
  std::string renewal_info;  // RFC 9773; empty when the CA has none.
  std::string terms_of_service;
  bool external_account_required = false;
  nlohmann::json profiles;  // meta.profiles, or null.
};

// ParseDirectory checks that the mandatory URLs are present and https.
Result<Directory> ParseDirectory(std::string_view body);

// Identifier is an ACME identifier: type "dns" or "ip" (RFC 8738).
struct Identifier {
  std::string type;
  std::string value;
  bool operator==(const Identifier&) const = default;
  std::string ToString() const { return type + ":" + value; }
};

// IdentifierFor classifies a name: an IPv4/IPv6 literal becomes "ip",
// anything else "dns" (lower-cased).
Identifier IdentifierFor(std::string_view name);

// CanonicalName lower-cases a DNS name and writes an IPv6 literal in its
// standard text form, so that "2001:DB8:0::1" matches "2001:db8::1".
std::string CanonicalName(std::string_view name);

// CanonicalNameSet canonicalises and sorts `names` and drops duplicates:
// two sets of names are the same names exactly when these are equal.
std::vector<std::string> CanonicalNameSet(std::vector<std::string> names);

// ValidateName checks a requested name: a DNS host name (optionally "*."
// wildcard) of at most 253 characters with LDH labels and at least two
// labels, or an IP literal; the syntax is dns::CheckDnsName's, in its
// host-name variant. The error is ErrorCode::kUsage and names the offending
// input.
Status ValidateName(std::string_view name);

// Challenge is one challenge of an authorization.
struct Challenge {
  std::string type;
  std::string url;
  std::string status;
  std::string token;
  nlohmann::json error;  // Problem document when status is invalid.
};

// Authorization (RFC 8555 7.1.4).
struct Authorization {
  std::string url;
  Identifier identifier;
  std::string status;  // pending, valid, invalid, deactivated, expired, revoked
  bool wildcard = false;
  std::vector<Challenge> challenges;
};
Result<Authorization> ParseAuthorization(std::string_view body, const std::string& url);

// Order (RFC 8555 7.1.3).
struct Order {
  std::string url;
  std::string status;  // pending, ready, processing, valid, invalid
  std::vector<Identifier> identifiers;
  std::vector<std::string> authorizations;
  std::string finalize;
  std::string certificate;  // Present once valid.
  nlohmann::json error;
};
Result<Order> ParseOrder(std::string_view body, const std::string& url);

// Account (RFC 8555 7.1.2).
struct Account {
  std::string url;
  std::string status;  // valid, deactivated, revoked
  std::vector<std::string> contact;
  std::string orders;
};
Result<Account> ParseAccount(std::string_view body, const std::string& url);

}  // namespace bulkhead::acme

#endif  // BULKHEAD_ACME_TYPES_H_
