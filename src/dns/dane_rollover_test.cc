#include "dns/dane_rollover.h"

#include <gtest/gtest.h>

namespace bulkhead::dns {
namespace {

// The whole sequence, driven by a simulated clock: generate, publish, wait
// twice the TTL (restarting when the record vanishes), roll, and start over.
TEST(DaneRolloverTest, FullSequenceWithSimulatedClock) {
  int64_t now = 1'700'000'000;
  RolloverState state;
  state.current_spki = "spki-of-key-A";

  EXPECT_EQ(DecideRollover(state, /*reuse_key=*/true, now).action, RolloverAction::kKeepKey);
  EXPECT_EQ(DecideRollover(state, /*reuse_key=*/false, now).action,
            RolloverAction::kGenerateNextKey);
  auto only_current = PublishedRecords(state);
  ASSERT_TRUE(only_current.ok());
  ASSERT_EQ(only_current->size(), 1u);

  // The next key exists: both records go into the zone output.
  state.next_spki = "spki-of-key-B";
  auto both = PublishedRecords(state);
  ASSERT_TRUE(both.ok());
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0], *SpkiRecord("spki-of-key-A"));
  EXPECT_EQ((*both)[1], *SpkiRecord("spki-of-key-B"));
  EXPECT_NE((*both)[0].data, (*both)[1].data);

  ObservePublication(&state, /*next_published=*/false, 300, now);
  EXPECT_EQ(DecideRollover(state, false, now).action, RolloverAction::kWaitForPublication);

  // Published at t0 with TTL 300: wait until t0 + 600.
  now += 100;
  int64_t t0 = now;
  ObservePublication(&state, true, 300, now);
  RolloverDecision d = DecideRollover(state, false, now);
  EXPECT_EQ(d.action, RolloverAction::kWaitForTtl);
  EXPECT_EQ(d.not_before, t0 + 600);
  now = t0 + 599;
  ObservePublication(&state, true, 300, now);
  EXPECT_EQ(DecideRollover(state, false, now).action, RolloverAction::kWaitForTtl);

  // The record vanishes (a zone build without it): the wait starts over.
  now = t0 + 700;
  ObservePublication(&state, false, 300, now);
  EXPECT_EQ(DecideRollover(state, false, now).action, RolloverAction::kWaitForPublication);
  int64_t t1 = now + 10;
  now = t1;
  ObservePublication(&state, true, 300, now);
  EXPECT_EQ(DecideRollover(state, false, t1 + 599).action, RolloverAction::kWaitForTtl);

  // A larger TTL seen meanwhile lengthens the wait.
  now = t1 + 500;
  ObservePublication(&state, true, 900, now);
  d = DecideRollover(state, false, now);
  EXPECT_EQ(d.action, RolloverAction::kWaitForTtl);
  EXPECT_EQ(d.not_before, t1 + 1800);
  EXPECT_EQ(DecideRollover(state, false, t1 + 1799).action, RolloverAction::kWaitForTtl);
  d = DecideRollover(state, false, t1 + 1800);
  EXPECT_EQ(d.action, RolloverAction::kRollNow) << d.reason;

  // Roll: B becomes current, and a new next key is asked for.
  CompleteRollover(&state);
  EXPECT_EQ(state.current_spki, "spki-of-key-B");
  EXPECT_TRUE(state.next_spki.empty());
  EXPECT_EQ(state.next_published_since, 0);
  EXPECT_EQ(DecideRollover(state, false, t1 + 1801).action, RolloverAction::kGenerateNextKey);
  auto after = PublishedRecords(state);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0], *SpkiRecord("spki-of-key-B"));
}

TEST(DaneRolloverTest, ObservingWithoutNextKeyDoesNotStartTheClock) {
  RolloverState state;
  state.current_spki = "a";
  ObservePublication(&state, true, 300, 1000);
  EXPECT_EQ(state.next_published_since, 0);
  EXPECT_EQ(DecideRollover(state, false, 5000).action, RolloverAction::kGenerateNextKey);
}

TEST(DaneRolloverTest, ZeroTtlStillNeedsPublication) {
  RolloverState state;
  state.current_spki = "a";
  state.next_spki = "b";
  EXPECT_EQ(DecideRollover(state, false, 10).action, RolloverAction::kWaitForPublication);
  ObservePublication(&state, true, 0, 10);
  EXPECT_EQ(DecideRollover(state, false, 10).action, RolloverAction::kRollNow);
}

}  // namespace
}  // namespace bulkhead::dns
