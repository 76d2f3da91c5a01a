#include "inventory/migrations.h"

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "inventory/db.h"
#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::inventory {
namespace {

// Migrations run against SQLite here; the PostgreSQL path is exercised by
// InventoryTest/Postgres, which opens through the same ApplyMigrations.
class MigrationsTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    auto db = OpenSqliteDb(dir_ + "/m.sqlite");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    TempDirTest::TearDown();
  }

  bool HasTable(const std::string& name) {
    auto rows = db_->Query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
                           {Value(name)});
    return rows.ok() && ParseInt64((*rows)[0][0]) == 1;
  }

  std::unique_ptr<Db> db_;
};

constexpr std::array<Migration, 3> kSteps = {{
    {1, "one", "CREATE TABLE t1 (id {id}, v TEXT)"},
    {2, "two", "CREATE TABLE t2 (id {id}); INSERT INTO t2 (id) VALUES (7)"},
    {3, "three (broken)", "CREATE TABLE t3 (id {id}); INSERT INTO no_such_table VALUES (1)"},
}};

TEST_F(MigrationsTest, RenderSubstitutesIdType) {
  EXPECT_EQ(RenderMigration("a {id}, b {id}", Dialect::kSqlite),
            "a INTEGER PRIMARY KEY, b INTEGER PRIMARY KEY");
  EXPECT_NE(RenderMigration("{id}", Dialect::kPostgres).find("IDENTITY"), std::string::npos);
}

TEST_F(MigrationsTest, AppliesInOrderAndOnlyOnce) {
  auto v0 = CurrentSchemaVersion(*db_);
  ASSERT_TRUE(v0.ok());
  EXPECT_EQ(*v0, 0);
  std::span<const Migration> first_two(kSteps.data(), 2);
  ASSERT_TRUE(ApplyMigrations(*db_, first_two.subspan(0, 1), 100).ok());
  EXPECT_EQ(*CurrentSchemaVersion(*db_), 1);
  EXPECT_TRUE(HasTable("t1"));
  EXPECT_FALSE(HasTable("t2"));
  // A later program adds step 2 on top; step 1 is not rerun (it would fail).
  auto st = ApplyMigrations(*db_, first_two, 200);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(*CurrentSchemaVersion(*db_), 2);
  ASSERT_TRUE(ApplyMigrations(*db_, first_two, 300).ok());
  auto rows = db_->Query("SELECT version, applied_at, description FROM schema_version ORDER BY version", {});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(*(*rows)[1][1], "200");
  EXPECT_EQ(*(*rows)[1][2], "two");
}

TEST_F(MigrationsTest, FailedStepRollsBackCompletely) {
  auto st = ApplyMigrations(*db_, kSteps, 100);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("migration 3"), std::string::npos) << st.error().message;
  // Steps 1 and 2 stay; nothing of step 3 (not even its first table).
  EXPECT_EQ(*CurrentSchemaVersion(*db_), 2);
  EXPECT_TRUE(HasTable("t2"));
  EXPECT_FALSE(HasTable("t3"));
}

TEST_F(MigrationsTest, RefusesNewerSchema) {
  ASSERT_TRUE(ApplyMigrations(*db_, std::span<const Migration>(kSteps.data(), 2), 100).ok());
  auto st = ApplyMigrations(*db_, std::span<const Migration>(kSteps.data(), 1), 200);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("newer"), std::string::npos);
}

TEST_F(MigrationsTest, RealMigrationsVersionsAreDense) {
  int expect = 1;
  for (const Migration& m : Migrations()) {
    EXPECT_EQ(m.version, expect++);
    EXPECT_FALSE(m.description.empty());
  }
  ASSERT_TRUE(ApplyMigrations(*db_, Migrations(), 1).ok());
  for (const char* t : {"endpoints", "domains", "checks", "cert_changes", "schema_version"}) {
    EXPECT_TRUE(HasTable(t)) << t;
  }
}

}  // namespace
}  // namespace bulkhead::inventory
