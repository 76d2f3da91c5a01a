#include "ledger/ledger.h"
#include "util/test_tmpdir.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

namespace bulkhead::ledger {
namespace {

constexpr int64_t kNow = 1'750'000'000;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

class LedgerTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    path_ = dir_ + "/ledger.sqlite";
  }

  Ledger OpenOrDie() {
    auto l = Ledger::Open(path_);
    EXPECT_TRUE(l.ok()) << (l.ok() ? "" : l.error().message);
    return std::move(l).value();
  }

  std::string path_;
  Scope scope_{"https://ca.test/dir", "https://ca.test/acct/1"};
};

TEST_F(LedgerTest, FreesAtIsTheOldestEventThatMustLeave) {
  Limit l{3, 100};
  EXPECT_EQ(FreesAt({}, l), 0);
  EXPECT_EQ(FreesAt({10, 20}, l), 0);
  EXPECT_EQ(FreesAt({10, 20, 30}, l), 110);
  EXPECT_EQ(FreesAt({10, 20, 30, 40}, l), 120);
  EXPECT_EQ(FreesAt({10, 20, 30}, Limit{0, 100}), 0) << "max 0 turns the limit off";
}

TEST_F(LedgerTest, CreatesAPrivateFileAndReopens) {
  {
    Ledger l = OpenOrDie();
    ASSERT_TRUE(l.RecordOrder(scope_, {"a.example.com"}, kNow).ok());
  }
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Ledger again = OpenOrDie();
  auto accounts = again.Accounts(LetsEncryptLimits(), kNow);
  ASSERT_TRUE(accounts.ok());
  ASSERT_EQ(accounts->size(), 1u);
  EXPECT_EQ((*accounts)[0].orders, 1);
  EXPECT_EQ((*accounts)[0].remaining, 299);
}

TEST_F(LedgerTest, RefusesANewerSchemaAndGarbage) {
  {
    Ledger l = OpenOrDie();
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto newer = Ledger::Open(path_);
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("newer"), std::string::npos) << newer.error().message;

  std::string junk = dir_ + "/junk.sqlite";
  FILE* f = std::fopen(junk.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not a database, just some text that is long enough to matter......", f);
  std::fclose(f);
  EXPECT_FALSE(Ledger::Open(junk).ok());
}

TEST_F(LedgerTest, DuplicateLimitCountsTheExactSetOnly) {
  Ledger l = OpenOrDie();
  Limits limits = LetsEncryptLimits();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(l.RecordIssuance(scope_, {"b.example.com", "a.example.com"}, kNow - kDay + i).ok());
  }
  auto r = l.Check(limits, scope_, {"A.example.com", "b.example.com"}, kNow);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].kind, LimitKind::kDuplicateCertificates);
  EXPECT_EQ((*r)[0].subject, "a.example.com,b.example.com");
  EXPECT_EQ((*r)[0].frees_at, kNow - kDay + 7 * kDay);
  EXPECT_NE(DescribeRefusal((*r)[0]).find("duplicate certificates"), std::string::npos);

  auto other = l.Check(limits, scope_, {"a.example.com"}, kNow);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
  // Past the window the set is free again.
  auto later = l.Check(limits, scope_, {"a.example.com", "b.example.com"}, kNow + 7 * kDay);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->empty());
}

