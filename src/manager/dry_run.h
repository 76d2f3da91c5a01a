// Dry runs: a full order against the CA (Let's Encrypt's staging CA when
// the certificate comes from Let's Encrypt), stored into a scratch
// directory that is removed afterwards, so nothing live, no settings and
// no root record change. `issue --dry-run`, `renew --dry-run` and `drill`
// (every managed certificate, with the result checked) use it.
#ifndef BULKHEAD_MANAGER_DRY_RUN_H_
#define BULKHEAD_MANAGER_DRY_RUN_H_

#include <string>
#include <vector>

#include "manager/settings.h"
#include "manager/workflow.h"
#include "util/result.h"

namespace bulkhead::manager {

// DryRunServer returns the CA a dry run of `server` orders from: Let's
// Encrypt's staging directory for its production one, else `server`.
std::string DryRunServer(const std::string& server);

// DryRunResult is what a dry run obtained and what the check found.
struct DryRunResult {
  std::string server;     // Where it ordered.
  crypto::CertInfo leaf;  // What the CA issued.
  // Why the result would not be served safely (chain does not verify, key
  // does not match, names differ); empty when it is fine.
  std::vector<std::string> problems;
};

// DryRun orders a certificate for `settings` (validated) from
// DryRunServer(settings.server) into a scratch store under ctx.state_dir,
// checks it (cert.pem, fullchain.pem and the key parse and match, each
// certificate of the chain is signed by the next, the names are the
// settings' names), and removes the scratch store. The order counts in
// the rate-limit ledger like any other. Fails as Issue does, and (kUsage)
// when there is no account with the CA it would order from, saying the
// command that registers one.
Result<DryRunResult> DryRun(const RunContext& ctx, const CertSettings& settings,
                            Reporter& reporter);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_DRY_RUN_H_
