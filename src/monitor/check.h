// `bulkhead monitor`: probe endpoints (every resolved address separately),
// judge what they serve, and describe it as inventory::CheckRecords so that
// `monitor run` stores exactly what `monitor check` prints.
#ifndef BULKHEAD_MONITOR_CHECK_H_
#define BULKHEAD_MONITOR_CHECK_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.h"
#include "monitor/headers.h"
#include "monitor/managed.h"
#include "monitor/tlsa_check.h"
#include "probe/tls_probe.h"
#include "util/result.h"

namespace bulkhead::monitor {

// Thresholds turn days left into a state: more than warn_days is OK, down to
// crit_days is PLAN (renewal should be planned), below crit_days WARNING.
// The defaults are the 28 days and 48 hours.
struct Thresholds {
  int warn_days = 28;
  int crit_days = 2;
};

// ValidateThresholds fails (kUsage) unless 0 <= crit_days <= warn_days.
Status ValidateThresholds(const Thresholds& t);

// CheckOptions applies to every endpoint of one run.
struct CheckOptions {
  Thresholds thresholds;
  int concurrency = 64;
  std::chrono::milliseconds timeout{10000};
  std::string ca_bundle;       // Empty: the system trust store.
  // Ask every plain-TLS endpoint for its HTTP headers, not only port 443,
  // and let failed headers (monitor/headers.h) make the state WARNING.
  // Without it, port 443's headers are judged and shown but do not change
  // the state: sites without a CSP would otherwise all start failing.
  bool http_headers = false;
  const ManagedCerts* managed = nullptr;  // Compare leaves with these.
  TlsaOptions tlsa;            // Look up and compare TLSA records.
  int64_t now = 0;             // 0: the current time.
  // The probes run in the sandboxed probe role (roles/probe_role.h); with
  // this, a sandbox the kernel cannot fully enforce fails the run.
  bool require_sandbox = false;
};

// EndpointCheck is the result for one address of one endpoint.
struct EndpointCheck {
  inventory::Endpoint endpoint;
  std::string name;                    // Name the certificate must cover.
  inventory::CheckRecord record;       // State and every field stored.
  std::vector<std::string> reasons;    // Why the state, for humans.
  std::optional<probe::ProbeResult> probe;  // Absent if no chain was obtained.
  std::string managed_name;            // Managed certificate covering `name`.
  bool http_checked = false;           // HTTP headers were asked for.
  std::optional<HeadersVerdict> headers;  // Judged HTTP headers, when read.
  bool headers_counted = false;        // Their findings are in `reasons`
                                       // and the state.
  std::string tlsa_owner;              // Owner looked up ("" = none).
  std::string tlsa_detail;             // What the TLSA comparison found.
};

// Verdict judges one probe at `now`: sets record.state and *out_reasons.
// `managed` (the managed certificate covering the name, if any): serving an
// older certificate than it is a failed deployment, at least WARNING, with
// both serials and expiries in the reason; serving another certificate
// that is not older (a foreign one) makes the state at least PLAN: it needs
// attention but is not yet an outage.
inventory::CheckState Verdict(const probe::ProbeResult& probe, int64_t now,
                              const Thresholds& thresholds,
                              const std::optional<ManagedMatch>& managed,
                              std::vector<std::string>* out_reasons);

// RecordFromProbe fills the certificate fields of `*out` from `probe`.
void RecordFromProbe(const probe::ProbeResult& probe, inventory::CheckRecord* out);

// RunChecks resolves every endpoint, probes each address (concurrently,
// bounded by options.concurrency, one connection per address at a time) and
// judges it. The probing and the parsing of what servers send happen in a
// probe role process; this process only sees its checked results. Endpoints
// whose name does not resolve yield one ERROR check
// with an empty address. With options.tlsa.enabled the TLSA records of each
// endpoint's name are looked up while the probes run; a published record
// set that matches nothing served makes the state ERROR (DANE clients would
// refuse the connection), a failed look-up changes nothing. Fails only on a
// usage problem (bad STARTTLS name, unreadable CA bundle, no resolver) or
// if the probe role fails (cannot start, dies, breaks its protocol).
Result<std::vector<EndpointCheck>> RunChecks(const std::vector<inventory::Endpoint>& endpoints,
                                             const CheckOptions& options);

// WorstState returns the most urgent state in `checks` (kOk if empty).
inventory::CheckState WorstState(const std::vector<EndpointCheck>& checks);

}  // namespace bulkhead::monitor

#endif  // BULKHEAD_MONITOR_CHECK_H_
