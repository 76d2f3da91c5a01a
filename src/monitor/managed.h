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
// served leaf is that certificate, or an older one (a server not reloaded
// after a renewal).
struct ManagedMatch {
  std::string name;   // Managed certificate name (directory under certs/).
  bool equal = false;
  // Not equal, and the served leaf was issued or expires before the managed
  // one: the deployment of the managed certificate failed.
  bool served_older = false;
  std::string managed_serial_hex;  // The managed live leaf's serial and expiry,
  int64_t managed_not_after = 0;   // for messages.
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
  // equal=false (served_older set as ManagedMatch says); nullopt if none
  // covers `host`.
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
