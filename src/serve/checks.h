// POST /api/checks: run the monitor's checks on inventory endpoints and
// record every result, the same way `bulkhead monitor run` does.
#ifndef BULKHEAD_SERVE_CHECKS_H_
#define BULKHEAD_SERVE_CHECKS_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "inventory/inventory.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::serve {

// RunAndRecord checks the endpoints with `endpoint_ids` (every endpoint when
// empty), records each address's result, and returns a summary
// {"checked": n, "recorded": n, "states": {"OK": n, ...}, "checks": [...]},
// each check as monitor::CheckToJson describes it. HTTP headers are read
// and judged on port 443, and with `http_headers` on every plain-TLS
// endpoint, whose state they then affect (monitor::CheckOptions).
// The probes run in a sandboxed probe role (monitor::RunChecks), forked
// for this call; with `require_sandbox` a sandbox the kernel cannot fully
// enforce fails the call. Fails if the inventory cannot be read or the
// checks cannot start; a failure to record one result is counted in
// "errors" instead.
Result<nlohmann::json> RunAndRecord(inventory::Inventory& inventory, const store::CertStore* certs,
                                    const std::vector<int64_t>& endpoint_ids,
                                    const std::string& ca_bundle, bool require_sandbox = false,
                                    bool http_headers = false);

}  // namespace bulkhead::serve

#endif  // BULKHEAD_SERVE_CHECKS_H_
