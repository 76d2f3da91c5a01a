// Observing whether a key's TLSA record is published: the input of the
// DANE rollover policy (dane_rollover.h). For each endpoint's TLSA owner it
// asks either one given resolver or every authoritative server of the
// owner's zone, and reports "published" only when every one of them serves
// a DANE-EE record for the key's SubjectPublicKeyInfo (usage 3, selector 1,
// any matching type), for every owner.
//
// Contract: bounded like dns/query.h (each query by its timeout, discovery
// by a fixed number of queries); a server that does not answer, or answers
// with an error code other than NXDOMAIN, is an error, never "not
// published", so that an outage does not restart the publication wait.
#ifndef BULKHEAD_DNS_DANE_OBSERVE_H_
#define BULKHEAD_DNS_DANE_OBSERVE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/query.h"
#include "dns/tlsa.h"
#include "util/result.h"

namespace bulkhead::dns {

// TlsaLookup says where to ask.
struct TlsaLookup {
  // Asked alone when set; else the owner's authoritative servers, found
  // through the first resolver of `resolv_conf`.
  std::optional<Server> resolver;
  std::string resolv_conf = "/etc/resolv.conf";
  QueryOptions query;
};

// Publication is what ObservePublished found.
struct Publication {
  bool published = false;
  uint32_t ttl = 0;    // Largest TTL of the TLSA RRsets seen (0 if none).
  std::string detail;  // One line: what was served where.
};

// RecordNamesSpki reports whether `record` is a DANE-EE SPKI record (3 1 x)
// whose data matches `spki_der` under its matching type.
bool RecordNamesSpki(const TlsaRecord& record, std::string_view spki_der);

// ParseTlsaWire parses TLSA RDATA in wire form (usage, selector, matching
// type, data). Fails on fewer than four bytes or unknown parameters.
Result<TlsaRecord> ParseTlsaWire(std::string_view rdata);

// ObservePublished looks up the TLSA RRset at each of `owners` (absolute
// names such as "_25._tcp.mail.example.") as described above. Fails naming
// the owner and server on any look-up error.
Result<Publication> ObservePublished(const std::vector<std::string>& owners,
                                     std::string_view spki_der, const TlsaLookup& lookup);

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_DANE_OBSERVE_H_
