// Prometheus text exposition (format 0.0.4) of check results, shared by
// `monitor check --prometheus` and `serve`'s /metrics so both print the
// same names: bulkhead_endpoint_up, bulkhead_cert_not_after_seconds, ...
// labelled by endpoint ("host:port"), address and name (the name the
// certificate must cover).
#ifndef BULKHEAD_MONITOR_METRICS_H_
#define BULKHEAD_MONITOR_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "inventory/inventory.h"

namespace bulkhead::monitor {

// Labels are (name, value) pairs in output order.
using Labels = std::vector<std::pair<std::string, std::string>>;

// MetricsWriter collects samples and renders them grouped by metric, each
// group preceded by its # HELP and # TYPE lines (the first description
// given for a name wins). Label values are escaped as the format requires.
class MetricsWriter {
 public:
  // Gauge adds one sample of gauge `name`.
  void Gauge(std::string_view name, std::string_view help, const Labels& labels, double value);

  // Text renders everything added so far.
  std::string Text() const;

 private:
  struct Family {
    std::string name;
    std::string help;
    std::vector<std::string> samples;
  };
  std::vector<Family> families_;
};

// EscapeLabelValue escapes backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view value);

// AppendCheckMetrics adds the metrics of one check of one address of
// `endpoint`: bulkhead_endpoint_up always; when a certificate was received
// bulkhead_cert_not_after_seconds, _not_before_seconds,
// _expires_in_seconds (relative to `now`), _key_bits, _chain_valid,
// _hostname_match; bulkhead_cert_managed_match and bulkhead_tlsa_match when
// known; bulkhead_endpoint_state (0 OK, 1 PLAN, 2 WARNING, 3 ERROR,
// 4 UNKNOWN) and bulkhead_check_timestamp_seconds.
void AppendCheckMetrics(const inventory::Endpoint& endpoint, const inventory::CheckRecord& check,
                        int64_t now, MetricsWriter* writer);

// AppendRenewalPlanned adds bulkhead_renewal_planned_seconds{name=...} (Unix
// time of the planned renewal of a managed certificate) and
// bulkhead_managed_cert_not_after_seconds{name=...}.
void AppendRenewalPlanned(std::string_view cert_name, int64_t renew_at, int64_t not_after,
                          MetricsWriter* writer);

// AppendRenewalAttempt adds, for a certificate with a recorded attempt,
// bulkhead_renewal_last_attempt_seconds{name=...} (Unix time),
// bulkhead_renewal_last_attempt_success{name=...} (1 or 0) and, when one
// ever worked, bulkhead_renewal_last_success_seconds{name=...}.
void AppendRenewalAttempt(std::string_view cert_name, int64_t at, bool ok, int64_t last_success,
                          MetricsWriter* writer);

}  // namespace bulkhead::monitor

#endif  // BULKHEAD_MONITOR_METRICS_H_
