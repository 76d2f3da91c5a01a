// The SQLite backend of inventory/db.h.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "inventory/db.h"
#include "inventory/inventory.h"

namespace bulkhead::inventory {
namespace {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqlitePtr = std::unique_ptr<sqlite3, SqliteCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// ToSqlitePlaceholders turns $N into ?N (our queries never hold '$' in
// literals), so both dialects share one query text.
std::string ToSqlitePlaceholders(std::string_view sql) {
  std::string out(sql);
  for (char& c : out) {
    if (c == '$') {
      c = '?';
    }
  }
  return out;
}

class SqliteDb final : public Db {
 public:
  explicit SqliteDb(SqlitePtr db) : db_(std::move(db)) {}

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override {
    std::string text = ToSqlitePlaceholders(sql);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_.get(), text.c_str(), static_cast<int>(text.size()), &raw, nullptr) !=
        SQLITE_OK) {
      return Failure("preparing", sql);
    }
    StmtPtr stmt(raw);
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(stmt.get(), idx, *n);
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        rc = sqlite3_bind_text(stmt.get(), idx, s->data(), static_cast<int>(s->size()),
                               SQLITE_TRANSIENT);
      } else {
        rc = sqlite3_bind_null(stmt.get(), idx);
      }
      if (rc != SQLITE_OK) {
        return Failure("binding", sql);
      }
    }
    std::vector<Row> rows;
    while (true) {
      int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) {
        return rows;
      }
      if (rc != SQLITE_ROW) {
        return Failure("running", sql);
      }
      int n = sqlite3_column_count(stmt.get());
      Row row;
      row.reserve(static_cast<size_t>(n));
      for (int c = 0; c < n; ++c) {
        if (sqlite3_column_type(stmt.get(), c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
          continue;
        }
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), c));
        int len = sqlite3_column_bytes(stmt.get(), c);
        row.emplace_back(std::string(p == nullptr ? "" : p, static_cast<size_t>(len)));
      }
      rows.push_back(std::move(row));
    }
  }

  Status ExecScript(std::string_view sql) override {
    std::string text(sql);
    char* msg = nullptr;
    if (sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = msg == nullptr ? sqlite3_errmsg(db_.get()) : msg;
      sqlite3_free(msg);
      return Err("sqlite: {}: {}", FirstWords(sql), m);
    }
    return OkStatus();
  }

  Status BeginWrite() override {
    BH_TRY(Query("BEGIN IMMEDIATE", {}));
    return OkStatus();
  }

 private:
  Error Failure(std::string_view what, std::string_view sql) {
    int code = sqlite3_extended_errcode(db_.get());
    Error e = Err("sqlite: {} {}: {}", what, FirstWords(sql), sqlite3_errmsg(db_.get()));
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
      e.code = ErrorCode::kUsage;
    }
    return e;
  }

  SqlitePtr db_;
};

}  // namespace

Result<std::unique_ptr<Db>> OpenSqliteDb(const std::string& path) {
  // Create the file ourselves so its mode is 0600 whatever the umask: the
  // inventory lists what an operator runs.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Err("opening inventory {}: {}", path, std::strerror(errno));
  }
  ::close(fd);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW,
                           nullptr);
  SqlitePtr db(raw);
  if (rc != SQLITE_OK) {
    return Err("opening inventory {}: {}", path,
               raw == nullptr ? sqlite3_errstr(rc) : sqlite3_errmsg(raw));
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  auto out = std::make_unique<SqliteDb>(std::move(db));
  // WAL lets readers (the dashboard) proceed while a monitor run writes;
  // foreign keys make RemoveEndpoint cascade to history.
  BH_TRY(out->ExecScript("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;"));
  return std::unique_ptr<Db>(std::move(out));
}

}  // namespace bulkhead::inventory
