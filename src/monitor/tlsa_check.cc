#include "monitor/tlsa_check.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "probe/tls_probe.h"

namespace bulkhead::monitor {

std::optional<std::string> TlsaOwnerFor(const std::string& name, uint16_t port) {
  if (name.empty() || probe::IsIpLiteral(name)) {
    return std::nullopt;
  }
  auto owner = dns::TlsaOwner(name, port);
  if (!owner.ok()) {
    return std::nullopt;
  }
  return dns::Canonical(*owner);
}

void RecordsFromResponse(const dns::Response& response, TlsaLookup* out) {
  for (const dns::Record& r : response.answer) {
    if (r.type != dns::kTypeTlsa) {
      continue;
    }
    const std::string& rd = r.rdata;
    dns::TlsaRecord record;
    if (rd.size() < 4 ||
        !dns::ParseTlsaParams(static_cast<unsigned char>(rd[0]), static_cast<unsigned char>(rd[1]),
                              static_cast<unsigned char>(rd[2]), &record)
             .ok()) {
      // RFC 7671 section 4: records with unknown parameters are unusable.
      ++out->unusable;
      continue;
    }
    record.data = rd.substr(3);
    out->records.push_back(std::move(record));
  }
  out->authenticated_data = response.authenticated_data;
}

Result<std::vector<TlsaLookup>> LookupTlsa(const std::vector<std::string>& owners,
                                           const TlsaOptions& options) {
  std::vector<TlsaLookup> out(owners.size());
  if (owners.empty()) {
    return out;
  }
  dns::Server server;
  if (options.resolver) {
    server = *options.resolver;
  } else {
    auto system = dns::SystemResolvers();
    if (!system.ok()) {
      return system.error().Wrap("TLSA look-ups");
    }
    server = system->front();
  }
  dns::QueryOptions qo;
  qo.timeout = options.timeout;
  std::atomic<size_t> next{0};
  std::atomic<bool> resolver_down{false};
  std::mutex down_mu;
  std::string down_reason;
  auto work = [&] {
    for (size_t i = next++; i < owners.size(); i = next++) {
      TlsaLookup& l = out[i];
      l.owner = owners[i];
      if (resolver_down) {
        std::lock_guard<std::mutex> lock(down_mu);
        l.error = "not asked: " + down_reason;
        continue;
      }
      auto response = dns::Query(server, owners[i], dns::kTypeTlsa, qo);
      if (!response.ok()) {
        l.error = response.error().message;
        std::lock_guard<std::mutex> lock(down_mu);
        if (!resolver_down.exchange(true)) {
          down_reason = fmt::format("resolver {} failed earlier", server.ToString());
        }
        continue;
      }
      if (response->rcode != dns::kRcodeNoError && response->rcode != dns::kRcodeNxDomain) {
        l.error = fmt::format("{}: response code {} from {}", owners[i], response->rcode,
                              server.ToString());
        continue;
      }
      RecordsFromResponse(*response, &l);
    }
  };
  size_t n = std::min<size_t>(owners.size(), kTlsaLookupThreads);
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t t = 1; t < n; ++t) {
    threads.emplace_back(work);
  }
  work();
  for (auto& t : threads) {
    t.join();
  }
  return out;
}

TlsaVerdict JudgeTlsa(const TlsaLookup& lookup, const std::vector<crypto::CertInfo>& served,
                      const dns::ChainLinks* links) {
  TlsaVerdict v;
  if (!lookup.error.empty()) {
    v.detail = "TLSA look-up failed: " + lookup.error;
    return v;
  }
  if (lookup.records.empty()) {
    v.detail = lookup.unusable > 0
                   ? fmt::format("{} TLSA record(s) at {}, none usable", lookup.unusable, lookup.owner)
                   : fmt::format("no TLSA record at {}", lookup.owner);
    return v;
  }
  dns::ChainLinks computed;
  if (links == nullptr) {
    computed = dns::LinksOf(served);
    links = &computed;
  }
  for (const dns::TlsaRecord& r : lookup.records) {
    dns::TlsaMatch m = dns::MatchTlsa(r, served, *links);
    if (m.matched) {
      v.match = true;
      v.detail = fmt::format("TLSA {} {} {} at {} matches ({}); not DNSSEC-validated",
                             static_cast<int>(r.usage), static_cast<int>(r.selector),
                             static_cast<int>(r.mtype), lookup.owner, m.detail);
      return v;
    }
  }
  v.match = false;
  v.detail = fmt::format("none of the {} TLSA record(s) at {} matches the served chain; not "
                         "DNSSEC-validated",
                         lookup.records.size(), lookup.owner);
  return v;
}

}  // namespace bulkhead::monitor
