#include "renew/ari.h"

#include <gtest/gtest.h>

#include <random>

#include "ipc/messages.h"

namespace bulkhead::renew {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

crypto::CertInfo Rfc9773Example() {
  crypto::CertInfo c;
  const unsigned char aki[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
                               0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4};
  c.aki_keyid.assign(reinterpret_cast<const char*>(aki), sizeof(aki));
  c.serial_der = std::string("\x87\x65\x43\x21", 4);
  return c;
}

TEST(AriTest, CertIdMatchesTheRfcExample) {
  auto id = CertId(Rfc9773Example());
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
  crypto::CertInfo no_aki = Rfc9773Example();
  no_aki.aki_keyid.clear();
  EXPECT_FALSE(CertId(no_aki).ok());
  crypto::CertInfo small = Rfc9773Example();
  small.serial_der = std::string("\x12\x34", 2);
  EXPECT_EQ(*CertId(small), "aYhba4dGQEHhs3uEe6CuLN4ByNQ.EjQ") << "no padding byte when not needed";
}

TEST(AriTest, ParsesRfc3339Strictly) {
  EXPECT_EQ(*ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339("2025-01-02T03:04:05Z"), 1735787045);
  EXPECT_EQ(*ParseRfc3339("2025-01-02T03:04:05.123456Z"), 1735787045);
  EXPECT_EQ(*ParseRfc3339("2025-01-02T05:04:05+02:00"), 1735787045);
  for (const char* bad : {"", "2025-01-02", "2025-01-02T03:04:05", "2025-13-02T03:04:05Z",
                          "2025-02-31T03:04:05Z", "2025-01-02T03:04:05Zjunk",
                          "2025-01-02 03:04:05Z", "2025-01-02T03:04:05.Z", "yesterday"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
}

TEST(AriTest, ParsesRenewalInfoStrictly) {
  auto w = ParseRenewalInfo(
      R"({"suggestedWindow": {"start": "2025-01-02T00:00:00Z", "end": "2025-01-03T00:00:00Z"},
          "explanationURL": "https://ca.test/why"})");
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->end - w->start, kDay);
  EXPECT_EQ(w->explanation_url, "https://ca.test/why");
  for (const char* bad : {
           "", "[]", "{}", R"({"suggestedWindow": []})",
           R"({"suggestedWindow": {"start": "2025-01-02T00:00:00Z"}})",
           R"({"suggestedWindow": {"start": 1, "end": 2}})",
           R"({"suggestedWindow": {"start": "2025-01-03T00:00:00Z", "end": "2025-01-02T00:00:00Z"}})",
           R"({"suggestedWindow": {"start": "2025-01-02T00:00:00Z", "end": "2025-01-02T00:00:00Z"}})",
           R"({"suggestedWindow": {"start": "2025-01-02T00:00:00Z", "end": "2025-01-03T00:00:00Z"},
               "explanationURL": 5})",
       }) {
    EXPECT_FALSE(ParseRenewalInfo(bad).ok()) << bad;
  }
}

TEST(AriTest, RetryAfterIsClamped) {
  EXPECT_EQ(ClampRetryAfter(-1), kDefaultPollSeconds);
  EXPECT_EQ(ClampRetryAfter(0), 60);
  EXPECT_EQ(ClampRetryAfter(5), 60);
  EXPECT_EQ(ClampRetryAfter(7200), 7200);
  EXPECT_EQ(ClampRetryAfter(10 * 86400), 86400);
}

