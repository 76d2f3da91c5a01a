// The Prometheus textfile reload-watch keeps (for node_exporter's textfile
// collector): last reload, last verification, served certificate expiry.
#ifndef BULKHEAD_DEPLOY_METRICS_H_
#define BULKHEAD_DEPLOY_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "monitor/metrics.h"
#include "util/result.h"

namespace bulkhead::deploy {

// WatchMetrics is the state written to the textfile. Times are Unix
// seconds; 0 means "never".
struct WatchMetrics {
  std::string pidfile;         // Label: which server this watcher serves.
  std::string verify_target;   // Label: HOST:PORT, empty without --verify.
  int64_t last_reload = 0;     // Last reload attempt.
  bool last_reload_ok = false;
  int64_t last_verify = 0;     // Last verification.
  bool last_verify_ok = false;
  int64_t served_not_after = 0;  // Expiry of the served leaf, 0 if unknown.
};

// Label values are escaped with monitor::EscapeLabelValue.
using monitor::EscapeLabelValue;

// FormatMetrics renders `m` in the Prometheus text exposition format.
std::string FormatMetrics(const WatchMetrics& m);

// ParseLastReload returns bulkhead_reload_last_timestamp_seconds from a
// textfile written by FormatMetrics, or 0 if absent or unreadable (so --once
// runs from cron remember their last reload without other state).
int64_t ParseLastReload(std::string_view text);

// WriteMetrics writes `m` to `path` atomically (mode 0644: node_exporter
// runs as another user).
Status WriteMetrics(const std::string& path, const WatchMetrics& m);

}  // namespace bulkhead::deploy

#endif  // BULKHEAD_DEPLOY_METRICS_H_
