#include "inventory/db.h"

#include <charconv>

namespace bulkhead::inventory {

Transaction::~Transaction() {
  if (open_) {
    // Best effort: a failed rollback leaves the connection to be reset by
    // the server when it closes; nothing useful to report from here.
    (void)db_.Query("ROLLBACK", {});
  }
}

Status Transaction::Begin() {
  BH_TRY(db_.BeginWrite());
  open_ = true;
  return OkStatus();
}

Status Transaction::Commit() {
  BH_TRY(db_.Query("COMMIT", {}));
  open_ = false;
  return OkStatus();
}

std::string FirstWords(std::string_view sql) {
  size_t start = sql.find_first_not_of(" \n\t");
  if (start == std::string_view::npos) {
    return "";
  }
  std::string out(sql.substr(start, 40));
  for (char& c : out) {
    if (c == '\n') {
      c = ' ';
    }
  }
  return out;
}

int64_t ParseInt64(const std::optional<std::string>& column) {
  if (!column) {
    return 0;
  }
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(column->data(), column->data() + column->size(), v);
  if (ec != std::errc() || ptr != column->data() + column->size()) {
    return 0;
  }
  return v;
}

}  // namespace bulkhead::inventory
