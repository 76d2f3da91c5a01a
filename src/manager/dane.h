// DANE-safe key changes for a certificate with TLSA records (`issue --tlsa
// HOST:PORT`), RFC 7671 section 8.1. The policy is dns/dane_rollover.h; this
// file runs it across runs of `issue` and `renew`:
//
//   - after a certificate is issued, its key is the current key and a next
//     key is made ahead of time by a keys role (certs/<name>/next/, the
//     public half in next/pubkey.pem for the zone's TLSA record);
//   - every `renew` run asks DNS, from a sandboxed role, whether the next
//     key's 3 1 x record is served for every endpoint, and records since
//     when (dane.json);
//   - a renewal uses the next key only once that record has been served
//     for twice the TLSA TTL; until then it keeps the current key, so the
//     served certificate always matches a record resolvers already have.
//
// With --reuse-key the key (and so the record) never changes and none of
// this runs. Nothing here writes the zone: the operator publishes the
// records (zone compile --tlsa-map, or their own tooling).
#ifndef BULKHEAD_MANAGER_DANE_H_
#define BULKHEAD_MANAGER_DANE_H_

#include <optional>
#include <string>
#include <vector>

#include "crypto/x509.h"
#include "dns/dane_rollover.h"
#include "manager/settings.h"
#include "roles/compartments.h"
#include "sandbox/identity.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::manager {

// DaneActive reports whether `s` takes part in DANE rollover: TLSA
// endpoints, a key of our own (no --csr) that changes (no --reuse-key).
bool DaneActive(const CertSettings& s);

// DanePath is <certs>/<name>/dane.json.
std::string DanePath(const store::CertStore& certs, std::string_view name);

// LoadDaneState reads dane.json; a missing file is an empty state. Fails
// naming the file if it is malformed.
Result<dns::RolloverState> LoadDaneState(const std::string& path);

// SaveDaneState writes dane.json atomically (0644: public keys only).
Status SaveDaneState(const std::string& path, const dns::RolloverState& state);

// DaneContext is what the DANE steps need besides the settings.
struct DaneContext {
  const store::CertStore* certs = nullptr;
  int64_t now = 0;
  bool require_full_sandbox = false;
  std::optional<sandbox::RunAs> run_as;  // Only when running as root.
};

// DanePlan is the key the coming certificate uses, and why.
struct DanePlan {
  roles::KeyChoice key = roles::KeyChoice::kLive;
  std::string status;   // One line for the user: what DNS shows, what happens.
  std::string warning;  // Non-empty when a human should look (DNS errors).
};

// PlanDaneKey brings dane.json up to date for `s` (DaneActive) at ctx.now:
// takes the live leaf's key as current, makes a next key if there is none
// (only once a certificate exists), observes the next key's publication
// (a DNS error is a warning and leaves the state as it was) and decides.
// `key_compromise`: the current key must go now; the next key is used even
// before its wait is over (or a fresh key if there is none), with a
// warning. Fails only if dane.json cannot be read or written.
Result<DanePlan> PlanDaneKey(const DaneContext& ctx, const CertSettings& s,
                             const std::optional<crypto::CertInfo>& live_leaf,
                             bool key_compromise);

// FinishDaneKey runs after `s` was issued: the live key becomes current
// (completing a rollover if it was the next key), a new next key is made
// when none is left, and dane.json is saved. Returns the TLSA records the
// zone should carry now (current and next key, for every endpoint).
Result<std::vector<std::string>> FinishDaneKey(const DaneContext& ctx, const CertSettings& s);

// DaneRecords formats the 3 1 1 records of `state` for every endpoint of
// `s`, with `ttl`.
Result<std::vector<std::string>> DaneRecords(const CertSettings& s,
                                             const dns::RolloverState& state, uint32_t ttl);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_DANE_H_
