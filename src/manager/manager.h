// Managing one certificate: issue (or re-issue) it, and inspect it.
// The CLI commands issue/renew/list/revoke are thin layers over this.
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

// IssueOutcome describes the newly live certificate.
struct IssueOutcome {
  int version = 0;
  std::string live_dir;  // <certs>/<name>/live
  crypto::CertInfo leaf;
};

// IssueCertificate runs one order for `settings` and commits the result.
// It takes the certificate's lock (failing at once if another run holds
// it), prepares the key (reusing the live key when settings.reuse_key and
// !fresh_key), publishes http-01 tokens as settings say, and stores the
// checked chain with its key as a new live version. On any failure the live
// set is untouched and no token file remains. Settings are saved only after
// success.
Result<IssueOutcome> IssueCertificate(Session& session, const store::CertStore& certs,
                                      const CertSettings& settings, bool fresh_key);

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
