#include "serve/exposition.h"

#include "monitor/metrics.h"

namespace bulkhead::serve {

std::string RenderMetrics(const Snapshot& snap) {
  monitor::MetricsWriter writer;
  for (const auto& ev : snap.endpoints) {
    for (const auto& c : ev.checks) {
      monitor::AppendCheckMetrics(ev.endpoint, c, snap.now, &writer);
    }
  }
  for (const auto& m : snap.managed) {
    if (m.not_after != 0) {
      monitor::AppendRenewalPlanned(m.name, m.renew_at, m.not_after, &writer);
    }
  }
  return writer.Text();
}

}  // namespace bulkhead::serve
