#include "manager/renewal_status.h"

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::manager {
namespace {

class RenewalStatusTest : public TempDirTest {};

TEST_F(RenewalStatusTest, FailureKeepsTheLastSuccess) {
  EXPECT_TRUE(LoadRenewalStatus(dir_)->empty());
  ASSERT_TRUE(RecordRenewalAttempt(dir_, "a", 100, true, "").ok());
  ASSERT_TRUE(RecordRenewalAttempt(dir_, "b", 150, true, "").ok());
  ASSERT_TRUE(RecordRenewalAttempt(dir_, "a", 200, false, "renewing: CA said no\nsecond line").ok());
  auto all = LoadRenewalStatus(dir_);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  const RenewalAttempt& a = all->at("a");
  EXPECT_EQ(a.at, 200);
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.last_success, 100);
  EXPECT_EQ(a.error, "renewing: CA said no");
  EXPECT_TRUE(all->at("b").ok);
}

TEST_F(RenewalStatusTest, BadEntriesAreSkippedAndBadFilesNamed) {
  ASSERT_TRUE(WriteFileAtomic(RenewalStatusPath(dir_),
                              R"({"a": {"at": 5, "ok": true}, "b": {"at": "x"}, "c": 3})", 0644)
                  .ok());
  auto all = LoadRenewalStatus(dir_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
  ASSERT_TRUE(WriteFileAtomic(RenewalStatusPath(dir_), "[1]", 0644).ok());
  auto bad = LoadRenewalStatus(dir_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("renewal-status.json"), std::string::npos);
  // A record replaces the unreadable file instead of failing.
  EXPECT_TRUE(RecordRenewalAttempt(dir_, "a", 1, true, "").ok());
  EXPECT_EQ(LoadRenewalStatus(dir_)->size(), 1u);
}

}  // namespace
}  // namespace bulkhead::manager
