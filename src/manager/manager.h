// Managing one certificate: what `issue` produced, and inspecting what is
// on disk. Issuing itself is in manager/issue_run.h.
#ifndef BULKHEAD_MANAGER_MANAGER_H_
#define BULKHEAD_MANAGER_MANAGER_H_

#include <optional>
#include <string>

#include "crypto/x509.h"
#include "ipc/messages.h"
#include "manager/session.h"
#include "manager/settings.h"
#include "renew/ari.h"
#include "renew/policy.h"
#include "sandbox/identity.h"
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
  std::optional<renew::AriState> ari;  // ari.json, when it is about the live leaf.
  bool revoked = false;  // The live leaf is the one `revoke` revoked.
};

// kRevokedNotRenewed is the decision's reason for a revoked certificate that
// `renew` leaves alone (revoked without --reissue): what to do instead.
inline constexpr char kRevokedNotRenewed[] =
    "revoked, not renewed (revoke --reissue, or issue again, or delete)";

// DueRule is when a certificate counts as due, as renew::Decide takes it:
// `days` >= 0 means when fewer than that many days remain, -1 the lifetime
// rule; `force` means at once. The default is the rule `renew` applies
// without flags.
struct DueRule {
  int days = -1;
  bool force = false;
};

// InspectCertificate loads settings and the live leaf and decides whether it
// is due at `now` under `rule` (see renew::Decide; a missing certificate is
// always due; a revoked one only after `revoke --reissue` or with
// rule.force, else it is not due with the reason kRevokedNotRenewed). Fails when the settings cannot be read or the
// live set is unreadable for a reason other than being absent.
Result<CertState> InspectCertificate(const store::CertStore& certs, std::string_view name,
                                     int64_t now, const DueRule& rule = {});

// AriPath is <certs>/<name>/ari.json: the CA's renewal window for the live
// certificate and the renewal time chosen in it (renew/ari.h). The parent
// writes it from the checked numbers the net role sends; nothing the CA
// sent is parsed outside the net role.
std::string AriPath(const store::CertStore& certs, std::string_view name);

// FetchRenewalInfo asks the CA for the renewal window of `cert_id` from a
// sandboxed net role (roles/net.h). supported=false when the CA's
// directory has no renewalInfo. Fails on any network, HTTP or parse error.
// With `run_as` (as root), the role switches to that user in its sandbox.
Result<ipc::RenewalInfoMsg> FetchRenewalInfo(
    const CaConfig& ca, const std::string& cert_id, bool require_full_sandbox,
    const std::optional<sandbox::RunAs>& run_as = std::nullopt);

// RefreshRenewalInfo updates `state` (a live certificate) from the CA when
// its ari.json is missing, about another certificate, or past its
// next_check (Retry-After); stores ari.json and recomputes the decision
// (`days`, `force` as in DueRule). A failed check is stored
// (retried after six hours) and leaves the lifetime rule or the old window
// in force; only a failure to write ari.json is returned.
Status RefreshRenewalInfo(const store::CertStore& certs, const CaConfig& ca, CertState* state,
                          int64_t now, int days, bool force, bool require_full_sandbox,
                          const std::optional<sandbox::RunAs>& run_as = std::nullopt);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_MANAGER_H_
