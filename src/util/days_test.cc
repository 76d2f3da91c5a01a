#include "util/days.h"

#include <gtest/gtest.h>

namespace bulkhead {
namespace {

constexpr int64_t kNow = 1800000000;
constexpr int64_t kDay = kSecondsPerDay;

TEST(DaysLeftTest, CountsWholeDaysInBothDirections) {
  EXPECT_EQ(DaysLeft(kNow + 10 * kDay + kDay - 1, kNow), 10);
  EXPECT_EQ(DaysLeft(kNow + kDay, kNow), 1);
  EXPECT_EQ(DaysLeft(kNow + kDay - 1, kNow), 0);
  EXPECT_EQ(DaysLeft(kNow, kNow), 0);
  EXPECT_EQ(DaysLeft(kNow - 1, kNow), 0);
  EXPECT_EQ(DaysLeft(kNow - kDay, kNow), -1);
  EXPECT_EQ(DaysLeft(kNow - 10 * kDay, kNow), -10);
  EXPECT_EQ(DaysLeft(kNow - 10 * kDay - 1, kNow), -10);
  EXPECT_EQ(DaysLeft(kNow - 11 * kDay + 1, kNow), -10);
}

}  // namespace
}  // namespace bulkhead
