// The concurrent probe engine behind ProbeTls and `bulkhead monitor`: one
// thread, one asio event loop, one state machine per connection (connect,
// STARTTLS dialogue, TLS handshake, optional HTTP HEAD), a bound on open
// connections, and never two connections to the same address at once.
#ifndef BULKHEAD_PROBE_ENGINE_H_
#define BULKHEAD_PROBE_ENGINE_H_

#include <functional>
#include <vector>

#include "probe/tls_probe.h"
#include "util/result.h"

namespace bulkhead::probe {

// kDefaultConcurrency is the default bound on connections in flight.
inline constexpr int kDefaultConcurrency = 64;

// EngineOptions tunes one ProbeAll run.
struct EngineOptions {
  int concurrency = kDefaultConcurrency;  // >= 1; lowered if the process may
                                          // not open that many descriptors.
  // Called on the engine's thread as each probe completes (in completion
  // order), e.g. to print progress; may be empty.
  std::function<void(size_t index, const Result<ProbeResult>& result)> on_done;
};

// ProbeAll probes every request and returns one result per request, in
// request order (each as ProbeTls would report it). A request without an
// `address` is resolved first and probes its first address; callers that
// want every address create one request per address (see
// ResolveAddresses). "Same address" means the same IP and port, so many
// ports of one host are probed in parallel. Fails as a whole only if a
// `ca_bundle` cannot be loaded or the TLS context cannot be created.
Result<std::vector<Result<ProbeResult>>> ProbeAll(const std::vector<ProbeRequest>& requests,
                                                  const EngineOptions& options);

}  // namespace bulkhead::probe

#endif  // BULKHEAD_PROBE_ENGINE_H_
