// The workflows behind `issue` and `renew`: everything between settings a
// front end has built and the report it prints. The CLI builds
// CertSettings from flags; a configuration file or a fleet runner would
// build them elsewhere and call the same functions. Nothing here prints:
// what happens on the way goes to a Reporter, what happened is returned.
//
//   Issue:  due check (unless forced) -> DANE key plan -> IssueInCompartments
//           -> DANE records
//   Renew:  inspect -> root's settings record -> ARI refresh (when stale)
//           -> DANE key plan -> due? -> `replaces` -> IssueInCompartments
//           -> DANE records
#ifndef BULKHEAD_MANAGER_WORKFLOW_H_
#define BULKHEAD_MANAGER_WORKFLOW_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manager/manager.h"
#include "manager/settings.h"
#include "sandbox/identity.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::manager {

// RunContext is what every workflow needs besides the certificate's
// settings: where the state lives, the time, and how roles are started.
struct RunContext {
  std::string state_dir;
  const store::CertStore* certs = nullptr;  // <state_dir>/certs; must outlive the call.
  int64_t now = 0;
  long http_timeout_ms = 30000;
  bool require_full_sandbox = false;
  // The user the roles switch to (--user), or none.
  std::optional<sandbox::RunAs> run_as;
};

// Reporter receives what a workflow has to say while it runs, in order, so
// that a front end can print it as it happens (or keep quiet with --cron).
// Contract: calls come from the calling thread, `name` is the
// certificate's name; the strings are one line each, without the name.
class Reporter {
 public:
  virtual ~Reporter() = default;
  // Progress a user running the command by hand wants to see (what DNS
  // shows for the next DANE key, why a certificate is not due).
  virtual void Info(std::string_view name, std::string_view line) = 0;
  // Something a human should look at although the run goes on (a failed
  // ARI check, a DNS error during DANE planning).
  virtual void Warning(std::string_view name, std::string_view text) = 0;
};

// WorkflowResult is what an Issue or Renew run did.
struct WorkflowResult {
  // False: nothing was ordered (the certificate exists and is not due;
  // `reason` says why). True: `outcome` is the new live certificate.
  bool issued = false;
  std::string reason;
  IssueOutcome outcome;
  // For a certificate with TLSA records, after a successful issuance: the
  // records the zone should carry now (current and next key), or the
  // error that kept them from being computed (the new certificate is live
  // all the same).
  std::vector<std::string> tlsa_records;
  std::optional<Error> dane_error;
};

// Issue obtains a certificate for `settings` (already validated) unless,
// without `force`, a live certificate for the same names exists and is not
// due. Fails as IssueInCompartments does, or if the DANE key plan cannot
// read or write dane.json; the live set is then untouched.
Result<WorkflowResult> Issue(const RunContext& ctx, const CertSettings& settings, bool force,
                             Reporter& reporter);

// RenewOptions are `renew`'s flags that change what is due and how it is
// ordered.
struct RenewOptions {
  DueRule rule;  // --days, --force.
  bool ignore_ledger = false;
  // --cron: what needs no human (a skipped pre-flight check) is logged at
  // info level, not as a warning.
  bool quiet = false;
  // --no-preflight (or BULKHEAD_NO_PREFLIGHT): no http-01 pre-flight check
  // on this run; settings.json keeps what issue recorded.
  bool skip_preflight = false;
  // --ca-bundle given on this run: replaces the recorded bundle.
  std::optional<std::string> ca_bundle;
};

// Renew renews the managed certificate `name` if it is due at ctx.now
// (asking the CA for its renewal window first when the stored answer is
// stale). Fails, with the error wrapped in `name` (or "renewing" for the
// order itself), if the settings cannot be read, do not match root's
// record, the DANE plan fails or the order fails.
Result<WorkflowResult> Renew(const RunContext& ctx, const std::string& name,
                             const RenewOptions& options, Reporter& reporter);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_WORKFLOW_H_
