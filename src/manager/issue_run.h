// Running one issuance with every role in its own sandboxed process (the
// default): the parent reads what the plan needs, plans it
// (manager/issue_plan.h), starts the roles, hands the keys role's CSR to the
// net role, and records the result and exit statuses; it never parses what
// the CA sent. See docs/COMPARTMENTS.md.
//
//   parent ──keys (CSR; key stays in pending/)
//      └──net ──signer (account key)
//              ├─challenge (challenge directory or listener)
//              └─store (certificate directory)
#ifndef BULKHEAD_MANAGER_ISSUE_RUN_H_
#define BULKHEAD_MANAGER_ISSUE_RUN_H_

#include <optional>
#include <cstdint>
#include <string>
#include <vector>

#include "manager/manager.h"
#include "manager/session.h"
#include "manager/settings.h"
#include "roles/compartments.h"
#include "sandbox/identity.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::manager {

// IssueInCompartments runs one order for `settings` and commits the result.
// It takes the certificate's lock (failing at once if another run holds
// it); the keys role prepares the key as `key` says (KeyChoiceFor gives the
// usual choice; the pending key whenever an interrupted order resumes); the
// net role orders, answers http-01 through the challenge role, checks the
// chain and has the store role commit it. On any failure the live set is
// untouched and no token file remains; an order that reached the CA stays
// resumable. `state_dir` locates the account; `require_full_sandbox` turns
// any feature the kernel lacks into a failure instead of a warning.
//
// With `run_as` (only when running as root), every role switches to that
// user as it enters its sandbox. The certificate directory (and a webroot's
// acme-challenge directory) are given to that user first; a challenge
// directory or CA bundle the user could not use is an error naming it. A
// standalone listener on a port below 1024 keeps its role root (sandboxed
// all the same), since only root may bind there.
Result<IssueOutcome> IssueInCompartments(
    const std::string& state_dir, const CaConfig& ca, const store::CertStore& certs,
    const CertSettings& settings, roles::KeyChoice key, bool require_full_sandbox,
    const std::optional<sandbox::RunAs>& run_as = std::nullopt);

// KeyChoiceFor is the key a certificate without TLSA records uses: the live
// key with --reuse-key (unless `fresh_key`, e.g. after keyCompromise), else
// a new one. Certificates with TLSA records ask manager/dane.h instead.
roles::KeyChoice KeyChoiceFor(const CertSettings& settings, bool fresh_key);

// ReportSandboxGapsOnce prints, once per process, what the kernel cannot
// enforce (so a weaker sandbox is never silent). Returns an error if
// `require_full` and anything is missing.
Status ReportSandboxGapsOnce(bool require_full);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_ISSUE_RUN_H_
