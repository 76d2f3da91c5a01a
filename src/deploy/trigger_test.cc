#include "deploy/trigger.h"

#include <gtest/gtest.h>

namespace bulkhead::deploy {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TriggerConfig Config() {
  TriggerConfig c;
  c.debounce_ns = 2 * kSec;
  c.min_interval_ns = 10 * kSec;
  return c;
}

TEST(TriggerTest, UpToDateServerIsLeftAlone) {
  TriggerState s;
  Observation obs{/*newest_file_ns=*/100 * kSec, /*server_loaded_ns=*/200 * kSec};
  Plan p = Decide(Config(), obs, 300 * kSec, &s);
  EXPECT_EQ(p.decision, Decision::kNothing);
  EXPECT_EQ(p.next_check_ns, -1);
}

TEST(TriggerTest, OldChangeReloadsAtOnceOnFirstCheck) {
  TriggerState s;
  Observation obs{200 * kSec, 100 * kSec};
  EXPECT_EQ(Decide(Config(), obs, 300 * kSec, &s).decision, Decision::kReloadChanged);
}

TEST(TriggerTest, BurstOfChangesGivesOneReloadAfterQuiet) {
  TriggerConfig c = Config();
  TriggerState s;
  Observation obs{100 * kSec, 50 * kSec};
  // The file changed just now: wait for it to settle.
  Plan p = Decide(c, obs, 100 * kSec, &s);
  EXPECT_EQ(p.decision, Decision::kWait);
  EXPECT_EQ(p.next_check_ns, 102 * kSec);
  // Another write one second later pushes the reload out.
  obs.newest_file_ns = 101 * kSec;
  p = Decide(c, obs, 101 * kSec, &s);
  EXPECT_EQ(p.decision, Decision::kWait);
  EXPECT_EQ(p.next_check_ns, 103 * kSec);
  EXPECT_EQ(Decide(c, obs, 102 * kSec, &s).decision, Decision::kWait);
  p = Decide(c, obs, 103 * kSec, &s);
  ASSERT_EQ(p.decision, Decision::kReloadChanged);
  RecordAction(103 * kSec, &s);
  // The server keeps its old pid file and start time, but our reload counts.
  EXPECT_EQ(Decide(c, obs, 104 * kSec, &s).decision, Decision::kNothing);
}

TEST(TriggerTest, MinimumIntervalBetweenReloads) {
  TriggerConfig c = Config();
  TriggerState s;
  RecordAction(100 * kSec, &s);
  Observation obs{101 * kSec, 50 * kSec};
  Plan p = Decide(c, obs, 104 * kSec, &s);
  EXPECT_EQ(p.decision, Decision::kWait);
  EXPECT_EQ(p.next_check_ns, 110 * kSec);
  EXPECT_EQ(Decide(c, obs, 110 * kSec, &s).decision, Decision::kReloadChanged);
}

TEST(TriggerTest, FutureFileTimeDoesNotBlockForever) {
  TriggerState s;
  Observation obs{10'000 * kSec, 50 * kSec};
  Plan p = Decide(Config(), obs, 100 * kSec, &s);
  EXPECT_EQ(p.decision, Decision::kWait);
  EXPECT_EQ(p.next_check_ns, 102 * kSec);
  EXPECT_EQ(Decide(Config(), obs, 102 * kSec, &s).decision, Decision::kReloadChanged);
}

TEST(TriggerTest, PeriodicReload) {
  TriggerConfig c = Config();
  c.every_ns = 1800 * kSec;
  TriggerState s;
  s.started_ns = 1000 * kSec;
  Observation obs{10 * kSec, 20 * kSec};
  Plan p = Decide(c, obs, 1500 * kSec, &s);
  EXPECT_EQ(p.decision, Decision::kNothing);
  EXPECT_EQ(p.next_check_ns, 2800 * kSec);
  EXPECT_EQ(Decide(c, obs, 2800 * kSec, &s).decision, Decision::kReloadPeriodic);
  RecordAction(2800 * kSec, &s);
  EXPECT_EQ(Decide(c, obs, 2900 * kSec, &s).next_check_ns, 4600 * kSec);
}

TEST(TriggerTest, MissingFilesAreNeverStale) {
  EXPECT_FALSE(IsStale(Observation{-1, -1}, -1));
  EXPECT_TRUE(IsStale(Observation{5, -1}, -1));
  EXPECT_FALSE(IsStale(Observation{5, -1}, 5));
}

TEST(TriggerTest, ParseDuration) {
  EXPECT_EQ(ParseDuration("30m")->count(), 1'800'000);
  EXPECT_EQ(ParseDuration("90")->count(), 90'000);
  EXPECT_EQ(ParseDuration("250ms")->count(), 250);
  EXPECT_EQ(ParseDuration("2h")->count(), 7'200'000);
  EXPECT_EQ(ParseDuration("1d")->count(), 86'400'000);
  for (const char* bad : {"", "m", "-5s", "5x", "1.5h", "400d", " 5s"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUsage);
  }
}

}  // namespace
}  // namespace bulkhead::deploy
