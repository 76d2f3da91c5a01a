#include "ledger/gate.h"

#include "util/log.h"

namespace bulkhead::ledger {

std::string LedgerPath(const std::string& state_dir) { return state_dir + "/ledger.sqlite"; }
std::string LimitsPath(const std::string& state_dir) { return state_dir + "/limits.json"; }

Result<Gate> Gate::Open(const std::string& state_dir, const Scope& scope,
                        const std::vector<std::string>& identifiers, int64_t now,
                        const GateOptions& options) {
  auto fail_or_warn = [&](const Error& e) -> Result<Gate> {
    if (!options.ignore_ledger) {
      Error out = e;
      out.message += " (--ignore-ledger orders anyway)";
      return out;
    }
    LogWarn("--ignore-ledger: {}; ordering without the rate-limit ledger", e.message);
    return Gate(std::nullopt, scope, identifiers);
  };
  auto limits = LoadLimits(LimitsPath(state_dir), scope.ca);
  if (!limits.ok()) {
    return fail_or_warn(limits.error());
  }
  auto ledger = Ledger::Open(LedgerPath(state_dir));
  if (!ledger.ok()) {
    return fail_or_warn(ledger.error());
  }
  if (!options.ari_exempt) {
    BH_ASSIGN(std::vector<Refusal> refusals, ledger->Check(*limits, scope, identifiers, now));
    if (!refusals.empty()) {
      std::string why;
      for (const Refusal& r : refusals) {
        why += "\n  " + DescribeRefusal(r);
      }
      if (!options.ignore_ledger) {
        return Err(
            "not ordering: the CA would refuse this order (limits from {}):{}\n  "
            "--ignore-ledger orders anyway",
            limits->source, why);
      }
      LogWarn("--ignore-ledger: ordering although the ledger says the CA will refuse it:{}", why);
    }
  } else {
    LogInfo("renewing inside the CA's ARI window: exempt from rate limits");
  }
  return Gate(std::move(ledger).value(), scope, identifiers);
}

void Gate::RecordOrder(int64_t at) {
  if (ledger_) {
    Status st = ledger_->RecordOrder(scope_, identifiers_, at);
    if (!st.ok()) {
      LogWarn("{}", st.error().message);
    }
  }
}

void Gate::RecordFailures(const std::vector<std::string>& identifiers, int64_t at) {
  if (!ledger_) {
    return;
  }
  for (const std::string& i : identifiers) {
    Status st = ledger_->RecordFailedAuthorization(scope_, i, at);
    if (!st.ok()) {
      LogWarn("{}", st.error().message);
    }
  }
}

void Gate::RecordIssued(int64_t at) {
  if (ledger_) {
    Status st = ledger_->RecordIssuance(scope_, identifiers_, at);
    if (!st.ok()) {
      LogWarn("{}", st.error().message);
    }
  }
}

}  // namespace bulkhead::ledger
