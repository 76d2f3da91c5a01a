#include "monitor/report.h"

#include <algorithm>

#include "util/days.h"

namespace bulkhead::monitor {
namespace {

nlohmann::json Tri(const std::optional<bool>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json CertJson(const crypto::CertInfo& c) {
  return {{"subject", c.subject},
          {"issuer", c.issuer},
          {"serial", c.serial_hex},
          {"not_before", crypto::FormatTime(c.not_before)},
          {"not_after", crypto::FormatTime(c.not_after)}};
}

}  // namespace

nlohmann::json CheckToJson(const EndpointCheck& c, int64_t now) {
  const inventory::CheckRecord& r = c.record;
  nlohmann::json j = {
      {"endpoint", inventory::EndpointKey(c.endpoint.host, c.endpoint.port)},
      {"host", c.endpoint.host},
      {"port", c.endpoint.port},
      {"address", r.address.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.address)},
      {"name", c.name},
      {"starttls", c.endpoint.starttls.empty() ? "none" : c.endpoint.starttls},
      {"state", inventory::CheckStateName(r.state)},
      {"reasons", c.reasons},
      {"checked_at", crypto::FormatTime(r.checked_at)},
      {"up", c.probe.has_value()},
      {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
      {"chain_valid", Tri(r.chain_valid)},
      {"hostname_match", Tri(r.hostname_match)},
      {"managed", nullptr},
      {"tlsa_match", Tri(r.tlsa_match)},
      {"http", nullptr},
  };
  if (!c.tlsa_owner.empty()) {
    // "validated": false always: no DNSSEC validation is done, so a match
    // only says what the resolver returned matches.
    j["tlsa"] = {{"owner", c.tlsa_owner},
                 {"match", Tri(r.tlsa_match)},
                 {"validated", false},
                 {"detail", c.tlsa_detail.empty() ? nlohmann::json(nullptr)
                                                  : nlohmann::json(c.tlsa_detail)}};
  } else {
    j["tlsa"] = nullptr;
  }
  if (!c.probe) {
    j["leaf"] = nullptr;
    return j;
  }
  const probe::ProbeResult& p = *c.probe;
  const crypto::CertInfo& leaf = p.leaf();
  j["tls_version"] = p.tls_version;
  j["cipher"] = p.cipher;
  j["chain_error"] = p.chain_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.chain_error);
  nlohmann::json lj = CertJson(leaf);
  lj["subject_cn"] = leaf.subject_cn;
  lj["names"] = leaf.names;
  lj["not_before_unix"] = leaf.not_before;
  lj["not_after_unix"] = leaf.not_after;
  lj["days_left"] = DaysLeft(leaf.not_after, now);
  lj["key_type"] = p.leaf_key.key_type;
  lj["key_bits"] = p.leaf_key.key_bits;
  lj["curve"] = p.leaf_key.curve.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.leaf_key.curve);
  lj["signature_algorithm"] = p.leaf_key.signature_algorithm;
  lj["sha256_fingerprint"] = r.sha256_fingerprint;
  j["leaf"] = std::move(lj);
  nlohmann::json chain = nlohmann::json::array();
  for (size_t i = 1; i < p.chain->size(); ++i) {
    chain.push_back(CertJson((*p.chain)[i]));
  }
  j["intermediates"] = std::move(chain);
  if (!c.managed_name.empty()) {
    j["managed"] = {{"name", c.managed_name}, {"match", Tri(r.managed_match)}};
  }
  if (c.http_checked) {
    // Without a response there is no verdict: ok and the headers are null.
    nlohmann::json http = c.headers ? HeadersToJson(*c.headers)
                                    : nlohmann::json{{"ok", nullptr},
                                                     {"strict_transport_security", nullptr},
                                                     {"content_security_policy", nullptr},
                                                     {"referrer_policy", nullptr}};
    http["status"] = p.http_status ? nlohmann::json(*p.http_status) : nlohmann::json(nullptr);
    http["error"] = p.http_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.http_error);
    http["affects_state"] = c.headers_counted;
    j["http"] = std::move(http);
  }
  return j;
}

std::string FormatTable(const std::vector<EndpointCheck>& checks, int64_t now) {
  struct Row {
    std::string cells[8];
    std::vector<std::string> notes;
  };
  std::vector<Row> rows;
  rows.push_back(Row{{"STATE", "ENDPOINT", "ADDRESS", "DAYS", "EXPIRES", "CHAIN", "NAME", "TLS"}, {}});
  for (const EndpointCheck& c : checks) {
    Row row;
    row.cells[0] = std::string(inventory::CheckStateName(c.record.state));
    row.cells[1] = inventory::EndpointKey(c.endpoint.host, c.endpoint.port);
    row.cells[2] = c.record.address.empty() ? "-" : c.record.address;
    if (c.probe) {
      const auto& leaf = c.probe->leaf();
      row.cells[3] = std::to_string(DaysLeft(leaf.not_after, now));
      row.cells[4] = crypto::FormatTime(leaf.not_after);
      row.cells[5] = c.probe->chain_valid ? "valid" : "INVALID";
      row.cells[6] = c.probe->hostname_match ? "match" : "MISMATCH";
      row.cells[7] = c.probe->tls_version;
      if (c.record.managed_match) {
        row.notes.push_back(fmt::format("managed certificate {}: {}", c.managed_name,
                                        *c.record.managed_match ? "served" : "NOT served"));
      }
      if (c.record.tlsa_match) {
        row.notes.push_back(fmt::format("TLSA {} (not DNSSEC-validated)",
                                        *c.record.tlsa_match ? "match" : "MISMATCH"));
      }
      if (c.headers) {
        row.notes.push_back(HeadersSummary(*c.headers));
        if (!c.headers_counted) {
          // Counted findings are among the reasons; these are shown only.
          for (const std::string& f : c.headers->Findings()) {
            row.notes.push_back(f + " (not counted without --http-headers)");
          }
        }
      } else if (c.http_checked) {
        row.notes.push_back("HTTP: " + (c.probe->http_error.empty() ? std::string("no response")
                                                                    : c.probe->http_error));
      }
    } else {
      for (int i = 3; i < 8; ++i) {
        row.cells[i] = "-";
      }
    }
    if (c.record.state != inventory::CheckState::kOk) {
      row.notes.insert(row.notes.begin(), c.reasons.begin(), c.reasons.end());
    }
    rows.push_back(std::move(row));
  }
  size_t width[8] = {};
  for (const Row& r : rows) {
    for (int i = 0; i < 8; ++i) {
      width[i] = std::max(width[i], r.cells[i].size());
    }
  }
  std::string out;
  for (const Row& r : rows) {
    std::string line;
    for (int i = 0; i < 8; ++i) {
      line += fmt::format("{:<{}}", r.cells[i], i == 7 ? 0 : width[i] + 2);
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    out += line + "\n";
    for (const std::string& n : r.notes) {
      out += "    " + n + "\n";
    }
  }
  return out;
}

}  // namespace bulkhead::monitor
