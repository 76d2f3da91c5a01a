#include "monitor/check.h"

#include <nlohmann/json.hpp>

#include <ctime>
#include <thread>
#include <unordered_map>

#include "crypto/key.h"
#include "probe/engine.h"
#include "roles/probe_role.h"
#include "util/days.h"

namespace bulkhead::monitor {
namespace {

constexpr int64_t kDay = kSecondsPerDay;

std::string Hex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

inventory::CheckState Worse(inventory::CheckState a, inventory::CheckState b) {
  return inventory::StateUrgency(a) <= inventory::StateUrgency(b) ? a : b;
}

std::string JoinReasons(const std::vector<std::string>& reasons) {
  std::string out;
  for (const auto& r : reasons) {
    out += (out.empty() ? "" : "; ") + r;
  }
  return out;
}

// DetailsJson keeps what has no column of its own.
std::string DetailsJson(const EndpointCheck& c) {
  nlohmann::json j = nlohmann::json::object();
  if (!c.reasons.empty()) {
    j["reasons"] = c.reasons;
  }
  if (c.probe) {
    if (!c.probe->chain_error.empty()) {
      j["chain_error"] = c.probe->chain_error;
    }
    j["chain_length"] = c.probe->chain->size();
    if (c.http_checked) {
      const auto& h = c.probe->http_headers;
      j["http"] = {{"status", c.probe->http_status.value_or(0)},
                   {"error", c.probe->http_error},
                   {"strict_transport_security", h.contains("strict-transport-security")},
                   {"content_security_policy", h.contains("content-security-policy")},
                   {"referrer_policy", h.contains("referrer-policy")}};
      if (c.headers) {
        // The findings, not the values: they say what matters in a row.
        j["http"]["ok"] = c.headers->ok;
        j["http"]["findings"] = c.headers->Findings();
      }
    }
  }
  if (!c.managed_name.empty()) {
    j["managed_name"] = c.managed_name;
  }
  if (!c.tlsa_detail.empty()) {
    j["tlsa"] = c.tlsa_detail;
  }
  return j.empty() ? std::string() : j.dump();
}

// JudgeHttpHeaders judges the headers of a check that read an HTTP
// response. Only headers asked for explicitly count: each finding becomes
// a reason and the state at least WARNING. No response, no verdict: a TLS
// port need not speak HTTP, and why is in http_error.
void JudgeHttpHeaders(const CheckOptions& options, EndpointCheck* c) {
  if (!c->http_checked || !c->probe->http_status || !c->probe->http_error.empty()) {
    return;
  }
  c->headers = JudgeHeaders(c->probe->http_headers);
  c->headers_counted = options.http_headers;
  if (c->headers->ok || !c->headers_counted) {
    return;
  }
  c->record.state = Worse(c->record.state, inventory::CheckState::kWarning);
  for (std::string& finding : c->headers->Findings()) {
    c->reasons.push_back(std::move(finding));
  }
}

}  // namespace

Status ValidateThresholds(const Thresholds& t) {
  if (t.crit_days < 0 || t.warn_days < t.crit_days) {
    return ErrCode(ErrorCode::kUsage,
                   "thresholds: need 0 <= --crit-days ({}) <= --warn-days ({})", t.crit_days,
                   t.warn_days);
  }
  return OkStatus();
}

inventory::CheckState Verdict(const probe::ProbeResult& probe, int64_t now,
                              const Thresholds& thresholds,
                              const std::optional<ManagedMatch>& managed,
                              std::vector<std::string>* out_reasons) {
  using inventory::CheckState;
  const crypto::CertInfo& leaf = probe.leaf();
  CheckState state = CheckState::kOk;
  int64_t left = leaf.not_after - now;
  if (left <= 0) {
    state = CheckState::kError;
    int64_t days_ago = -DaysLeft(leaf.not_after, now);
    std::string ago = days_ago == 0   ? std::string("less than a day ago")
                      : days_ago == 1 ? std::string("1 day ago")
                                      : fmt::format("{} days ago", days_ago);
    out_reasons->push_back(fmt::format("expired {} ({})", crypto::FormatTime(leaf.not_after), ago));
  } else if (left < static_cast<int64_t>(thresholds.crit_days) * kDay) {
    state = CheckState::kWarning;
    out_reasons->push_back(fmt::format("expires in {} hours", left / 3600));
  } else if (left <= static_cast<int64_t>(thresholds.warn_days) * kDay) {
    state = CheckState::kPlan;
    out_reasons->push_back(fmt::format("expires in {} days", DaysLeft(leaf.not_after, now)));
  }
  if (leaf.not_before > now) {
    state = CheckState::kError;
    out_reasons->push_back(fmt::format("not valid before {}", crypto::FormatTime(leaf.not_before)));
  }
  // An expired leaf also fails verification; say it once.
  if (!probe.chain_valid && !(left <= 0 && probe.chain_error.find("expired") != std::string::npos)) {
    state = CheckState::kError;
    out_reasons->push_back("invalid chain: " + probe.chain_error);
  }
  if (!probe.hostname_match) {
    state = CheckState::kError;
    out_reasons->push_back(fmt::format("certificate does not cover {}", probe.checked_name));
  }
  if (managed && !managed->equal && managed->served_older) {
    state = Worse(state, CheckState::kWarning);
    out_reasons->push_back(fmt::format(
        "serves an older certificate than the managed {}: serial {} (expires {}) instead of "
        "serial {} (expires {}); reload the server",
        managed->name, leaf.serial_hex, crypto::FormatTime(leaf.not_after),
        managed->managed_serial_hex, crypto::FormatTime(managed->managed_not_after)));
  } else if (managed && !managed->equal) {
    state = Worse(state, CheckState::kPlan);
    out_reasons->push_back("serves a different certificate than the managed one (not reloaded?)");
  }
  return state;
}

void RecordFromProbe(const probe::ProbeResult& probe, inventory::CheckRecord* out) {
  const crypto::CertInfo& leaf = probe.leaf();
  out->address = probe.address;
  out->tls_version = probe.tls_version;
  out->cipher = probe.cipher;
  out->subject = leaf.subject;
  out->issuer = leaf.issuer;
  out->serial_hex = leaf.serial_hex;
  out->sans = leaf.names;
  out->not_before = leaf.not_before;
  out->not_after = leaf.not_after;
  out->sha256_fingerprint = Hex(crypto::Sha256(leaf.der));
  out->key_type = probe.leaf_key.key_type;
  out->key_bits = probe.leaf_key.key_bits;
  out->signature_algorithm = probe.leaf_key.signature_algorithm;
  out->chain_valid = probe.chain_valid;
  out->hostname_match = probe.hostname_match;
}

Result<std::vector<EndpointCheck>> RunChecks(const std::vector<inventory::Endpoint>& endpoints,
                                             const CheckOptions& options) {
  BH_TRY(ValidateThresholds(options.thresholds));
  int64_t now = options.now != 0 ? options.now : static_cast<int64_t>(std::time(nullptr));
  std::vector<EndpointCheck> checks;
  std::vector<probe::ProbeRequest> requests;
  std::vector<size_t> check_of_request;
  // TLSA owners, each looked up once however many addresses share it.
  std::vector<std::string> owners;
  std::unordered_map<std::string, size_t> owner_index;
  for (const inventory::Endpoint& e : endpoints) {
    BH_ASSIGN(probe::StartTls starttls,
              probe::ParseStartTls(e.starttls.empty() ? "none" : e.starttls));
    EndpointCheck base;
    base.endpoint = e;
    base.name = e.sni.empty() ? e.host : e.sni;
    base.record.endpoint_id = e.id;
    base.record.checked_at = now;
    base.http_checked = starttls == probe::StartTls::kNone && (e.port == 443 || options.http_headers);
    if (options.tlsa.enabled) {
      if (auto owner = TlsaOwnerFor(base.name, e.port)) {
        base.tlsa_owner = *owner;
        if (owner_index.emplace(*owner, owners.size()).second) {
          owners.push_back(*owner);
        }
      }
    }
    auto addresses = probe::ResolveAddresses(e.host);
    if (!addresses.ok()) {
      base.record.state = inventory::CheckState::kError;
      base.reasons.push_back("unreachable: " + addresses.error().message);
      base.record.error = JoinReasons(base.reasons);
      checks.push_back(std::move(base));
      continue;
    }
    for (const std::string& address : *addresses) {
      probe::ProbeRequest r;
      r.host = e.host;
      r.port = e.port;
      r.address = address;
      r.sni = e.sni;
      r.starttls = starttls;
      r.timeout = options.timeout;
      r.ca_bundle = options.ca_bundle;
      r.http_headers = base.http_checked;
      requests.push_back(std::move(r));
      check_of_request.push_back(checks.size());
      EndpointCheck c = base;
      c.record.address = address;
      checks.push_back(std::move(c));
    }
  }
  // The probes run in the sandboxed probe role, which alone parses what the
  // servers send. It is forked before the DNS thread starts, so the child
  // is single-threaded.
  std::optional<roles::ProbeRole> prober;
  if (!requests.empty()) {
    roles::ProbeJob job;
    job.requests = std::move(requests);
    job.concurrency = options.concurrency;
    job.require_full_sandbox = options.require_sandbox;
    BH_ASSIGN(roles::ProbeRole started, roles::ProbeRole::Start(std::move(job)));
    prober.emplace(std::move(started));
  }
  // DNS and TLS run side by side: a slow resolver then costs nothing as
  // long as it answers before the probes finish.
  std::optional<Result<std::vector<TlsaLookup>>> lookups;
  std::thread dns_thread;
  if (!owners.empty()) {
    dns_thread = std::thread([&] { lookups.emplace(LookupTlsa(owners, options.tlsa)); });
  }
  Result<std::vector<Result<probe::ProbeResult>>> probed =
      std::vector<Result<probe::ProbeResult>>();
  Status ended = OkStatus();
  if (prober) {
    probed = prober->Run();
    ended = prober->Stop();
  }
  if (dns_thread.joinable()) {
    dns_thread.join();
  }
  if (!probed.ok()) {
    return probed.error();
  }
  if (!ended.ok()) {
    return ended.error();
  }
  if (lookups && !lookups->ok()) {
    return lookups->error();
  }
  std::vector<Result<probe::ProbeResult>>& results = *probed;
  for (size_t i = 0; i < results.size(); ++i) {
    EndpointCheck& c = checks[check_of_request[i]];
    if (!results[i].ok()) {
      c.record.state = inventory::CheckState::kError;
      c.reasons.push_back("unreachable: " + results[i].error().message);
      c.record.error = JoinReasons(c.reasons);
      continue;
    }
    c.probe = std::move(results[i]).value();
    RecordFromProbe(*c.probe, &c.record);
    std::optional<ManagedMatch> managed;
    if (options.managed != nullptr) {
      managed = options.managed->Compare(c.name, c.probe->leaf());
    }
    if (managed) {
      c.managed_name = managed->name;
      c.record.managed_match = managed->equal;
    }
    c.record.state = Verdict(*c.probe, now, options.thresholds, managed, &c.reasons);
    JudgeHttpHeaders(options, &c);
    if (lookups && !c.tlsa_owner.empty()) {
      const TlsaLookup& l = (**lookups)[owner_index.at(c.tlsa_owner)];
      TlsaVerdict t = JudgeTlsa(l, *c.probe->chain, c.probe->links.get());
      c.record.tlsa_match = t.match;
      c.tlsa_detail = t.detail;
      if (t.match.has_value() && !*t.match) {
        c.record.state = inventory::CheckState::kError;
        c.reasons.push_back("TLSA mismatch: " + t.detail);
      }
    }
    if (c.record.state == inventory::CheckState::kError) {
      c.record.error = JoinReasons(c.reasons);
    }
  }
  for (EndpointCheck& c : checks) {
    c.record.details_json = DetailsJson(c);
  }
  return checks;
}

inventory::CheckState WorstState(const std::vector<EndpointCheck>& checks) {
  inventory::CheckState worst = inventory::CheckState::kOk;
  for (const auto& c : checks) {
    worst = Worse(worst, c.record.state);
  }
  return worst;
}

}  // namespace bulkhead::monitor