TEST(AriTest, WindowTimeIsChosenOnceAndMovesOnlyWhenTheWindowDoes) {
  const int64_t now = 1'000'000;
  RenewalWindow w{now + 10 * kDay, now + 12 * kDay, ""};
  int picks = 0;
  auto pick = [&](int64_t s, int64_t e) {
    ++picks;
    EXPECT_LT(s, e);
    return s + (e - s) / 2;
  };
  AriState s1 = ApplyWindow({}, "id", w, 3600, now, pick);
  EXPECT_TRUE(s1.supported);
  EXPECT_EQ(s1.renew_at, now + 11 * kDay);
  EXPECT_EQ(s1.next_check, now + 3600);
  AriState s2 = ApplyWindow(s1, "id", w, -1, now + kHour, pick);
  EXPECT_EQ(s2.renew_at, s1.renew_at);
  EXPECT_EQ(picks, 1) << "the same window keeps the same time";
  EXPECT_EQ(s2.next_check, now + kHour + kDefaultPollSeconds);
  // Moved earlier (revocation): due at once.
  RenewalWindow earlier{now - kDay, now + kHour, ""};
  AriState s3 = ApplyWindow(s2, "id", earlier, 60, now + 2 * kHour, pick);
  EXPECT_EQ(s3.renew_at, now + 2 * kHour);
  // A window that already started, for a new certificate: due at once.
  AriState s4 = ApplyWindow({}, "other", RenewalWindow{now - 5, now + kDay, ""}, 60, now, pick);
  EXPECT_EQ(s4.renew_at, now);
  // A later window for the same certificate gets a fresh pick.
  AriState s5 = ApplyWindow(s1, "id", RenewalWindow{now + 20 * kDay, now + 22 * kDay, ""}, 60, now,
                            pick);
  EXPECT_EQ(s5.renew_at, now + 21 * kDay);
  EXPECT_EQ(picks, 2);
}

TEST(AriTest, UniformTimeStaysInsideTheWindow) {
  for (int i = 0; i < 1000; ++i) {
    int64_t t = UniformTime(100, 200);
    ASSERT_GE(t, 100);
    ASSERT_LT(t, 200);
  }
  EXPECT_EQ(UniformTime(5, 5), 5);
}

TEST(AriTest, ErrorsKeepTheWindowAndBackOff) {
  AriState s = ApplyWindow({}, "id", RenewalWindow{100, 200, ""}, 60, 10);
  AriState e = ApplyError(s, "id", "HTTP 500", 50);
  EXPECT_TRUE(e.supported);
  EXPECT_EQ(e.window_start, 100);
  EXPECT_EQ(e.next_check, 50 + kErrorRetrySeconds);
  EXPECT_EQ(e.last_error, "HTTP 500");
  EXPECT_FALSE(NeedsCheck(&e, "id", 60));
  EXPECT_TRUE(NeedsCheck(&e, "id", 50 + kErrorRetrySeconds));
  EXPECT_TRUE(NeedsCheck(&e, "new-cert", 60));
  EXPECT_TRUE(NeedsCheck(nullptr, "id", 60));
}

