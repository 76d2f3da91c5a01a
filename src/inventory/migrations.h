// Numbered schema migrations, shared by both backends. To change the schema,
// append a migration with the next number; never edit an applied one. Later
// features (a shared rate-limit ledger, renewal locks for a fleet) add their
// tables the same way.
#ifndef BULKHEAD_INVENTORY_MIGRATIONS_H_
#define BULKHEAD_INVENTORY_MIGRATIONS_H_

#include <span>
#include <string>
#include <string_view>

#include "inventory/db.h"
#include "util/result.h"

namespace bulkhead::inventory {

// Migration is one step. `sql` is portable SQL in which "{id}" stands for an
// auto-assigned 64-bit primary key column type, the one construct the two
// dialects spell differently.
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// Migrations returns the inventory's migrations in order (versions 1..n).
std::span<const Migration> Migrations();

// RenderMigration substitutes the dialect's spelling of "{id}".
std::string RenderMigration(std::string_view sql, Dialect dialect);

// ApplyMigrations brings `db` up to the last of `migrations` (ordered by
// version), each step in its own transaction together with its row in
// schema_version; concurrent openers of one PostgreSQL database serialise on
// an advisory lock. Fails, changing nothing more, if a step fails or the
// database is already at a version newer than the last one known.
Status ApplyMigrations(Db& db, std::span<const Migration> migrations, int64_t now);

// CurrentSchemaVersion returns the highest applied version (0 if none).
Result<int> CurrentSchemaVersion(Db& db);

}  // namespace bulkhead::inventory

#endif  // BULKHEAD_INVENTORY_MIGRATIONS_H_
