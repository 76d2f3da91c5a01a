// Rendering monitor checks for people (a table) and programs (JSON).
#ifndef BULKHEAD_MONITOR_REPORT_H_
#define BULKHEAD_MONITOR_REPORT_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "monitor/check.h"

namespace bulkhead::monitor {

// CheckToJson describes one check: endpoint, address, name, state, reasons,
// TLS version and cipher, the leaf (subject, issuer, serial, SANs, dates,
// days_left, key, signature), the chain, chain_valid, hostname_match,
// managed, http (status, error, whether it affects the state, and per header
// its value and findings: monitor::HeadersToJson) and tlsa. Unknown values
// are null.
nlohmann::json CheckToJson(const EndpointCheck& check, int64_t now);

// FormatTable renders the checks as an aligned table, one row per address,
// with the reasons under each row that is not OK, and under every row the
// HTTP header summary and findings (one a line) when headers were read.
std::string FormatTable(const std::vector<EndpointCheck>& checks, int64_t now);

}  // namespace bulkhead::monitor

#endif  // BULKHEAD_MONITOR_REPORT_H_
