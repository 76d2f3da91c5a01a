#include "ledger/ledger.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "crypto/x509.h"
#include "util/text.h"

namespace bulkhead::ledger {
namespace {

// kBusyTimeoutMs: two runs (a cron renew and a manual issue) may touch the
// ledger at once; each transaction is milliseconds long, so waiting beats
// failing.
constexpr int kBusyTimeoutMs = 10000;

// kKeepSeconds: events older than this can no longer matter to any limit
// a limits.json may set (windows are capped at a year), so they are pruned.
constexpr int64_t kKeepSeconds = 400LL * 86400;

// Migrations[i] brings the schema from version i to i + 1.
constexpr const char* kMigrations[] = {
    // 0 -> 1: events and the names each one covers.
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('order', 'issued', 'failed_authz')),"
    "  ca TEXT NOT NULL,"
    "  account TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  idset TEXT NOT NULL);"
    "CREATE INDEX events_by_kind ON events (kind, ca, at);"
    "CREATE TABLE event_domains ("
    "  event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,"
    "  domain TEXT NOT NULL,"
    "  PRIMARY KEY (event_id, domain));"
    "CREATE INDEX event_domains_by_domain ON event_domains (domain);",
};
static_assert(std::size(kMigrations) == Ledger::kSchemaVersion);

// Stmt owns a prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK && stmt_ != nullptr; }
  void Bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  // Step returns SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t != nullptr ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

Error DbError(sqlite3* db, std::string_view what) {
  return Err("rate-limit ledger: {}: {}", what, sqlite3_errmsg(db));
}

Status Exec(sqlite3* db, const char* sql, std::string_view what) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg != nullptr ? msg : "unknown error";
    sqlite3_free(msg);
    return Err("rate-limit ledger: {}: {}", what, m);
  }
  return OkStatus();
}

// Times runs `sql` (whose first column is a time) with text parameters
// `params` then `since` last, and returns the times ascending.
Result<std::vector<int64_t>> Times(sqlite3* db, const char* sql,
                                   const std::vector<std::string>& params, int64_t since) {
  Stmt st(db, sql);
  if (!st.ok()) {
    return DbError(db, "preparing a query");
  }
  int i = 1;
  for (const std::string& p : params) {
    st.Bind(i++, p);
  }
  st.Bind(i, since);
  std::vector<int64_t> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    out.push_back(st.Int(0));
  }
  if (rc != SQLITE_DONE) {
    return DbError(db, "reading events");
  }
  std::sort(out.begin(), out.end());
  return out;
}

constexpr const char* kOrdersSql =
    "SELECT at FROM events WHERE kind = 'order' AND ca = ?1 AND account = ?2 AND at > ?3";
constexpr const char* kDomainSql =
    "SELECT e.at FROM events e JOIN event_domains d ON d.event_id = e.id "
    "WHERE e.kind = 'issued' AND e.ca = ?1 AND d.domain = ?2 AND e.at > ?3";
constexpr const char* kDuplicateSql =
    "SELECT at FROM events WHERE kind = 'issued' AND ca = ?1 AND idset = ?2 AND at > ?3";
constexpr const char* kFailedSql =
    "SELECT at FROM events WHERE kind = 'failed_authz' AND ca = ?1 AND account = ?2 "
    "AND idset = ?3 AND at > ?4";

}  // namespace

std::string DescribeRefusal(const Refusal& r) {
  return fmt::format("{} for {}: {} of {} used in the last {}; the next one frees up at {}",
                     LimitTitle(r.kind), r.subject, r.used, r.limit.max,
                     r.limit.window_seconds % 86400 == 0
                         ? fmt::format("{} days", r.limit.window_seconds / 86400)
                         : fmt::format("{} hours", (r.limit.window_seconds + 3599) / 3600),
                     crypto::FormatTime(r.frees_at));
}

std::string CanonicalIdentifierSet(const std::vector<std::string>& identifiers) {
  std::set<std::string> set;
  for (const std::string& i : identifiers) {
    set.insert(AsciiLower(i));
  }
  std::string out;
  for (const std::string& i : set) {
    out += (out.empty() ? "" : ",") + i;
  }
  return out;
}

int64_t FreesAt(const std::vector<int64_t>& times, const Limit& limit) {
  if (limit.max <= 0) {
    return 0;
  }
  size_t n = times.size();
  size_t max = static_cast<size_t>(limit.max);
  if (n < max) {
    return 0;
  }
  // After the oldest n - max + 1 events leave the window, max - 1 remain.
  return times[n - max] + limit.window_seconds;
}

