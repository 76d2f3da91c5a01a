#include "monitor/managed.h"

#include "inventory/inventory.h"

namespace bulkhead::monitor {

ManagedCerts ManagedCerts::Load(const store::CertStore& certs) {
  ManagedCerts out;
  auto names = certs.List();
  if (!names.ok()) {
    // No store yet (nothing issued on this host) is the common case.
    return out;
  }
  for (const std::string& name : *names) {
    auto live = certs.LoadLive(name);
    if (!live.ok()) {
      if (live.error().code != ErrorCode::kNotFound) {
        out.skipped_.push_back(name);
      }
      continue;
    }
    auto leaf = crypto::ParseCertPem(live->cert_pem);
    if (!leaf.ok()) {
      out.skipped_.push_back(name);
      continue;
    }
    out.Add(name, std::move(leaf).value());
  }
  return out;
}

void ManagedCerts::Add(std::string name, crypto::CertInfo leaf) {
  entries_.push_back(Entry{std::move(name), std::move(leaf)});
}

std::optional<ManagedMatch> ManagedCerts::Compare(std::string_view host,
                                                  const crypto::CertInfo& leaf) const {
  std::optional<ManagedMatch> first;
  for (const Entry& e : entries_) {
    bool covers = false;
    for (const std::string& n : e.leaf.names) {
      if (inventory::MatchesName(n, host)) {
        covers = true;
        break;
      }
    }
    if (!covers) {
      continue;
    }
    if (e.leaf.der == leaf.der) {
      return ManagedMatch{e.name, /*equal=*/true, /*served_older=*/false, e.leaf.serial_hex,
                          e.leaf.not_after};
    }
    if (!first) {
      bool older = leaf.not_before < e.leaf.not_before || leaf.not_after < e.leaf.not_after;
      first = ManagedMatch{e.name, /*equal=*/false, older, e.leaf.serial_hex, e.leaf.not_after};
    }
  }
  return first;
}

}  // namespace bulkhead::monitor