TEST(AriTest, StateRoundTripsThroughJson) {
  AriState s = ApplyWindow({}, "id", RenewalWindow{100, 200, "https://x"}, 60, 10);
  s.last_error = "boom";
  auto back = AriState::FromJson(s.ToJson(), "ari.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->ToJson(), s.ToJson());
  nlohmann::json broken = s.ToJson();
  broken["window_end"] = 50;
  EXPECT_FALSE(AriState::FromJson(broken, "ari.json").ok());
  broken = s.ToJson();
  broken.erase("renew_at");
  EXPECT_FALSE(AriState::FromJson(broken, "ari.json").ok());
}

TEST(AriTest, DecisionFollowsTheWindowUnlessTheOperatorSaysOtherwise) {
  crypto::CertInfo leaf = Rfc9773Example();
  leaf.not_before = 0;
  leaf.not_after = 90 * kDay;
  std::string id = *CertId(leaf);
  AriState s = ApplyWindow({}, id, RenewalWindow{10 * kDay, 11 * kDay, ""}, 60, 0,
                           [](int64_t a, int64_t) { return a + kHour; });
  RenewalDecision early = DecideWithAri(leaf, &s, 5 * kDay, -1, false);
  EXPECT_FALSE(early.due);
  EXPECT_EQ(early.renew_at, 10 * kDay + kHour);
  EXPECT_NE(early.reason.find("renewal window"), std::string::npos);
  EXPECT_TRUE(DecideWithAri(leaf, &s, 10 * kDay + kHour, -1, false).due)
      << "due at the chosen time, long before the lifetime rule's day 60";
  EXPECT_TRUE(DecideWithAri(leaf, &s, kDay, -1, true).due);
  EXPECT_EQ(DecideWithAri(leaf, nullptr, kDay, -1, false).renew_at, 60 * kDay);
  AriState other = s;
  other.cert_id = "someone-else";
  EXPECT_EQ(DecideWithAri(leaf, &other, kDay, -1, false).renew_at, 60 * kDay);
  EXPECT_TRUE(InsideWindow(&s, id, 10 * kDay));
  EXPECT_FALSE(InsideWindow(&s, id, 9 * kDay));
  EXPECT_FALSE(InsideWindow(&s, "x", 10 * kDay));
}

// Simulated clock: hourly `renew --cron` over many 6-day lifetimes, with
// runs that fail (CA down) for up to a day at a time. A certificate must
// never be seen expired, with and without ARI.
TEST(AriTest, SixDayCertificatesNeverExpireUnderHourlyCron) {
  constexpr int64_t kLifetime = 160 * kHour;  // Let's Encrypt's "shortlived".
  for (bool with_ari : {false, true}) {
    std::mt19937 rng(42);
    int64_t nb = 0;
    int64_t na = kLifetime;
    int renewals = 0;
    int64_t outage_until = -1;
    AriState ari;
    for (int64_t now = 0; now < 40 * kLifetime; now += kHour) {
      ASSERT_LT(now, na) << "expired at hour " << now / kHour << (with_ari ? " (ARI)" : "");
      if (outage_until < now && rng() % 200 == 0) {
        outage_until = now + static_cast<int64_t>(rng() % 24) * kHour;
      }
      crypto::CertInfo leaf = Rfc9773Example();
      leaf.serial_der = std::string(1, static_cast<char>(renewals % 100 + 1));
      leaf.not_before = nb;
      leaf.not_after = na;
      std::string id = *CertId(leaf);
      if (with_ari && NeedsCheck(&ari, id, now) && now > outage_until) {
        // The CA suggests the middle third of the lifetime, like Boulder.
        int64_t third = (na - nb) / 3;
        ari = ApplyWindow(ari, id, RenewalWindow{nb + third, nb + 2 * third, ""}, 6 * kHour, now);
      }
      RenewalDecision d = DecideWithAri(leaf, with_ari ? &ari : nullptr, now, -1, false);
      if (d.due && now > outage_until) {
        nb = now;
        na = now + kLifetime;
        ++renewals;
      }
    }
    EXPECT_GE(renewals, 40) << "renewed about every half lifetime";
    EXPECT_LE(renewals, 120);
  }
}

TEST(AriTest, IpcMessagesRoundTripAndAreChecked) {
  ipc::RenewalInfoMsg in{true, 100, 200, 3600, "https://ca.test/why"};
  ipc::DecodedFrame f{ipc::MessageType::kRenewalInfo, ipc::Encode(in)};
  auto out = ipc::DecodeRenewalInfo(f);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, in);
  ipc::RenewalInfoMsg backwards{true, 200, 100, 3600, ""};
  EXPECT_FALSE(ipc::DecodeRenewalInfo({ipc::MessageType::kRenewalInfo, ipc::Encode(backwards)}).ok());
  EXPECT_FALSE(ipc::DecodeRenewalInfo({ipc::MessageType::kRenewalInfo, R"({"supported": true})"}).ok());

  ipc::OrderReportMsg rep{true, {"a.example.com", "192.0.2.1"}};
  auto rep_out = ipc::DecodeOrderReport({ipc::MessageType::kOrderReport, ipc::Encode(rep)});
  ASSERT_TRUE(rep_out.ok()) << rep_out.error().message;
  EXPECT_EQ(*rep_out, rep);
  ipc::OrderReportMsg none{false, {}};
  auto none_out = ipc::DecodeOrderReport({ipc::MessageType::kOrderReport, ipc::Encode(none)});
  ASSERT_TRUE(none_out.ok());
  EXPECT_TRUE(none_out->failed_authz.empty());
  EXPECT_FALSE(ipc::DecodeOrderReport({ipc::MessageType::kOrderReport,
                                       R"({"new_order": true, "failed_authz": "a..b"})"})
                   .ok());
  EXPECT_FALSE(ipc::DecodeOrderReport({ipc::MessageType::kOrderReport,
                                       R"({"new_order": true, "failed_authz": "a.com  b.com"})"})
                   .ok());
}

}  // namespace
}  // namespace bulkhead::renew
