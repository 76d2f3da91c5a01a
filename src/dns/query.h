// A small DNS client over libldns: one question to one server, with a
// deadline and size caps, and the few look-ups built on it that dns-01 and
// TLSA need (the zone a name is in, the zone's authoritative servers, CNAME
// chains). No wire format is written here: ldns builds, sends and parses
// every packet.
//
// Contract for every function below:
//   - Servers are IP literals with a port; nothing here resolves a host name
//     through the system resolver (getaddrinfo), so callers control exactly
//     which servers are asked.
//   - Each call is bounded: Query by `timeout` (UDP first, then TCP if the
//     answer was truncated; ldns caps a TCP answer at 64 KiB), the helpers by
//     a fixed number of queries. Nothing blocks forever.
//   - Answers are checked before use: the reply's ID and question must match
//     the query (else an error), at most kMaxRecords records are kept per
//     section.
//   - Nothing is validated with DNSSEC here (dnssec.h does that on top):
//     Response::authenticated_data is only the AD bit as the server set it,
//     meaningful only when the path to a validating resolver is trusted.
//   - Errors are values (Result); a name error (NXDOMAIN) is not an error of
//     Query, it is Response::rcode == kRcodeNxDomain.
#ifndef BULKHEAD_DNS_QUERY_H_
#define BULKHEAD_DNS_QUERY_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bulkhead::dns {

// Record types and response codes used by callers (IANA numbers).
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeNs = 2;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypeTxt = 16;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeDs = 43;
inline constexpr uint16_t kTypeRrsig = 46;
inline constexpr uint16_t kTypeNsec = 47;
inline constexpr uint16_t kTypeDnskey = 48;
inline constexpr uint16_t kTypeNsec3 = 50;
inline constexpr uint16_t kTypeTlsa = 52;
inline constexpr int kRcodeNoError = 0;
inline constexpr int kRcodeServFail = 2;
inline constexpr int kRcodeNxDomain = 3;
inline constexpr int kRcodeRefused = 5;

// kMaxRecords caps the records kept per section of one answer.
inline constexpr size_t kMaxRecords = 256;

// Server is one DNS server: an IPv4 or IPv6 literal and a port.
struct Server {
  std::string address;  // "127.0.0.1", "::1" (no brackets).
  uint16_t port = 53;
  // ToString returns "127.0.0.1:53" or "[::1]:53".
  std::string ToString() const;
  bool operator==(const Server&) const = default;
};

// ParseServer parses "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT" (ADDR an IP
// literal; a bare IPv6 address takes `default_port`). Returns a kUsage error
// naming the input if it is not of that form.
Result<Server> ParseServer(std::string_view text, uint16_t default_port = 53);

// SystemResolvers returns the "nameserver" addresses of `resolv_conf`
// (normally /etc/resolv.conf), in order, port 53. Returns an error if the
// file cannot be read or lists none.
Result<std::vector<Server>> SystemResolvers(const std::string& resolv_conf = "/etc/resolv.conf");

// Record is one resource record of an answer.
struct Record {
  std::string owner;  // Lower-case, absolute, with the trailing dot.
  uint16_t type = 0;
  uint32_t ttl = 0;
  // rdata is the RDATA in uncompressed wire form (for TLSA: usage, selector,
  // matching type, then the association data; for TXT: length-prefixed
  // character-strings).
  std::string rdata;
  // text is the RDATA in presentation form as ldns prints it (a CNAME/NS
  // target as an absolute lower-case name, TXT as quoted strings).
  std::string text;
};

// Response is the parts of an answer callers use.
struct Response {
  int rcode = kRcodeNoError;
  bool authoritative = false;       // AA bit.
  bool authenticated_data = false;  // AD bit, as set by the server (see above).
  std::vector<Record> answer;
  std::vector<Record> authority;
  std::vector<Record> additional;
};

// QueryOptions tunes one Query.
struct QueryOptions {
  std::chrono::milliseconds timeout{5000};  // Per attempt (UDP, then TCP).
  bool recursion_desired = true;  // RD bit; authoritative servers ignore it.
  bool dnssec_ok = false;         // EDNS DO bit (ask for RRSIGs).
  // CD bit: a validating resolver then hands over what it would have
  // rejected, so that the caller's own validation decides (RFC 4035 3.2.2).
  bool checking_disabled = false;
};

// Query sends one question (`name` absolute or not, any case; class IN) to
// `server`. Returns the response for any rcode; an error (kTransient) when
// the server does not answer in time, refuses the connection, or answers
// something that does not match the question, naming the server.
Result<Response> Query(const Server& server, std::string_view name, uint16_t type,
                       const QueryOptions& options = {});

// TxtStrings returns the character-strings of a TXT record concatenated
// (RFC 7208 style), or an error if `record` is not a well-formed TXT record.
Result<std::string> TxtStrings(const Record& record);

// Canonical returns `name` lower-case with exactly one trailing dot ("." for
// the root); it does not validate labels.
std::string Canonical(std::string_view name);

// FindZone returns the apex (canonical) of the zone `name` is in, as
// `server` sees it: the owner of the SOA record in the answer (name is the
// apex) or in the authority section (name is below it). Works against a
// recursive resolver and against an authoritative server of the zone.
// Returns an error naming the server if neither holds an SOA.
Result<std::string> FindZone(const Server& server, std::string_view name,
                             const QueryOptions& options = {});

// NamedServer is an authoritative server of a zone: its NS name and one of
// its addresses (a server with an IPv4 and an IPv6 address appears twice).
struct NamedServer {
  std::string name;  // NS target, canonical.
  Server server;
};

// FindAuthoritative returns the authoritative servers of the zone that
// `name` is in, resolved through the recursive resolver `resolver` (glue
// from the additional section is used when present). Returns an error if the
// zone has no NS record or none of its servers has an address.
Result<std::vector<NamedServer>> FindAuthoritative(const Server& resolver, std::string_view name,
                                                   const QueryOptions& options = {});

// FollowCnames returns where `name` finally points: it asks `server` for a
// CNAME at `name`, then at its target, and so on (at most kMaxCnameHops),
// and returns the last name (canonical; `name` itself if it has no CNAME).
// Returns an error on a loop or on too long a chain.
inline constexpr int kMaxCnameHops = 8;
Result<std::string> FollowCnames(const Server& server, std::string_view name,
                                 const QueryOptions& options = {});

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_QUERY_H_
