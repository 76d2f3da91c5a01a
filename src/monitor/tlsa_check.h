// TLSA records for `bulkhead monitor`: look up _PORT._tcp.NAME for every
// endpoint while the probes run, then say whether a published record
// matches the chain each address served. Nothing is DNSSEC-validated: the
// records are taken as the resolver gives them, and every result says so.
#ifndef BULKHEAD_MONITOR_TLSA_CHECK_H_
#define BULKHEAD_MONITOR_TLSA_CHECK_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "crypto/x509.h"
#include "dns/query.h"
#include "dns/tlsa.h"
#include "util/result.h"

namespace bulkhead::monitor {

// kDefaultTlsaTimeout bounds one TLSA query: a monitor run must not wait
// long on a resolver that does not answer.
inline constexpr std::chrono::milliseconds kDefaultTlsaTimeout{2000};

// kTlsaLookupThreads is how many TLSA queries are in flight at once.
inline constexpr int kTlsaLookupThreads = 8;

// TlsaOptions says whether and where TLSA records are looked up.
struct TlsaOptions {
  // Off unless asked: library callers (tests, serve) must opt in to DNS
  // traffic; `monitor check|run` turn it on unless --no-tlsa.
  bool enabled = false;
  std::optional<dns::Server> resolver;  // nullopt: first of /etc/resolv.conf.
  std::chrono::milliseconds timeout = kDefaultTlsaTimeout;
};

// TlsaLookup is what the resolver said about one owner name.
struct TlsaLookup {
  std::string owner;                     // "_443._tcp.example.org."
  std::vector<dns::TlsaRecord> records;  // Usable records (known parameters).
  int unusable = 0;                      // Records with unknown parameters.
  bool authenticated_data = false;       // AD bit as the resolver set it.
  std::string error;                     // Lookup failed (then no records).
};

// TlsaOwnerFor returns the owner name to look up for `name` (the name the
// certificate must cover) and `port`, or nullopt when `name` is an IP
// literal or not a valid host name (no TLSA record can exist for it).
std::optional<std::string> TlsaOwnerFor(const std::string& name, uint16_t port);

// LookupTlsa asks the resolver for the TLSA records of each of `owners`
// (several at a time) and returns one TlsaLookup per owner, in order. Once
// a query times out the remaining owners are not asked (each gets an
// error), so a dead resolver costs one timeout, not one per endpoint.
// Fails only if no resolver is configured (no --resolver and no usable
// /etc/resolv.conf).
Result<std::vector<TlsaLookup>> LookupTlsa(const std::vector<std::string>& owners,
                                           const TlsaOptions& options);

// TlsaVerdict is the comparison of one lookup with one served chain.
struct TlsaVerdict {
  std::optional<bool> match;  // nullopt: no usable record, or lookup failed.
  std::string detail;         // One line for humans.
};

// JudgeTlsa compares the records of `lookup` with `served` (leaf first):
// a match if any usable record matches (RFC 6698 section 2.1, records are
// alternatives). With `links` (from the probe role) no certificate is
// parsed here; without, the signatures are verified in this process.
TlsaVerdict JudgeTlsa(const TlsaLookup& lookup, const std::vector<crypto::CertInfo>& served,
                      const dns::ChainLinks* links = nullptr);

// RecordsFromResponse keeps the TLSA records of `response` that belong to
// `owner` (its answer section), parsing each RDATA; records of unknown
// parameters are counted in *out->unusable.
void RecordsFromResponse(const dns::Response& response, TlsaLookup* out);

}  // namespace bulkhead::monitor

#endif  // BULKHEAD_MONITOR_TLSA_CHECK_H_