Result<Ledger> Ledger::Open(const std::string& path) {
  // Created 0600 up front: the ledger names every certificate we asked for.
  {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      return Err("rate-limit ledger: opening {}: {}", path, std::strerror(errno));
    }
    ::close(fd);
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW,
                           nullptr);
  Ledger ledger(raw);  // Owns raw even on failure.
  if (rc != SQLITE_OK) {
    return Err("rate-limit ledger: opening {}: {}", path,
               raw != nullptr ? sqlite3_errmsg(raw) : "out of memory");
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  // No checkpoint when the connection closes: the write-ahead log is folded
  // into the database by SQLite's automatic checkpoints instead, so a short
  // run does not end with a checkpoint and its fsyncs.
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  // synchronous = NORMAL: in WAL mode a commit is then not fsynced (only
  // checkpoints are). A crash of the process loses nothing; a power loss
  // can lose the last few entries, which makes the count a little low until
  // the CA's own answer corrects it. Worth it: issuance commits three or four
  // times, and each fdatasync sat on the path to the exit.
  BH_TRY(Exec(raw, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
              "setting up " + path));
  BH_TRY(Exec(raw, "BEGIN IMMEDIATE", "locking " + path));
  int version = 0;
  {
    Stmt st(raw, "PRAGMA user_version");
    if (!st.ok() || st.Step() != SQLITE_ROW) {
      (void)Exec(raw, "ROLLBACK", "rollback");
      return Err("rate-limit ledger: {} is not an SQLite database", path);
    }
    version = static_cast<int>(st.Int(0));
  }
  if (version > kSchemaVersion) {
    (void)Exec(raw, "ROLLBACK", "rollback");
    return Err("rate-limit ledger: {} has schema version {}, newer than this bulkhead ({})", path,
               version, kSchemaVersion);
  }
  for (int v = version; v < kSchemaVersion; ++v) {
    Status st = Exec(raw, kMigrations[v], fmt::format("migrating {} to version {}", path, v + 1));
    if (!st.ok()) {
      (void)Exec(raw, "ROLLBACK", "rollback");
      return st.error();
    }
  }
  if (version == kSchemaVersion) {
    // Nothing to migrate: leave the file as it was (a run that records
    // nothing must not change the state directory).
    BH_TRY(Exec(raw, "ROLLBACK", "releasing " + path));
    return ledger;
  }
  std::string set_version = fmt::format("PRAGMA user_version = {}", kSchemaVersion);
  BH_TRY(Exec(raw, set_version.c_str(), "recording the schema version"));
  BH_TRY(Exec(raw, "COMMIT", "committing the schema"));
  return ledger;
}

Ledger::Ledger(Ledger&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }

Ledger& Ledger::operator=(Ledger&& o) noexcept {
  if (this != &o) {
    sqlite3_close_v2(db_);
    db_ = o.db_;
    o.db_ = nullptr;
  }
  return *this;
}

Ledger::~Ledger() { sqlite3_close_v2(db_); }

Status Ledger::Record(std::string_view kind, const Scope& scope,
                      const std::vector<std::string>& identifiers, int64_t at) {
  BH_TRY(Exec(db_, "BEGIN IMMEDIATE", "starting a transaction"));
  auto fail = [&](std::string_view what) {
    Error e = DbError(db_, what);
    (void)Exec(db_, "ROLLBACK", "rollback");
    return e;
  };
  {
    Stmt ins(db_, "INSERT INTO events (kind, ca, account, at, idset) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!ins.ok()) {
      return fail("preparing an insert");
    }
    ins.Bind(1, kind);
    ins.Bind(2, scope.ca);
    ins.Bind(3, scope.account);
    ins.Bind(4, at);
    ins.Bind(5, CanonicalIdentifierSet(identifiers));
    if (ins.Step() != SQLITE_DONE) {
      return fail("recording an event");
    }
  }
  int64_t id = sqlite3_last_insert_rowid(db_);
  std::set<std::string> domains;
  for (const std::string& i : identifiers) {
    domains.insert(RegisteredDomain(i));
  }
  for (const std::string& d : domains) {
    Stmt ins(db_, "INSERT INTO event_domains (event_id, domain) VALUES (?1, ?2)");
    if (!ins.ok()) {
      return fail("preparing an insert");
    }
    ins.Bind(1, id);
    ins.Bind(2, d);
    if (ins.Step() != SQLITE_DONE) {
      return fail("recording a domain");
    }
  }
  {
    Stmt prune(db_, "DELETE FROM events WHERE at < ?1");
    if (!prune.ok()) {
      return fail("preparing the pruning");
    }
    prune.Bind(1, at - kKeepSeconds);
    if (prune.Step() != SQLITE_DONE) {
      return fail("pruning old events");
    }
  }
  return Exec(db_, "COMMIT", "committing an event");
}

Status Ledger::RecordOrder(const Scope& scope, const std::vector<std::string>& identifiers,
                           int64_t at) {
  return Record("order", scope, identifiers, at);
}

Status Ledger::RecordIssuance(const Scope& scope, const std::vector<std::string>& identifiers,
                              int64_t at) {
  return Record("issued", scope, identifiers, at);
}

Status Ledger::RecordFailedAuthorization(const Scope& scope, const std::string& identifier,
                                         int64_t at) {
  return Record("failed_authz", scope, {identifier}, at);
}

