// Gate: the ledger as one order uses it. The manager opens a Gate before it
// starts the roles (refusing an order that would exceed a limit, before any
// traffic to the CA), then records what the order spent.
#ifndef BULKHEAD_LEDGER_GATE_H_
#define BULKHEAD_LEDGER_GATE_H_

#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "util/result.h"

namespace bulkhead::ledger {

// LedgerPath / LimitsPath are <state-dir>/ledger.sqlite and
// <state-dir>/limits.json.
std::string LedgerPath(const std::string& state_dir);
std::string LimitsPath(const std::string& state_dir);

// GateOptions are the per-run exceptions.
struct GateOptions {
  bool ignore_ledger = false;  // --ignore-ledger: check, warn, go ahead.
  bool ari_exempt = false;     // An ARI renewal inside the window: the CA exempts it.
};

class Gate {
 public:
  // Open checks `identifiers` for `scope` at `now`. It fails (naming each
  // limit and when it frees up) if the order would exceed a limit, unless
  // options say otherwise; an unusable ledger or limits file is an error
  // too, except with ignore_ledger (then the Gate records nothing).
  static Result<Gate> Open(const std::string& state_dir, const Scope& scope,
                           const std::vector<std::string>& identifiers, int64_t now,
                           const GateOptions& options);

  // RecordOrder, RecordFailures and RecordIssued write what happened at
  // `at`; a failure to write is logged, not returned: the certificate
  // matters more than the bookkeeping.
  void RecordOrder(int64_t at);
  void RecordFailures(const std::vector<std::string>& identifiers, int64_t at);
  void RecordIssued(int64_t at);

 private:
  Gate(std::optional<Ledger> ledger, Scope scope, std::vector<std::string> identifiers)
      : ledger_(std::move(ledger)), scope_(std::move(scope)), identifiers_(std::move(identifiers)) {}
  std::optional<Ledger> ledger_;
  Scope scope_;
  std::vector<std::string> identifiers_;
};

}  // namespace bulkhead::ledger

#endif  // BULKHEAD_LEDGER_GATE_H_
