#include "serve/api.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <ctime>

#include "crypto/x509.h"
#include "serve/exposition.h"
#include "serve/html.h"
#include "serve/snapshot.h"
#include "util/text.h"

namespace bulkhead::serve {
namespace {

using nlohmann::json;

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(2) + "\n";
  return r;
}

HttpResponse JsonError(int status, std::string_view message) {
  return Json(status, json{{"error", std::string(message)}});
}

int StatusFor(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kUsage:
      return 400;
    case ErrorCode::kTransient:
      return 503;
    case ErrorCode::kFailure:
      break;
  }
  return 500;
}

std::string TimeOrNull(int64_t t) { return t == 0 ? "" : crypto::FormatTime(t); }

json TriJson(const std::optional<bool>& b) { return b ? json(*b) : json(nullptr); }

json CheckJson(const inventory::CheckRecord& c, int64_t now) {
  json j = {{"address", c.address},
            {"checked_at", crypto::FormatTime(c.checked_at)},
            {"state", inventory::CheckStateName(c.state)},
            {"error", c.error},
            {"tls_version", c.tls_version},
            {"cipher", c.cipher},
            {"subject", c.subject},
            {"issuer", c.issuer},
            {"serial", c.serial_hex},
            {"sans", c.sans},
            {"sha256_fingerprint", c.sha256_fingerprint},
            {"key_type", c.key_type},
            {"key_bits", c.key_bits},
            {"signature_algorithm", c.signature_algorithm},
            {"chain_valid", TriJson(c.chain_valid)},
            {"hostname_match", TriJson(c.hostname_match)},
            {"managed_match", TriJson(c.managed_match)},
            {"tlsa_match", TriJson(c.tlsa_match)}};
  if (c.not_after != 0) {
    j["not_before"] = crypto::FormatTime(c.not_before);
    j["not_after"] = crypto::FormatTime(c.not_after);
    j["expires_in_seconds"] = c.not_after - now;
  }
  return j;
}

json EndpointJson(const EndpointView& v, int64_t now) {
  json checks = json::array();
  for (const auto& c : v.checks) {
    checks.push_back(CheckJson(c, now));
  }
  json j = {{"id", v.endpoint.id},
            {"endpoint", inventory::EndpointKey(v.endpoint.host, v.endpoint.port)},
            {"host", v.endpoint.host},
            {"port", v.endpoint.port},
            {"sni", v.endpoint.sni},
            {"starttls", v.endpoint.starttls},
            {"state", inventory::CheckStateName(v.state)},
            {"checks", std::move(checks)}};
  if (v.not_after != 0) {
    j["not_after"] = crypto::FormatTime(v.not_after);
    j["expires_in_seconds"] = v.not_after - now;
  }
  return j;
}

json DomainJson(const DomainView& d, int64_t now) {
  json j = {{"name", d.domain.name},
            {"state", inventory::CheckStateName(d.state)},
            {"seen_on", d.seen_on},
            {"managed_by", d.managed_by}};
  if (d.not_after != 0) {
    j["not_after"] = crypto::FormatTime(d.not_after);
    j["expires_in_seconds"] = d.not_after - now;
  } else {
    j["not_after"] = nullptr;
  }
  return j;
}

json ManagedJson(const ManagedView& m, int64_t now) {
  json j = {{"name", m.name},
            {"names", m.names},
            {"state", inventory::CheckStateName(m.state)},
            {"issuer", m.issuer},
            {"serial", m.serial_hex},
            {"renewal_planned", TimeOrNull(m.renew_at)},
            {"renewal_due", m.due},
            {"reason", m.reason}};
  if (!m.error.empty()) {
    j["error"] = m.error;
  }
  if (m.not_after != 0) {
    j["not_before"] = crypto::FormatTime(m.not_before);
    j["not_after"] = crypto::FormatTime(m.not_after);
    j["expires_in_seconds"] = m.not_after - now;
  }
  return j;
}

json ChangeJson(const inventory::Change& c) {
  return json{{"endpoint_id", c.endpoint_id},
              {"address", c.address},
              {"at", crypto::FormatTime(c.changed_at)},
              {"kind", inventory::ChangeKindName(c.kind)},
              {"old", c.old_value},
              {"new", c.new_value}};
}

// ParseBody parses a JSON object body; nullopt (and *out_error) otherwise.
std::optional<json> ParseBody(const HttpRequest& req, HttpResponse* out_error) {
  std::string type = req.Header("content-type");
  if (!type.empty() && type.rfind("application/json", 0) != 0) {
    *out_error = JsonError(415, "body must be application/json");
    return std::nullopt;
  }
  json j = json::parse(req.body.empty() ? "{}" : req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *out_error = JsonError(400, "body must be a JSON object");
    return std::nullopt;
  }
  return j;
}

