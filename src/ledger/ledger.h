// The rate-limit ledger: every order, issuance and failed authorization
// this state directory caused, per CA and account, in one small SQLite file
// (<state-dir>/ledger.sqlite), so that bulkhead can refuse an order that the
// CA would refuse anyway before it spends anything.
//
// Only the manager process (the parent of the sandboxed roles) opens the
// ledger: the net role cannot write files, so the parent checks before an
// order starts and records what the net role reports after it ends.
#ifndef BULKHEAD_LEDGER_LEDGER_H_
#define BULKHEAD_LEDGER_LEDGER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ledger/limits.h"
#include "util/result.h"

struct sqlite3;

namespace bulkhead::ledger {

// Scope is who spends: the CA's directory URL and the account URL.
struct Scope {
  std::string ca;
  std::string account;
};

// Refusal is one limit an order would exceed.
struct Refusal {
  LimitKind kind;
  std::string subject;  // The account, registered domain, identifier set or identifier.
  int used = 0;         // Events inside the window now.
  Limit limit;
  int64_t frees_at = 0;  // Earliest Unix time one more event fits.
};

// DescribeRefusal renders a refusal for an error message.
std::string DescribeRefusal(const Refusal& r);

// DomainBudget is `limits` output for one registered domain.
struct DomainBudget {
  std::string domain;
  int issued = 0;          // Certificates in the window (renewals included).
  int remaining = 0;       // New certificates still allowed now.
  int64_t frees_at = 0;    // When the next one frees up; 0 if none is used.
};

// AccountBudget is `limits` output for one account.
struct AccountBudget {
  Scope scope;
  int orders = 0;
  int remaining = 0;
  int64_t frees_at = 0;
  std::vector<std::pair<std::string, int>> failed_authz;  // Identifier, count in window.
};

// Ledger owns an open ledger database. Move-only; closes on destruction.
class Ledger {
 public:
  // Open opens (creating, mode 0600) the ledger at `path`, in WAL mode with
  // a busy timeout so concurrent runs wait for each other, and migrates the
  // schema. Fails if the file is not a ledger or is newer than this build.
  static Result<Ledger> Open(const std::string& path);

  Ledger(Ledger&&) noexcept;
  Ledger& operator=(Ledger&&) noexcept;
  ~Ledger();

  // RecordOrder / RecordIssuance record one new order / one certificate
  // for `identifiers` at `at` (Unix seconds). RecordFailedAuthorization
  // records one failed authorization for `identifier`.
  Status RecordOrder(const Scope& scope, const std::vector<std::string>& identifiers, int64_t at);
  Status RecordIssuance(const Scope& scope, const std::vector<std::string>& identifiers,
                        int64_t at);
  Status RecordFailedAuthorization(const Scope& scope, const std::string& identifier, int64_t at);

  // Check returns every limit a new order for `identifiers` at `now` would
  // exceed (empty: go ahead). A renewal (an identifier set this CA issued
  // before, per the ledger) is not counted against the per-domain limit,
  // as Let's Encrypt does not count it.
  Result<std::vector<Refusal>> Check(const Limits& limits, const Scope& scope,
                                     const std::vector<std::string>& identifiers, int64_t now);

  // Domains returns the per-registered-domain budget at `now` for every
  // domain the ledger saw certificates for within the window, for `ca`
  // (every CA when empty).
  Result<std::vector<DomainBudget>> Domains(const Limits& limits, const std::string& ca,
                                            int64_t now);

  // Accounts returns the per-account budget at `now` for every account with
  // events in the ledger.
  Result<std::vector<AccountBudget>> Accounts(const Limits& limits, int64_t now);

  // kSchemaVersion is the version this build writes.
  static constexpr int kSchemaVersion = 1;

 private:
  explicit Ledger(sqlite3* db) : db_(db) {}
  Status Record(std::string_view kind, const Scope& scope,
                const std::vector<std::string>& identifiers, int64_t at);

  sqlite3* db_ = nullptr;
};

// CanonicalIdentifierSet returns the identifiers lower-cased, deduplicated,
// sorted and joined by ",": how duplicates are recognised.
std::string CanonicalIdentifierSet(const std::vector<std::string>& identifiers);

// FreesAt returns when one more event fits under `limit`, given the times
// of the events inside the window (ascending): 0 when one fits already.
int64_t FreesAt(const std::vector<int64_t>& times, const Limit& limit);

}  // namespace bulkhead::ledger

#endif  // BULKHEAD_LEDGER_LEDGER_H_
