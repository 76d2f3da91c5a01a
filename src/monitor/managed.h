// The certificates this host manages (<state-dir>/certs/*/live/cert.pem),
// indexed by the names they cover, so that a check can tell whether an
// endpoint serves the certificate bulkhead last installed (a server that was
// never reloaded serves an older one).
#ifndef BULKHEAD_MONITOR_MANAGED_H_
#define BULKHEAD_MONITOR_MANAGED_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/x509.h"
#include "store/cert_store.h"

namespace bulkhead::monitor {

// ManagedMatch says which managed certificate covers a name and whether the
// served leaf is that certificate.
struct ManagedMatch {
  std::string name;   // Managed certificate name (directory under certs/).
  bool equal = false;
};

class ManagedCerts {
 public:
  // Load reads every live leaf in `certs`. A certificate that cannot be read
  // is skipped (and named in skipped()), since one broken directory must
  // not stop monitoring.
  static ManagedCerts Load(const store::CertStore& certs);

  // Compare finds the managed certificates covering `host` (SAN match, one
  // wildcard label). If one of them is `leaf` (same DER) that one is
  // returned with equal=true; otherwise the first covering one with
  // equal=false; nullopt if none covers `host`.
  std::optional<ManagedMatch> Compare(std::string_view host, const crypto::CertInfo& leaf) const;

  // Add indexes one certificate (used by Load and by tests).
  void Add(std::string name, crypto::CertInfo leaf);

  const std::vector<std::string>& skipped() const { return skipped_; }

 private:
  struct Entry {
    std::string name;
    crypto::CertInfo leaf;
  };
  std::vector<Entry> entries_;
  std::vector<std::string> skipped_;
};

}  // namespace bulkhead::monitor

#endif  // BULKHEAD_MONITOR_MANAGED_H_
