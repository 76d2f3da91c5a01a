#include "serve/checks.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "monitor/check.h"
#include "monitor/managed.h"
#include "monitor/report.h"

namespace bulkhead::serve {

Result<nlohmann::json> RunAndRecord(inventory::Inventory& inv, const store::CertStore* certs,
                                    const std::vector<int64_t>& endpoint_ids,
                                    const std::string& ca_bundle, bool require_sandbox,
                                    bool http_headers) {
  BH_ASSIGN(auto all, inv.ListEndpoints());
  std::vector<inventory::Endpoint> chosen;
  for (auto& e : all) {
    if (endpoint_ids.empty() ||
        std::find(endpoint_ids.begin(), endpoint_ids.end(), e.id) != endpoint_ids.end()) {
      chosen.push_back(std::move(e));
    }
  }
  monitor::ManagedCerts managed;
  if (certs != nullptr) {
    managed = monitor::ManagedCerts::Load(*certs);
  }
  monitor::CheckOptions options;
  options.ca_bundle = ca_bundle;
  options.managed = &managed;
  options.now = static_cast<int64_t>(std::time(nullptr));
  options.require_sandbox = require_sandbox;
  options.http_headers = http_headers;
  BH_ASSIGN(auto checks, monitor::RunChecks(chosen, options));
  std::map<std::string, int> states;
  int recorded = 0;
  nlohmann::json errors = nlohmann::json::array();
  nlohmann::json details = nlohmann::json::array();
  for (const auto& c : checks) {
    ++states[std::string(inventory::CheckStateName(c.record.state))];
    inventory::CheckRecord rec = c.record;
    rec.endpoint_id = c.endpoint.id;
    if (rec.address.empty()) {
      // Unresolvable name: still recorded, under a placeholder address.
      rec.address.assign(1, '-');  // Not = "-": GCC 12 -O2 misreports it (-Wrestrict).
    }
    if (rec.checked_at == 0) {
      rec.checked_at = options.now;
    }
    auto id = inv.RecordCheck(rec);
    if (id.ok()) {
      ++recorded;
    } else {
      errors.push_back(id.error().message);
    }
    details.push_back(monitor::CheckToJson(c, options.now));
  }
  return nlohmann::json{{"checked", checks.size()},
                        {"recorded", recorded},
                        {"states", states},
                        {"errors", errors},
                        {"checks", details}};
}

}  // namespace bulkhead::serve
