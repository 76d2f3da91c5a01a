// DNSSEC validation of one RRset (RFC 4033-4035) from a configured trust
// anchor down to the zone that signed it, for `tlsa verify`. Every
// signature and digest check is libldns's; this file only decides which
// records to check against which keys, in which order.
//
// The chain: the anchor's DS or DNSKEY records select keys of the anchor
// zone's DNSKEY RRset, which must be signed by one of them; each zone's
// DNSKEYs then vouch for the DS RRset of the next zone down (if any), whose
// DS records select and must sign that zone's DNSKEY RRset; the zone that
// signed the answer finally vouches for it. Signature validity windows are
// checked against the time given. Anything that does not verify is a
// "bogus: ..." error naming the record and zone; nothing is silently
// downgraded to unvalidated.
//
// Not supported (reported as errors, never as secure): answers that reach
// the owner through a CNAME/DNAME, and insecure delegations (a zone without
// DS in its parent cannot be proven secure, so its answers are rejected).
#ifndef BULKHEAD_DNS_DNSSEC_H_
#define BULKHEAD_DNS_DNSSEC_H_

#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/query.h"
#include "util/result.h"

namespace bulkhead::dns {

// kMaxTrustAnchorBytes caps a trust-anchor file.
inline constexpr size_t kMaxTrustAnchorBytes = 64 * 1024;

// TrustAnchor is the DS and DNSKEY records of one zone that validation
// starts from, as parsed from a trust-anchor file.
struct TrustAnchor {
  std::string source;  // The file name, for messages.
  std::string zone;    // Canonical owner of every record.
  // records holds each DS/DNSKEY record in presentation form, one line each
  // (as ldns printed it after parsing), so the struct needs no ldns type.
  std::vector<std::string> records;
};

// ParseTrustAnchor parses `text`, DS and/or DNSKEY records in presentation
// format (as `dig DNSKEY`, `keymgr ds` or an unbound trust-anchor-file
// write them: ';' comments, blank lines and records continued over lines
// with parentheses allowed). `source` names the text in messages. Returns a
// kUsage error naming source and line for a record that does not parse, a
// type other than DS/DNSKEY, records of several owners, or no record.
Result<TrustAnchor> ParseTrustAnchor(std::string_view text, std::string_view source);

// LoadTrustAnchor reads `path` (at most kMaxTrustAnchorBytes) and parses it
// with ParseTrustAnchor. Returns a kUsage error if it cannot be read or
// does not parse.
Result<TrustAnchor> LoadTrustAnchor(const std::string& path);

// DnssecLookup answers one question with the RRSIGs included (the DO bit
// set). It returns an error only when no answer arrived.
using DnssecLookup = std::function<Result<Response>(const std::string& name, uint16_t type)>;

// LookupVia returns a DnssecLookup asking `server` with `options` plus the
// DO and CD bits (so that a validating resolver still hands over the
// signatures of what it would reject; our validation decides).
DnssecLookup LookupVia(const Server& server, QueryOptions options);

// DenialState says what is known about an empty answer.
enum class DenialState {
  kNotApplicable,  // The answer has records.
  kValidated,      // NSEC/NSEC3 records signed by the zone prove there are none.
};

// Validated is a secure answer.
struct Validated {
  int rcode = kRcodeNoError;
  std::vector<Record> rrset;  // The records of the type asked; empty for a denial.
  DenialState denial = DenialState::kNotApplicable;
  std::string zone;         // The zone whose keys signed the answer.
  std::string anchor_type;  // "DS" or "DNSKEY": the anchor record the chain starts at.
  uint16_t anchor_key_tag = 0;
};

// ValidateAnswer asks `lookup` for `type` at `owner` and validates the
// answer from `anchor` down, with signature times checked against `now`.
// An empty answer (NODATA or NXDOMAIN) must be proven by signed NSEC or
// NSEC3 records. Returns the secure answer; an error whose message starts
// with "bogus: " when anything does not verify (bad or expired signature,
// a missing RRSIG, no chain from the anchor, an anchor matching no key);
// an error from `lookup` (wrapped) when a query fails, or when the server
// answers with an rcode other than NOERROR/NXDOMAIN.
Result<Validated> ValidateAnswer(const TrustAnchor& anchor, const DnssecLookup& lookup,
                                 std::string_view owner, uint16_t type, std::time_t now);

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_DNSSEC_H_
