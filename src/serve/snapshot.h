// One consistent view of everything `serve` shows: the inventory's endpoints
// with their latest checks, the followed domains, and the certificates this
// host manages. The dashboard, the JSON API and /metrics all render it, so
// they never disagree.
#ifndef BULKHEAD_SERVE_SNAPSHOT_H_
#define BULKHEAD_SERVE_SNAPSHOT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::serve {

// EndpointView is an endpoint and the newest check of each of its addresses.
struct EndpointView {
  inventory::Endpoint endpoint;
  std::vector<inventory::CheckRecord> checks;
  inventory::CheckState state = inventory::CheckState::kUnknown;  // Worst.
  int64_t not_after = 0;   // Earliest over addresses with a certificate; 0 if none.
  int64_t last_check = 0;  // Newest checked_at; 0 if never.
};

// ManagedView is one certificate under <state-dir>/certs.
struct ManagedView {
  std::string name;
  std::vector<std::string> names;
  std::string issuer;
  std::string serial_hex;
  int64_t not_before = 0;  // 0 if never issued.
  int64_t not_after = 0;
  int64_t renew_at = 0;    // Planned renewal (renew/policy.h).
  bool due = false;
  std::string reason;
  std::string error;       // Why it could not be inspected, if so.
  inventory::CheckState state = inventory::CheckState::kUnknown;
};

// DomainView is a followed domain and what serves or covers it.
struct DomainView {
  inventory::Domain domain;
  int64_t not_after = 0;  // Earliest expiry seen for it; 0 if none.
  std::vector<std::string> seen_on;   // "host:port (address)" whose leaf covers it.
  std::vector<std::string> managed_by;  // Managed certificate names covering it.
  inventory::CheckState state = inventory::CheckState::kUnknown;
};

// Snapshot is the whole view at `now`.
struct Snapshot {
  int64_t now = 0;
  std::vector<EndpointView> endpoints;  // Most urgent first.
  std::vector<ManagedView> managed;     // Most urgent first.
  std::vector<DomainView> domains;      // By name.
  std::vector<inventory::Change> changes;  // Newest first, capped.
};

// kChangesShown caps how many changes a snapshot carries.
inline constexpr int kChangesShown = 50;

// StateForExpiry classifies a certificate by time left: ERROR when expired,
// WARNING under 48 hours, PLAN under 28 days, else OK.
inventory::CheckState StateForExpiry(int64_t not_after, int64_t now);

// TakeSnapshot reads the inventory and (if `certs` is not null) the managed
// certificates. A certificate that cannot be inspected appears with its
// error instead of failing the whole view; an inventory failure fails it.
Result<Snapshot> TakeSnapshot(inventory::Inventory& inventory, const store::CertStore* certs,
                              int64_t now);

}  // namespace bulkhead::serve

#endif  // BULKHEAD_SERVE_SNAPSHOT_H_