// StringField returns j[key] if it is a string, "" if absent; false if it
// is present with another type.
bool StringField(const json& j, const char* key, std::string* out) {
  out->clear();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return true;
  }
  if (!it->is_string()) {
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

// BoolField sets *out to j[key] if it is a boolean, false if absent or
// null; false if it is present with another type.
bool BoolField(const json& j, const char* key, bool* out) {
  *out = false;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return true;
  }
  if (!it->is_boolean()) {
    return false;
  }
  *out = it->get<bool>();
  return true;
}

}  // namespace

bool TokenMatches(std::string_view header, std::string_view token) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (token.empty() || header.size() < kPrefix.size()) {
    return false;
  }
  bool prefix_ok = true;
  for (size_t i = 0; i < kPrefix.size(); ++i) {
    prefix_ok &= std::tolower(static_cast<unsigned char>(header[i])) ==
                 std::tolower(static_cast<unsigned char>(kPrefix[i]));
  }
  std::string_view given = header.substr(kPrefix.size());
  // Compare digests so neither the length nor the first differing byte of
  // the token shows in the timing.
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), b);
  bool same = CRYPTO_memcmp(a, b, sizeof(a)) == 0;
  return prefix_ok && same;
}

int64_t Api::Now() const {
  return opts_.now ? opts_.now() : static_cast<int64_t>(std::time(nullptr));
}

HttpResponse Api::Handle(const HttpRequest& req) {
  const std::string& path = req.path;
  bool read = req.method == "GET" || req.method == "HEAD";
  if (path.rfind("/api/", 0) == 0) {
    return HandleApi(req);
  }
  if (!read) {
    return JsonError(405, "method not allowed");
  }
  if (path == "/healthz") {
    HttpResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ok\n";
    return r;
  }
  if (path != "/" && path != "/metrics") {
    return JsonError(404, "no such page");
  }
  auto snap = TakeSnapshot(*opts_.inventory, opts_.certs, Now());
  if (!snap.ok()) {
    return JsonError(StatusFor(snap.error()), snap.error().message);
  }
  HttpResponse r;
  if (path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = RenderMetrics(*snap);
  } else {
    r.content_type = "text/html; charset=utf-8";
    r.body = RenderDashboard(*snap);
  }
  return r;
}

