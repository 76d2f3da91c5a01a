// DANE-safe key rollover (RFC 7671 section 8.1): when a certificate has
// TLSA records, its next key is generated ahead of time, the 3 1 1 record
// of that key is published beside the current one, and the key is put into
// use only once its record has been continuously visible for at least twice
// the TLSA TTL, so that no resolver still caches an RRset without it.
//
// This file is the policy only: a state value, the observations that change
// it and the decision it gives. It takes the time as an argument, so tests
// drive it with a simulated clock. Callers (renewal) store the state beside
// the certificate, observe publication (zone compile output or the
// authoritative servers) and act on the decision.
#ifndef BULKHEAD_DNS_DANE_ROLLOVER_H_
#define BULKHEAD_DNS_DANE_ROLLOVER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/tlsa.h"

namespace bulkhead::dns {

// RolloverState is what must persist between runs for one certificate.
struct RolloverState {
  std::string current_spki;  // SubjectPublicKeyInfo (DER) of the key in use.
  std::string next_spki;     // Of the pre-generated next key; empty = none yet.
  // Unix time since which the next key's record has been seen published
  // without interruption; 0 = not (yet) seen.
  int64_t next_published_since = 0;
  // Largest TTL seen on the TLSA RRset while the next record was
  // published; the wait is computed from it.
  uint32_t ttl = 0;
};

// RolloverAction is what the caller should do now.
enum class RolloverAction {
  kKeepKey,             // --reuse-key: the key, and so the 3 1 1 record, never change.
  kGenerateNextKey,     // No next key yet: generate one and store its SPKI.
  kWaitForPublication,  // The next key's record is not visible yet.
  kWaitForTtl,          // Visible, but not yet for twice the TTL.
  kRollNow,             // The next key may be used for the coming certificate.
};

// RolloverDecision is DecideRollover's answer.
struct RolloverDecision {
  RolloverAction action = RolloverAction::kWaitForPublication;
  int64_t not_before = 0;  // For kWaitForTtl: when kRollNow will be given.
  std::string reason;      // One line for logs.
};

// kTtlWaitFactor is RFC 7671's "at least twice the TTL": one TTL for caches
// holding the old RRset to expire, and one more for a secondary that
// transferred the zone late.
inline constexpr int64_t kTtlWaitFactor = 2;

// ObservePublication records whether the next key's record was seen
// published at `now`, with the RRset's `ttl`. A record that disappears
// restarts the wait: the TTL must pass with the record continuously there.
void ObservePublication(RolloverState* state, bool next_published, uint32_t ttl, int64_t now);

// DecideRollover returns what to do at `now`. Never fails.
RolloverDecision DecideRollover(const RolloverState& state, bool reuse_key, int64_t now);

// CompleteRollover makes the next key current once the new certificate is
// in use, leaving no next key (the following decision asks for one).
void CompleteRollover(RolloverState* state);

// PublishedRecords returns the 3 1 1 records the zone should carry: the
// current key's and, once generated, the next key's. Fails only if hashing
// fails.
Result<std::vector<TlsaRecord>> PublishedRecords(const RolloverState& state);

// SpkiRecord returns the 3 1 1 record for a SubjectPublicKeyInfo (DER).
Result<TlsaRecord> SpkiRecord(std::string_view spki_der);

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_DANE_ROLLOVER_H_
