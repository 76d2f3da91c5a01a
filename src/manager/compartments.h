// Issuing with every role in its own sandboxed process (the default). The
// parent only starts the roles, hands the keys role's CSR to the net role,
// and collects the result and exit statuses; it never parses what the CA
// sent. See docs/COMPARTMENTS.md.
//
//   parent ──keys (CSR; key stays in pending/)
//      └──net ──signer (account key)
//              ├─challenge (challenge directory or listener)
//              └─store (certificate directory)
#ifndef BULKHEAD_MANAGER_COMPARTMENTS_H_
#define BULKHEAD_MANAGER_COMPARTMENTS_H_

#include <string>

#include "manager/manager.h"
#include "manager/session.h"
#include "manager/settings.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::manager {

// IssueInCompartments does what IssueCertificate does, split across role
// processes. `state_dir` locates the account; `require_full_sandbox` turns
// any feature the kernel lacks into a failure instead of a warning.
Result<IssueOutcome> IssueInCompartments(const std::string& state_dir, const CaConfig& ca,
                                         const store::CertStore& certs,
                                         const CertSettings& settings, bool fresh_key,
                                         bool require_full_sandbox);

// ReportSandboxGapsOnce prints, once per process, what the kernel cannot
// enforce (so a weaker sandbox is never silent). Returns an error if
// `require_full` and anything is missing.
Status ReportSandboxGapsOnce(bool require_full);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_COMPARTMENTS_H_
