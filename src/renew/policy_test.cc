#include "renew/policy.h"

#include <gtest/gtest.h>

namespace bulkhead::renew {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kStart = 1700000000;

TEST(RenewPolicyTest, NinetyDayCertRenewsAfterTwoThirds) {
  int64_t end = kStart + 90 * kDay;
  RenewalDecision early = Decide(kStart, end, kStart + 59 * kDay, /*days=*/-1, /*force=*/false);
  EXPECT_FALSE(early.due);
  EXPECT_EQ(early.renew_at, kStart + 60 * kDay);
  EXPECT_NE(early.reason.find("not due until"), std::string::npos) << early.reason;
  EXPECT_NE(early.reason.find("2024-01-13"), std::string::npos) << early.reason;

  RenewalDecision late = Decide(kStart, end, kStart + 61 * kDay, /*days=*/-1, /*force=*/false);
  EXPECT_TRUE(late.due);
  EXPECT_EQ(late.renew_at, kStart + 60 * kDay);
  EXPECT_EQ(late.reason, "less than one third of its lifetime left");
}

TEST(RenewPolicyTest, ShortLivedCertRenewsAtHalf) {
  int64_t end = kStart + 6 * kDay;
  RenewalDecision before = Decide(kStart, end, kStart + 3 * kDay - 1, /*days=*/-1, /*force=*/false);
  EXPECT_FALSE(before.due);
  RenewalDecision at = Decide(kStart, end, kStart + 3 * kDay, /*days=*/-1, /*force=*/false);
  EXPECT_TRUE(at.due);
  EXPECT_EQ(at.renew_at, kStart + 3 * kDay);
  EXPECT_EQ(at.reason, "less than half of its lifetime left");
  // At 2.5 days a one-third rule would not yet fire; the half rule must not
  // either.
  EXPECT_FALSE(Decide(kStart, end, kStart + 2 * kDay, -1, false).due);
}

TEST(RenewPolicyTest, ExplicitDays) {
  int64_t end = kStart + 90 * kDay;
  RenewalDecision not_yet = Decide(kStart, end, end - 31 * kDay, /*days=*/30, /*force=*/false);
  EXPECT_FALSE(not_yet.due);
  EXPECT_EQ(not_yet.renew_at, end - 30 * kDay);
  RenewalDecision due = Decide(kStart, end, end - 29 * kDay, /*days=*/30, /*force=*/false);
  EXPECT_TRUE(due.due);
  EXPECT_EQ(due.reason, "fewer than 30 days left");
  // --days overrides the lifetime rule in both directions.
  EXPECT_TRUE(Decide(kStart, end, kStart + 10 * kDay, /*days=*/85, false).due);
  EXPECT_FALSE(Decide(kStart, end, kStart + 70 * kDay, /*days=*/10, false).due);
  // --days 0 renews only expired certificates.
  EXPECT_FALSE(Decide(kStart, end, end - 1, /*days=*/0, false).due);
}

TEST(RenewPolicyTest, ForceIsAlwaysDue) {
  int64_t end = kStart + 90 * kDay;
  RenewalDecision d = Decide(kStart, end, kStart + kDay, /*days=*/-1, /*force=*/true);
  EXPECT_TRUE(d.due);
  EXPECT_EQ(d.reason, "forced");
  EXPECT_EQ(d.renew_at, kStart + kDay);
}

TEST(RenewPolicyTest, ExpiredIsDue) {
  int64_t end = kStart + 90 * kDay;
  RenewalDecision d = Decide(kStart, end, end + kDay, /*days=*/-1, /*force=*/false);
  EXPECT_TRUE(d.due);
  EXPECT_NE(d.reason.find("expired"), std::string::npos) << d.reason;
  EXPECT_TRUE(Decide(kStart, end, end + kDay, /*days=*/0, false).due);
}

TEST(RenewPolicyTest, InvalidValidityIsDue) {
  RenewalDecision same = Decide(kStart, kStart, kStart - kDay, -1, false);
  EXPECT_TRUE(same.due);
  EXPECT_NE(same.reason.find("invalid validity"), std::string::npos) << same.reason;
  RenewalDecision reversed = Decide(kStart, kStart - kDay, kStart - 2 * kDay, -1, false);
  EXPECT_TRUE(reversed.due);
  EXPECT_NE(reversed.reason.find("invalid validity"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::renew
