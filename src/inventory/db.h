// A minimal SQL connection used by the inventory, so the same queries (and
// the same migrations) run on SQLite and PostgreSQL. Queries are written
// with PostgreSQL-style $1..$n placeholders; the SQLite backend rewrites
// them to ?1..?n. Every value is bound, never spliced into the text.
#ifndef BULKHEAD_INVENTORY_DB_H_
#define BULKHEAD_INVENTORY_DB_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.h"

namespace bulkhead::inventory {

enum class Dialect { kSqlite, kPostgres };

// Value is one bound parameter: NULL, an integer or text.
using Value = std::variant<std::monostate, int64_t, std::string>;

// Row is one result row; columns are text (integers in decimal), nullopt for
// NULL.
using Row = std::vector<std::optional<std::string>>;

// Db is one connection. Not thread-safe: the inventory serialises calls.
class Db {
 public:
  virtual ~Db() = default;

  virtual Dialect dialect() const = 0;

  // Query runs one statement with bound `params` and returns its rows; an
  // error names the failing statement's first words. A unique-constraint
  // violation is reported with ErrorCode::kUsage.
  virtual Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) = 0;

  // ExecScript runs several ';'-separated statements without parameters
  // (migrations only); returns the first error.
  virtual Status ExecScript(std::string_view sql) = 0;

  // BeginWrite starts a transaction that will write (SQLite takes the write
  // lock at once, so two writers wait instead of deadlocking).
  virtual Status BeginWrite() = 0;
};

// OpenSqliteDb opens or creates the SQLite file at `path` (mode 0600).
Result<std::unique_ptr<Db>> OpenSqliteDb(const std::string& path);

// OpenPostgresDb connects to the PostgreSQL URI `conninfo` with the
// connect and statement timeouts of inventory.h.
Result<std::unique_ptr<Db>> OpenPostgresDb(const std::string& conninfo);

// Transaction rolls back on destruction unless Commit succeeded.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Begin starts the (write) transaction; returns the database error.
  Status Begin();
  // Commit commits; on failure the destructor still rolls back.
  Status Commit();

 private:
  Db& db_;
  bool open_ = false;
};

// FirstWords returns the first 40 characters of `sql` after leading blanks,
// newlines as spaces, so an error names a statement without dumping all of
// it; "" for blank text. Never fails.
std::string FirstWords(std::string_view sql);

// ParseInt64 converts a decimal column; 0 for NULL or garbage (columns come
// from our own schema, so garbage means a broken database, not an attack).
int64_t ParseInt64(const std::optional<std::string>& column);

}  // namespace bulkhead::inventory

#endif  // BULKHEAD_INVENTORY_DB_H_
