// /metrics: the snapshot in the Prometheus text exposition format (0.0.4),
// written with monitor/metrics.h so `serve` and `monitor check --prometheus`
// use the same names and labels.
#ifndef BULKHEAD_SERVE_EXPOSITION_H_
#define BULKHEAD_SERVE_EXPOSITION_H_

#include <string>

#include "serve/snapshot.h"

namespace bulkhead::serve {

// RenderMetrics returns the metrics of every endpoint's latest check of each
// address and the planned renewal of every managed certificate.
std::string RenderMetrics(const Snapshot& snap);

}  // namespace bulkhead::serve

#endif  // BULKHEAD_SERVE_EXPOSITION_H_
