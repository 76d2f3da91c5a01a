// Managing one certificate: what `issue` produced, and inspecting what is
// on disk. Issuing itself is in manager/compartments.h.
#ifndef BULKHEAD_MANAGER_MANAGER_H_
#define BULKHEAD_MANAGER_MANAGER_H_

#include <optional>
#include <string>

#include "crypto/x509.h"
#include "manager/session.h"
#include "manager/settings.h"
#include "renew/policy.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::manager {

// IssueOutcome describes the newly live certificate (IssueInCompartments).
struct IssueOutcome {
  int version = 0;
  std::string live_dir;  // <certs>/<name>/live
  crypto::CertInfo leaf;
};

// CertState is one managed certificate as seen on disk.
struct CertState {
  CertSettings settings;
  std::optional<store::LiveSet> live;  // Absent if never issued.
  std::optional<crypto::CertInfo> leaf;
  renew::RenewalDecision decision;
};

// InspectCertificate loads settings and the live leaf and decides whether it
// is due at `now` (see renew::Decide; a revoked or missing certificate is
// always due).
Result<CertState> InspectCertificate(const store::CertStore& certs, std::string_view name,
                                     int64_t now, int days, bool force);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_MANAGER_H_