TEST_F(LedgerTest, RegisteredDomainLimitExemptsRenewals) {
  Ledger l = OpenOrDie();
  Limits limits = LetsEncryptLimits();
  limits.certs_per_domain = {2, 7 * kDay};
  ASSERT_TRUE(l.RecordIssuance(scope_, {"www.example.co.uk"}, kNow - 10).ok());
  ASSERT_TRUE(l.RecordIssuance(scope_, {"mail.example.co.uk"}, kNow - 5).ok());
  auto r = l.Check(limits, scope_, {"new.example.co.uk"}, kNow);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].kind, LimitKind::kCertsPerRegisteredDomain);
  EXPECT_EQ((*r)[0].subject, "example.co.uk");
  EXPECT_EQ((*r)[0].frees_at, kNow - 10 + 7 * kDay);
  // Renewing an existing set is not a new certificate for the domain.
  auto renewal = l.Check(limits, scope_, {"www.example.co.uk"}, kNow);
  ASSERT_TRUE(renewal.ok());
  EXPECT_TRUE(renewal->empty());
  // Another CA has its own budget.
  Scope other{"https://other.test/dir", scope_.account};
  auto elsewhere = l.Check(limits, other, {"new.example.co.uk"}, kNow);
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_TRUE(elsewhere->empty());

  auto domains = l.Domains(limits, "", kNow);
  ASSERT_TRUE(domains.ok());
  ASSERT_EQ(domains->size(), 1u);
  EXPECT_EQ((*domains)[0].domain, "example.co.uk");
  EXPECT_EQ((*domains)[0].issued, 2);
  EXPECT_EQ((*domains)[0].remaining, 0);
}

TEST_F(LedgerTest, OrdersAndFailedAuthorizationsPerAccount) {
  Ledger l = OpenOrDie();
  Limits limits = LetsEncryptLimits();
  limits.new_orders = {2, 3 * kHour};
  ASSERT_TRUE(l.RecordOrder(scope_, {"x.example.org"}, kNow - 2 * kHour).ok());
  ASSERT_TRUE(l.RecordOrder(scope_, {"y.example.org"}, kNow - kHour).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(l.RecordFailedAuthorization(scope_, "z.example.org", kNow - 60 * (i + 1)).ok());
  }
  auto r = l.Check(limits, scope_, {"z.example.org"}, kNow);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].kind, LimitKind::kNewOrdersPerAccount);
  EXPECT_EQ((*r)[0].frees_at, kNow - 2 * kHour + 3 * kHour);
  EXPECT_EQ((*r)[1].kind, LimitKind::kFailedAuthzPerIdentifier);
  EXPECT_EQ((*r)[1].frees_at, kNow - 300 + kHour);
  // A different account is unaffected.
  Scope other{scope_.ca, "https://ca.test/acct/2"};
  auto r2 = l.Check(limits, other, {"z.example.org"}, kNow);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->empty());
}

TEST(LimitsTest, RegisteredDomainUsesThePublicSuffixList) {
  EXPECT_EQ(RegisteredDomain("www.example.com"), "example.com");
  EXPECT_EQ(RegisteredDomain("a.b.example.co.uk"), "example.co.uk");
  EXPECT_EQ(RegisteredDomain("*.Shop.Example.COM"), "example.com");
  EXPECT_EQ(RegisteredDomain("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(RegisteredDomain("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
}

TEST(LimitsTest, ParseLimitsOverridesAndRejectsTypos) {
  auto l = ParseLimits(R"({"duplicate_certificates": {"max": 2, "window_seconds": 60}})", "f");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->duplicates.max, 2);
  EXPECT_EQ(l->duplicates.window_seconds, 60);
  EXPECT_EQ(l->new_orders.max, 300) << "unnamed limits keep the defaults";
  EXPECT_EQ(l->source, "f");
  EXPECT_FALSE(ParseLimits(R"({"duplicate_certificate": {"max": 2, "window_seconds": 60}})", "f").ok());
  EXPECT_FALSE(ParseLimits(R"({"duplicate_certificates": {"max": -1, "window_seconds": 60}})", "f").ok());
  EXPECT_FALSE(ParseLimits(R"({"duplicate_certificates": {"max": 1}})", "f").ok());
  EXPECT_FALSE(ParseLimits("[]", "f").ok());
  auto missing = LoadLimits("/nonexistent/limits.json",
                            "https://acme-v02.api.letsencrypt.org/directory");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->certs_per_domain.max, 50);
  auto other = LoadLimits("/nonexistent/limits.json", "https://ca.test/dir");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->certs_per_domain.max, 0) << "no shipped limits for an unknown CA";
}

}  // namespace
}  // namespace bulkhead::ledger
