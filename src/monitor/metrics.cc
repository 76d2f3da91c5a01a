#include "monitor/metrics.h"

#include <cmath>

namespace bulkhead::monitor {
namespace {

// FormatValue prints integers without an exponent or fraction (Unix times
// must stay exact) and other values in the shortest round-trip form.
std::string FormatValue(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(v));
  }
  return fmt::format("{}", v);
}

int StateNumber(inventory::CheckState s) {
  switch (s) {
    case inventory::CheckState::kOk:
      return 0;
    case inventory::CheckState::kPlan:
      return 1;
    case inventory::CheckState::kWarning:
      return 2;
    case inventory::CheckState::kError:
      return 3;
    case inventory::CheckState::kUnknown:
      return 4;
  }
  return 4;
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void MetricsWriter::Gauge(std::string_view name, std::string_view help, const Labels& labels,
                          double value) {
  Family* family = nullptr;
  for (Family& f : families_) {
    if (f.name == name) {
      family = &f;
      break;
    }
  }
  if (family == nullptr) {
    families_.push_back(Family{std::string(name), std::string(help), {}});
    family = &families_.back();
  }
  std::string sample(name);
  if (!labels.empty()) {
    sample.push_back('{');
    for (size_t i = 0; i < labels.size(); ++i) {
      sample += fmt::format("{}{}=\"{}\"", i == 0 ? "" : ",", labels[i].first,
                            EscapeLabelValue(labels[i].second));
    }
    sample.push_back('}');
  }
  sample += " " + FormatValue(value);
  family->samples.push_back(std::move(sample));
}

std::string MetricsWriter::Text() const {
  std::string out;
  for (const Family& f : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", f.name, f.help, f.name);
    for (const std::string& s : f.samples) {
      out += s;
      out.push_back('\n');
    }
  }
  return out;
}

void AppendCheckMetrics(const inventory::Endpoint& endpoint, const inventory::CheckRecord& check,
                        int64_t now, MetricsWriter* w) {
  Labels labels = {{"endpoint", inventory::EndpointKey(endpoint.host, endpoint.port)},
                   {"address", check.address},
                   {"name", endpoint.sni.empty() ? endpoint.host : endpoint.sni}};
  bool up = check.not_after != 0;
  w->Gauge("bulkhead_endpoint_up", "1 if a TLS handshake completed and a certificate was received",
           labels, up ? 1 : 0);
  w->Gauge("bulkhead_endpoint_state", "Overall state: 0 OK, 1 PLAN, 2 WARNING, 3 ERROR, 4 UNKNOWN",
           labels, StateNumber(check.state));
  w->Gauge("bulkhead_check_timestamp_seconds", "Unix time of the check", labels,
           static_cast<double>(check.checked_at));
  if (up) {
    w->Gauge("bulkhead_cert_not_after_seconds", "Leaf certificate notAfter, Unix time", labels,
             static_cast<double>(check.not_after));
    w->Gauge("bulkhead_cert_not_before_seconds", "Leaf certificate notBefore, Unix time", labels,
             static_cast<double>(check.not_before));
    w->Gauge("bulkhead_cert_expires_in_seconds", "Seconds until the leaf expires (negative: expired)",
             labels, static_cast<double>(check.not_after - now));
    w->Gauge("bulkhead_cert_key_bits", "Size of the leaf's public key in bits", labels,
             check.key_bits);
  }
  if (check.chain_valid) {
    w->Gauge("bulkhead_cert_chain_valid", "1 if the served chain verifies against the trust store",
             labels, *check.chain_valid ? 1 : 0);
  }
  if (check.hostname_match) {
    w->Gauge("bulkhead_cert_hostname_match", "1 if the leaf covers the endpoint's name", labels,
             *check.hostname_match ? 1 : 0);
  }
  if (check.managed_match) {
    w->Gauge("bulkhead_cert_managed_match",
             "1 if the leaf is the certificate bulkhead manages for the name", labels,
             *check.managed_match ? 1 : 0);
  }
  if (check.tlsa_match) {
    w->Gauge("bulkhead_tlsa_match", "1 if a published TLSA record matches the served chain",
             labels, *check.tlsa_match ? 1 : 0);
  }
}

void AppendRenewalPlanned(std::string_view cert_name, int64_t renew_at, int64_t not_after,
                          MetricsWriter* w) {
  Labels labels = {{"name", std::string(cert_name)}};
  w->Gauge("bulkhead_renewal_planned_seconds", "Unix time of the planned renewal", labels,
           static_cast<double>(renew_at));
  if (not_after != 0) {
    w->Gauge("bulkhead_managed_cert_not_after_seconds",
             "notAfter of the managed certificate, Unix time", labels,
             static_cast<double>(not_after));
  }
}

void AppendRenewalAttempt(std::string_view cert_name, int64_t at, bool ok, int64_t last_success,
                          MetricsWriter* w) {
  Labels labels = {{"name", std::string(cert_name)}};
  w->Gauge("bulkhead_renewal_last_attempt_seconds",
           "Unix time of the last renewal attempt (an order was due or forced)", labels,
           static_cast<double>(at));
  w->Gauge("bulkhead_renewal_last_attempt_success", "1 if the last renewal attempt worked",
           labels, ok ? 1.0 : 0.0);
  if (last_success != 0) {
    w->Gauge("bulkhead_renewal_last_success_seconds",
             "Unix time of the last renewal attempt that worked", labels,
             static_cast<double>(last_success));
  }
}

}  // namespace bulkhead::monitor
