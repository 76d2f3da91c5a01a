// Routing for `bulkhead serve`: the JSON API under /api/, /metrics, the
// dashboard at /, and bearer-token authentication for every request that
// changes state (POST, DELETE).
//
// Routes (see openapi.cc for the full description):
//   GET    /                         dashboard (HTML)
//   GET    /metrics                  Prometheus text
//   GET    /healthz                  "ok"
//   GET    /api/openapi.json         OpenAPI 3 description
//   GET    /api/endpoints            endpoints with current state
//   POST   /api/endpoints            {"endpoint":"host:port","sni":..,"starttls":..}
//   GET    /api/endpoints/{key}      one endpoint, its history and changes
//   DELETE /api/endpoints/{key}
//   GET    /api/domains              domains with their earliest expiry
//   POST   /api/domains              {"name":"example.com"}
//   GET    /api/domains/{name}       expiry of one domain
//   DELETE /api/domains/{name}
//   GET    /api/certificates         certificates managed on this host
//   GET    /api/changes              recent certificate changes
//   POST   /api/checks               run a check now ({"endpoint": key} or all)
#ifndef BULKHEAD_SERVE_API_H_
#define BULKHEAD_SERVE_API_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "inventory/inventory.h"
#include "serve/http.h"
#include "store/cert_store.h"
#include "util/result.h"
#include "util/secret.h"

namespace bulkhead::serve {

// CheckRunner checks the endpoints with the given ids (all when empty),
// records the results in the inventory and returns a JSON summary. With
// `http_headers` it judges the HTTP headers of every plain-TLS endpoint
// into its state, as `monitor check --http-headers` does.
using CheckRunner = std::function<Result<nlohmann::json>(const std::vector<int64_t>& endpoint_ids,
                                                         bool http_headers)>;

// ApiOptions wires the router to its collaborators, which must outlive it.
struct ApiOptions {
  inventory::Inventory* inventory = nullptr;
  const store::CertStore* certs = nullptr;  // May be null: no managed view.
  Secret token;             // Empty: POST/DELETE are refused (403).
  CheckRunner run_checks;   // Empty: POST /api/checks answers 503.
  std::function<int64_t()> now;  // Empty: the system clock.
};

// Api answers requests; not thread-safe (the server has one thread).
class Api {
 public:
  explicit Api(ApiOptions options) : opts_(std::move(options)) {}

  // Handle never fails: errors become 4xx/5xx JSON bodies {"error": "..."}.
  HttpResponse Handle(const HttpRequest& request);

 private:
  int64_t Now() const;
  HttpResponse HandleApi(const HttpRequest& request);
  ApiOptions opts_;
};

// TokenMatches compares `header` (an Authorization value) against
// "Bearer <token>" in time independent of where they differ.
bool TokenMatches(std::string_view header, std::string_view token);

// OpenApiDocument returns the OpenAPI 3 description of the API.
const nlohmann::json& OpenApiDocument();

}  // namespace bulkhead::serve

#endif  // BULKHEAD_SERVE_API_H_
