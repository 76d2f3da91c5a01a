#include "dns/dane_observe.h"

#include <algorithm>

namespace bulkhead::dns {

bool RecordNamesSpki(const TlsaRecord& record, std::string_view spki_der) {
  if (record.usage != TlsaUsage::kDaneEe || record.selector != TlsaSelector::kSpki ||
      spki_der.empty()) {
    return false;
  }
  crypto::CertInfo holder;
  holder.public_key_der = std::string(spki_der);
  auto expected = AssociationData(holder, record.selector, record.mtype);
  return expected.ok() && *expected == record.data;
}

Result<TlsaRecord> ParseTlsaWire(std::string_view rdata) {
  if (rdata.size() < 4) {
    return Err("TLSA RDATA of {} bytes is too short", rdata.size());
  }
  auto byte = [&](size_t i) { return static_cast<uint8_t>(rdata[i]); };
  if (byte(0) > 3 || byte(1) > 1 || byte(2) > 2) {
    return Err("TLSA parameters {} {} {} are not known", byte(0), byte(1), byte(2));
  }
  TlsaRecord record;
  record.usage = static_cast<TlsaUsage>(byte(0));
  record.selector = static_cast<TlsaSelector>(byte(1));
  record.mtype = static_cast<TlsaMatching>(byte(2));
  record.data = std::string(rdata.substr(3));
  return record;
}

namespace {

// ServersFor returns who is asked about `owner`.
Result<std::vector<NamedServer>> ServersFor(const std::string& owner, const TlsaLookup& lookup) {
  if (lookup.resolver) {
    return std::vector<NamedServer>{NamedServer{lookup.resolver->ToString(), *lookup.resolver}};
  }
  BH_ASSIGN(std::vector<Server> system, SystemResolvers(lookup.resolv_conf));
  QueryOptions q = lookup.query;
  q.recursion_desired = true;
  auto found = FindAuthoritative(system.front(), owner, q);
  if (!found.ok()) {
    return found.error().Wrap(fmt::format("finding the authoritative servers of {}", owner));
  }
  return found;
}

}  // namespace

Result<Publication> ObservePublished(const std::vector<std::string>& owners,
                                     std::string_view spki_der, const TlsaLookup& lookup) {
  Publication out;
  out.published = true;
  size_t asked = 0;
  for (const std::string& owner : owners) {
    BH_ASSIGN(std::vector<NamedServer> servers, ServersFor(owner, lookup));
    for (const NamedServer& s : servers) {
      QueryOptions q = lookup.query;
      q.recursion_desired = lookup.resolver.has_value();
      auto response = Query(s.server, owner, kTypeTlsa, q);
      if (!response.ok()) {
        return response.error().Wrap(fmt::format("looking up TLSA {}", owner));
      }
      if (response->rcode != kRcodeNoError && response->rcode != kRcodeNxDomain) {
        return Err("looking up TLSA {} at {}: response code {}", owner, s.server.ToString(),
                   response->rcode);
      }
      ++asked;
      size_t records = 0;
      bool found = false;
      for (const Record& r : response->answer) {
        if (r.type != kTypeTlsa || r.owner != Canonical(owner)) {
          continue;
        }
        ++records;
        out.ttl = std::max(out.ttl, r.ttl);
        auto record = ParseTlsaWire(r.rdata);
        found = found || (record.ok() && RecordNamesSpki(*record, spki_der));
      }
      if (!found && out.published) {
        out.published = false;
        out.detail = fmt::format("{} at {} ({}) serves {} TLSA record(s), none for the key",
                                 owner, s.server.ToString(), s.name, records);
      }
    }
  }
  if (out.published) {
    out.detail = fmt::format("served for {} endpoint(s) by {} server answer(s), TTL {}",
                             owners.size(), asked, out.ttl);
  }
  return out;
}

}  // namespace bulkhead::dns
