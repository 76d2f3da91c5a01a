// The PostgreSQL backend of inventory/db.h (libpq, text-format parameters).
#include <libpq-fe.h>

#include <memory>

#include "inventory/db.h"
#include "inventory/inventory.h"

namespace bulkhead::inventory {
namespace {

struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultClearer {
  void operator()(PGresult* res) const { PQclear(res); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using PgResultPtr = std::unique_ptr<PGresult, ResultClearer>;

// kUniqueViolation is SQLSTATE 23505.
constexpr std::string_view kUniqueViolation = "23505";

// OneLine trims libpq's trailing newline from messages.
std::string OneLine(const char* msg) {
  std::string s = msg == nullptr ? "" : msg;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

class PgDb final : public Db {
 public:
  explicit PgDb(ConnPtr conn) : conn_(std::move(conn)) {}

  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params) override {
    std::string text(sql);
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (size_t i = 0; i < params.size(); ++i) {
      if (const auto* n = std::get_if<int64_t>(&params[i])) {
        storage[i] = std::to_string(*n);
        values[i] = storage[i].c_str();
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        values[i] = s->c_str();
      }
    }
    PgResultPtr res(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()),
                                 nullptr, values.data(), nullptr, nullptr, /*resultFormat=*/0));
    BH_TRY(Check(res.get(), sql));
    std::vector<Row> rows;
    int nrows = PQntuples(res.get());
    int ncols = PQnfields(res.get());
    rows.reserve(static_cast<size_t>(nrows));
    for (int r = 0; r < nrows; ++r) {
      Row row;
      row.reserve(static_cast<size_t>(ncols));
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res.get(), r, c)) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(PQgetvalue(res.get(), r, c),
                                       static_cast<size_t>(PQgetlength(res.get(), r, c))));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Status ExecScript(std::string_view sql) override {
    std::string text(sql);
    PgResultPtr res(PQexec(conn_.get(), text.c_str()));
    return Check(res.get(), sql);
  }

  Status BeginWrite() override {
    BH_TRY(Query("BEGIN", {}));
    return OkStatus();
  }

  // SetTimeouts bounds every statement and lock wait of this session.
  Status SetTimeouts() {
    return ExecScript(fmt::format("SET statement_timeout = {}; SET lock_timeout = {}; "
                                  "SET client_min_messages = warning",
                                  kPgStatementTimeoutMs, kPgStatementTimeoutMs));
  }

 private:
  Status Check(PGresult* res, std::string_view sql) {
    ExecStatusType st = res == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      return OkStatus();
    }
    Error e = Err("postgresql: {}: {}", FirstWords(sql),
                  OneLine(res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn_.get())));
    const char* state = res == nullptr ? nullptr : PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state != nullptr && kUniqueViolation == state) {
      e.code = ErrorCode::kUsage;
    }
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      e.code = ErrorCode::kTransient;
      // The next call gets a fresh connection instead of failing forever.
      PQreset(conn_.get());
      if (PQstatus(conn_.get()) == CONNECTION_OK) {
        (void)SetTimeouts();
      }
    }
    return e;
  }

  ConnPtr conn_;
};

}  // namespace

Result<std::unique_ptr<Db>> OpenPostgresDb(const std::string& conninfo) {
  // Defaults first, then the caller's URI (expanded) may override them.
  std::string connect_timeout = std::to_string(kPgConnectTimeoutSeconds);
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {connect_timeout.c_str(), "bulkhead", conninfo.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr) {
    return Err("postgresql: out of memory");
  }
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    // The message may echo the host but never the password.
    return ErrCode(ErrorCode::kTransient, "postgresql: connecting: {}",
                   OneLine(PQerrorMessage(conn.get())));
  }
  auto db = std::make_unique<PgDb>(std::move(conn));
  BH_TRY(db->SetTimeouts());
  return std::unique_ptr<Db>(std::move(db));
}

}  // namespace bulkhead::inventory