Result<std::vector<Refusal>> Ledger::Check(const Limits& limits, const Scope& scope,
                                           const std::vector<std::string>& identifiers,
                                           int64_t now) {
  std::vector<Refusal> out;
  auto consider = [&](LimitKind kind, const std::string& subject,
                      const std::vector<int64_t>& times) {
    const Limit& l = limits.Get(kind);
    int64_t frees = FreesAt(times, l);
    if (frees > now) {
      out.push_back(Refusal{kind, subject, static_cast<int>(times.size()), l, frees});
    }
  };
  auto since = [&](LimitKind kind) { return now - limits.Get(kind).window_seconds; };
  std::string idset = CanonicalIdentifierSet(identifiers);

  BH_ASSIGN(std::vector<int64_t> orders,
            Times(db_, kOrdersSql, {scope.ca, scope.account},
                  since(LimitKind::kNewOrdersPerAccount)));
  consider(LimitKind::kNewOrdersPerAccount, "account " + scope.account, orders);

  // Any earlier certificate for this exact set makes this a renewal.
  BH_ASSIGN(std::vector<int64_t> ever, Times(db_, kDuplicateSql, {scope.ca, idset}, /*since=*/0));
  if (ever.empty()) {
    std::set<std::string> domains;
    for (const std::string& i : identifiers) {
      domains.insert(RegisteredDomain(i));
    }
    for (const std::string& d : domains) {
      BH_ASSIGN(std::vector<int64_t> issued,
                Times(db_, kDomainSql, {scope.ca, d}, since(LimitKind::kCertsPerRegisteredDomain)));
      consider(LimitKind::kCertsPerRegisteredDomain, d, issued);
    }
  }

  BH_ASSIGN(std::vector<int64_t> dups,
            Times(db_, kDuplicateSql, {scope.ca, idset}, since(LimitKind::kDuplicateCertificates)));
  consider(LimitKind::kDuplicateCertificates, idset, dups);

  for (const std::string& i : std::set<std::string>(identifiers.begin(), identifiers.end())) {
    BH_ASSIGN(std::vector<int64_t> failed,
              Times(db_, kFailedSql, {scope.ca, scope.account, AsciiLower(i)},
                    since(LimitKind::kFailedAuthzPerIdentifier)));
    consider(LimitKind::kFailedAuthzPerIdentifier, AsciiLower(i), failed);
  }
  return out;
}

Result<std::vector<DomainBudget>> Ledger::Domains(const Limits& limits, const std::string& ca,
                                                  int64_t now) {
  const Limit& l = limits.certs_per_domain;
  Stmt st(db_,
          "SELECT d.domain, e.at FROM events e JOIN event_domains d ON d.event_id = e.id "
          "WHERE e.kind = 'issued' AND (?1 = '' OR e.ca = ?1) AND e.at > ?2");
  if (!st.ok()) {
    return DbError(db_, "preparing a query");
  }
  st.Bind(1, ca);
  st.Bind(2, now - l.window_seconds);
  std::map<std::string, std::vector<int64_t>> by_domain;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    by_domain[st.Text(0)].push_back(st.Int(1));
  }
  if (rc != SQLITE_DONE) {
    return DbError(db_, "reading events");
  }
  std::vector<DomainBudget> out;
  for (auto& [domain, times] : by_domain) {
    std::sort(times.begin(), times.end());
    DomainBudget b;
    b.domain = domain;
    b.issued = static_cast<int>(times.size());
    b.remaining = l.max <= 0 ? -1 : std::max(0, l.max - b.issued);
    b.frees_at = times.front() + l.window_seconds;
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<AccountBudget>> Ledger::Accounts(const Limits& limits, int64_t now) {
  Stmt st(db_, "SELECT DISTINCT ca, account FROM events ORDER BY ca, account");
  if (!st.ok()) {
    return DbError(db_, "preparing a query");
  }
  std::vector<AccountBudget> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    AccountBudget b;
    b.scope = {st.Text(0), st.Text(1)};
    out.push_back(std::move(b));
  }
  if (rc != SQLITE_DONE) {
    return DbError(db_, "reading accounts");
  }
  for (AccountBudget& b : out) {
    const Limit& l = limits.new_orders;
    BH_ASSIGN(std::vector<int64_t> orders,
              Times(db_, kOrdersSql, {b.scope.ca, b.scope.account}, now - l.window_seconds));
    b.orders = static_cast<int>(orders.size());
    b.remaining = l.max <= 0 ? -1 : std::max(0, l.max - b.orders);
    b.frees_at = orders.empty() ? 0 : orders.front() + l.window_seconds;
    Stmt f(db_,
           "SELECT idset, COUNT(*) FROM events WHERE kind = 'failed_authz' AND ca = ?1 AND "
           "account = ?2 AND at > ?3 GROUP BY idset ORDER BY idset");
    if (!f.ok()) {
      return DbError(db_, "preparing a query");
    }
    f.Bind(1, b.scope.ca);
    f.Bind(2, b.scope.account);
    f.Bind(3, now - limits.failed_authz.window_seconds);
    while ((rc = f.Step()) == SQLITE_ROW) {
      b.failed_authz.emplace_back(f.Text(0), static_cast<int>(f.Int(1)));
    }
    if (rc != SQLITE_DONE) {
      return DbError(db_, "reading failed authorizations");
    }
  }
  return out;
}

}  // namespace bulkhead::ledger