HttpResponse Api::HandleApi(const HttpRequest& req) {
  const std::string& path = req.path;
  bool read = req.method == "GET" || req.method == "HEAD";
  bool write = req.method == "POST" || req.method == "DELETE";
  if (!read && !write) {
    return JsonError(405, "method not allowed");
  }
  if (write) {
    if (opts_.token.empty()) {
      return JsonError(403, "changes are disabled: serve was started without --token-file");
    }
    if (!TokenMatches(req.Header("authorization"), opts_.token.view())) {
      HttpResponse r = JsonError(401, "a valid bearer token is required");
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"bulkhead\"");
      return r;
    }
  }
  if (path == "/api/openapi.json" && read) {
    return Json(200, OpenApiDocument());
  }
  inventory::Inventory& inv = *opts_.inventory;
  int64_t now = Now();
  HttpResponse body_error;

  if (path == "/api/endpoints" && req.method == "POST") {
    auto body = ParseBody(req, &body_error);
    if (!body) {
      return body_error;
    }
    std::string key;
    inventory::Endpoint e;
    if (!StringField(*body, "endpoint", &key) || !StringField(*body, "sni", &e.sni) ||
        !StringField(*body, "starttls", &e.starttls)) {
      return JsonError(400, "endpoint, sni and starttls must be strings");
    }
    auto parsed = inventory::ParseEndpointKey(key);
    if (!parsed.ok()) {
      return JsonError(400, parsed.error().message);
    }
    static const std::vector<std::string> kStarttls = {"", "smtp", "imap", "pop3", "ldap",
                                                       "postgres"};
    if (std::find(kStarttls.begin(), kStarttls.end(), e.starttls) == kStarttls.end()) {
      return JsonError(400, "starttls must be one of smtp, imap, pop3, ldap, postgres");
    }
    e.host = parsed->host;
    e.port = parsed->port;
    bool created = false;
    auto added = inv.AddEndpoint(e, &created);
    if (!added.ok()) {
      return JsonError(StatusFor(added.error()), added.error().message);
    }
    EndpointView v;
    v.endpoint = *added;
    return Json(created ? 201 : 200, EndpointJson(v, now));
  }
  if (path == "/api/domains" && req.method == "POST") {
    auto body = ParseBody(req, &body_error);
    if (!body) {
      return body_error;
    }
    std::string name;
    if (!StringField(*body, "name", &name)) {
      return JsonError(400, "name must be a string");
    }
    if (name.empty() || !inventory::ParseEndpointKey(name).ok() ||
        name.find(':') != std::string::npos) {
      return JsonError(400, "name must be a DNS name");
    }
    bool created = false;
    auto added = inv.AddDomain(name, &created);
    if (!added.ok()) {
      return JsonError(StatusFor(added.error()), added.error().message);
    }
    return Json(created ? 201 : 200, json{{"name", added->name}});
  }
  if (path == "/api/checks" && req.method == "POST") {
    if (!opts_.run_checks) {
      return JsonError(503, "checks are not available in this build: the monitor engine is not "
                            "linked in; run `bulkhead monitor run` instead");
    }
    auto body = ParseBody(req, &body_error);
    if (!body) {
      return body_error;
    }
    std::string key;
    if (!StringField(*body, "endpoint", &key)) {
      return JsonError(400, "endpoint must be a string");
    }
    bool http_headers = false;
    if (!BoolField(*body, "http_headers", &http_headers)) {
      return JsonError(400, "http_headers must be a boolean");
    }
    std::vector<int64_t> ids;
    if (!key.empty()) {
      auto parsed = inventory::ParseEndpointKey(key);
      if (!parsed.ok()) {
        return JsonError(400, parsed.error().message);
      }
      auto found = inv.FindEndpoint(parsed->host, parsed->port);
      if (!found.ok()) {
        return JsonError(StatusFor(found.error()), found.error().message);
      }
      ids.push_back(found->id);
    }
    auto result = opts_.run_checks(ids, http_headers);
    if (!result.ok()) {
      return JsonError(StatusFor(result.error()), result.error().message);
    }
    return Json(200, *result);
  }

  constexpr std::string_view kEndpointPrefix = "/api/endpoints/";
  constexpr std::string_view kDomainPrefix = "/api/domains/";
  if (path.rfind(kEndpointPrefix, 0) == 0 && path.size() > kEndpointPrefix.size()) {
    auto parsed = inventory::ParseEndpointKey(path.substr(kEndpointPrefix.size()));
    if (!parsed.ok()) {
      return JsonError(400, parsed.error().message);
    }
    auto found = inv.FindEndpoint(parsed->host, parsed->port);
    if (!found.ok()) {
      return JsonError(StatusFor(found.error()), found.error().message);
    }
    if (req.method == "DELETE") {
      Status st = inv.RemoveEndpoint(found->id);
      if (!st.ok()) {
        return JsonError(StatusFor(st.error()), st.error().message);
      }
      HttpResponse r;
      r.status = 204;
      r.content_type.clear();
      return r;
    }
    if (!read) {
      return JsonError(405, "method not allowed");
    }
    auto snap = TakeSnapshot(inv, opts_.certs, now);
    auto history = inv.History(found->id, 50);
    auto changes = inv.Changes(found->id, 50);
    if (!snap.ok() || !history.ok() || !changes.ok()) {
      return JsonError(500, "reading the inventory failed");
    }
    json j;
    for (const auto& v : snap->endpoints) {
      if (v.endpoint.id == found->id) {
        j = EndpointJson(v, now);
      }
    }
    j["history"] = json::array();
    for (const auto& c : *history) {
      j["history"].push_back(CheckJson(c, now));
    }
    j["changes"] = json::array();
    for (const auto& c : *changes) {
      j["changes"].push_back(ChangeJson(c));
    }
    return Json(200, j);
  }
  if (path.rfind(kDomainPrefix, 0) == 0 && path.size() > kDomainPrefix.size()) {
    std::string name = path.substr(kDomainPrefix.size());
    if (req.method == "DELETE") {
      Status st = inv.RemoveDomain(name);
      if (!st.ok()) {
        return JsonError(StatusFor(st.error()), st.error().message);
      }
      HttpResponse r;
      r.status = 204;
      r.content_type.clear();
      return r;
    }
    if (!read) {
      return JsonError(405, "method not allowed");
    }
    auto snap = TakeSnapshot(inv, opts_.certs, now);
    if (!snap.ok()) {
      return JsonError(StatusFor(snap.error()), snap.error().message);
    }
    std::string lower = AsciiLower(name);
    for (const auto& d : snap->domains) {
      if (d.domain.name == lower) {
        return Json(200, DomainJson(d, now));
      }
    }
    return JsonError(404, "domain is not followed");
  }
  if (!read) {
    return JsonError(405, "method not allowed");
  }

  auto snap = TakeSnapshot(inv, opts_.certs, now);
  if (!snap.ok()) {
    return JsonError(StatusFor(snap.error()), snap.error().message);
  }
  json out = json::array();
  if (path == "/api/endpoints") {
    for (const auto& v : snap->endpoints) {
      out.push_back(EndpointJson(v, now));
    }
  } else if (path == "/api/domains") {
    for (const auto& d : snap->domains) {
      out.push_back(DomainJson(d, now));
    }
  } else if (path == "/api/certificates") {
    for (const auto& m : snap->managed) {
      out.push_back(ManagedJson(m, now));
    }
  } else if (path == "/api/changes") {
    for (const auto& c : snap->changes) {
      out.push_back(ChangeJson(c));
    }
  } else {
    return JsonError(404, "no such API path");
  }
  return Json(200, out);
}

}  // namespace bulkhead::serve
