#include "inventory/inventory.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "inventory/db.h"
#include "inventory/migrations.h"
#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::inventory {
namespace {

// Backends under test: SQLite always; PostgreSQL when BULKHEAD_TEST_PG holds
// a conninfo URI (the serve integration test starts a server and sets it).
enum class Backend { kSqlite, kPostgres };

const char* PgSpec() { return std::getenv("BULKHEAD_TEST_PG"); }

class InventoryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      if (PgSpec() == nullptr || *PgSpec() == '\0') {
        GTEST_SKIP() << "BULKHEAD_TEST_PG not set";
      }
      spec_ = PgSpec();
      // Start from an empty database: drop whatever an earlier test left.
      auto db = OpenPostgresDb(spec_);
      ASSERT_TRUE(db.ok()) << db.error().message;
      auto dropped = (*db)->ExecScript(
          "DROP TABLE IF EXISTS cert_changes, checks, endpoints, domains, schema_version, "
          "extra_table CASCADE");
      ASSERT_TRUE(dropped.ok()) << dropped.error().message;
    } else {
      std::string templ = ::testing::TempDir() + "inventory_test.XXXXXX";
      ASSERT_NE(::mkdtemp(templ.data()), nullptr);
      dir_ = templ;
      spec_ = dir_ + "/inventory.sqlite";
    }
    auto inv = OpenInventory(spec_);
    ASSERT_TRUE(inv.ok()) << inv.error().message;
    inv_ = std::move(*inv);
  }

  void TearDown() override {
    inv_.reset();
    if (!dir_.empty()) {
      (void)RemoveTree(dir_);
    }
  }

  Endpoint Add(const std::string& host, uint16_t port) {
    Endpoint e;
    e.host = host;
    e.port = port;
    auto r = inv_->AddEndpoint(e, nullptr);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : Endpoint{};
  }

  CheckRecord Check(int64_t endpoint_id, const std::string& address, int64_t at,
                    const std::string& fp, const std::string& issuer) {
    CheckRecord c;
    c.endpoint_id = endpoint_id;
    c.address = address;
    c.checked_at = at;
    c.state = fp.empty() ? CheckState::kError : CheckState::kOk;
    c.error = fp.empty() ? "connection refused" : "";
    c.sha256_fingerprint = fp;
    c.issuer = issuer;
    c.subject = "CN=example.test";
    c.sans = {"example.test", "www.example.test"};
    c.not_before = at - 86400;
    c.not_after = at + 60 * 86400;
    c.key_type = "EC";
    c.key_bits = 256;
    c.chain_valid = true;
    c.hostname_match = false;
    return c;
  }

  std::string dir_;
  std::string spec_;
  std::unique_ptr<Inventory> inv_;
};

TEST_P(InventoryTest, SchemaIsAtLastMigration) {
  auto v = inv_->SchemaVersion();
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, Migrations().back().version);
  EXPECT_EQ(inv_->Backend(), GetParam() == Backend::kSqlite ? "sqlite" : "postgresql");
}

TEST_P(InventoryTest, ReopenKeepsDataAndVersion) {
  Add("example.test", 443);
  inv_.reset();
  auto again = OpenInventory(spec_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto list = (*again)->ListEndpoints();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].host, "example.test");
}

TEST_P(InventoryTest, AddEndpointIsIdempotentAndLowerCases) {
  Endpoint e;
  e.host = "Example.TEST";
  e.port = 8443;
  e.sni = "sni.example.test";
  e.starttls = "smtp";
  bool created = false;
  auto first = inv_->AddEndpoint(e, &created);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(created);
  EXPECT_GT(first->id, 0);
  EXPECT_EQ(first->host, "example.test");
  EXPECT_EQ(first->sni, "sni.example.test");
  EXPECT_EQ(first->starttls, "smtp");
  EXPECT_GT(first->created_at, 0);
  e.sni = "other";
  auto second = inv_->AddEndpoint(e, &created);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(second->sni, "sni.example.test");  // Unchanged.
  auto found = inv_->FindEndpoint("EXAMPLE.test", 8443);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, first->id);
  EXPECT_EQ(inv_->FindEndpoint("example.test", 443).error().code, ErrorCode::kNotFound);
}

TEST_P(InventoryTest, AddEndpointRejectsBadInput) {
  Endpoint e;
  EXPECT_EQ(inv_->AddEndpoint(e, nullptr).error().code, ErrorCode::kUsage);
  e.host = "x";
  e.port = 0;
  EXPECT_EQ(inv_->AddEndpoint(e, nullptr).error().code, ErrorCode::kUsage);
}

TEST_P(InventoryTest, ListIsOrderedByHostThenPort) {
  Add("b.test", 443);
  Add("a.test", 8443);
  Add("a.test", 443);
  auto list = inv_->ListEndpoints();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ(EndpointKey((*list)[0].host, (*list)[0].port), "a.test:443");
  EXPECT_EQ(EndpointKey((*list)[1].host, (*list)[1].port), "a.test:8443");
  EXPECT_EQ(EndpointKey((*list)[2].host, (*list)[2].port), "b.test:443");
}

TEST_P(InventoryTest, RecordCheckRoundTripsEveryField) {
  Endpoint e = Add("example.test", 443);
  CheckRecord c = Check(e.id, "::1", 1700000000, "AB12", "CN=Issuer 1");
  c.tls_version = "TLSv1.3";
  c.cipher = "TLS_AES_128_GCM_SHA256";
  c.serial_hex = "0A1B";
  c.signature_algorithm = "ecdsa-with-SHA256";
  c.tlsa_match = std::nullopt;
  c.managed_match = false;
  c.details_json = R"({"hsts":true})";
  c.error = "it's \"quoted\"; DROP TABLE checks; --";
  auto id = inv_->RecordCheck(c);
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto hist = inv_->History(e.id, 10);
  ASSERT_TRUE(hist.ok()) << hist.error().message;
  ASSERT_EQ(hist->size(), 1u);
  const CheckRecord& got = (*hist)[0];
  EXPECT_EQ(got.id, *id);
  EXPECT_EQ(got.address, "::1");
  EXPECT_EQ(got.checked_at, 1700000000);
  EXPECT_EQ(got.state, CheckState::kOk);
  EXPECT_EQ(got.error, c.error);
  EXPECT_EQ(got.tls_version, "TLSv1.3");
  EXPECT_EQ(got.cipher, c.cipher);
  EXPECT_EQ(got.subject, "CN=example.test");
  EXPECT_EQ(got.issuer, "CN=Issuer 1");
  EXPECT_EQ(got.serial_hex, "0a1b");
  EXPECT_EQ(got.sans, c.sans);
  EXPECT_EQ(got.not_before, c.not_before);
  EXPECT_EQ(got.not_after, c.not_after);
  EXPECT_EQ(got.sha256_fingerprint, "ab12");
  EXPECT_EQ(got.key_type, "EC");
  EXPECT_EQ(got.key_bits, 256);
  EXPECT_EQ(got.signature_algorithm, c.signature_algorithm);
  EXPECT_EQ(got.chain_valid, std::optional<bool>(true));
  EXPECT_EQ(got.hostname_match, std::optional<bool>(false));
  EXPECT_EQ(got.managed_match, std::optional<bool>(false));
  EXPECT_EQ(got.tlsa_match, std::nullopt);
  EXPECT_EQ(got.details_json, c.details_json);
  // The hostile text was stored as data, not run.
  EXPECT_TRUE(inv_->ListEndpoints().ok());
}

TEST_P(InventoryTest, RecordCheckValidates) {
  Endpoint e = Add("example.test", 443);
  CheckRecord c = Check(e.id + 1000, "127.0.0.1", 1700000000, "aa", "CN=I");
  EXPECT_EQ(inv_->RecordCheck(c).error().code, ErrorCode::kNotFound);
  c.endpoint_id = e.id;
  c.address = "";
  EXPECT_EQ(inv_->RecordCheck(c).error().code, ErrorCode::kUsage);
  auto hist = inv_->History(e.id, 10);
  ASSERT_TRUE(hist.ok());
  EXPECT_TRUE(hist->empty());
}

TEST_P(InventoryTest, ChangesAreDerivedPerAddress) {
  Endpoint e = Add("example.test", 443);
  ASSERT_TRUE(inv_->RecordCheck(Check(e.id, "127.0.0.1", 1000, "aa", "CN=I1")).ok());
  ASSERT_TRUE(inv_->RecordCheck(Check(e.id, "127.0.0.1", 2000, "aa", "CN=I1")).ok());
  // A failed check in between does not count as "no certificate".
  ASSERT_TRUE(inv_->RecordCheck(Check(e.id, "127.0.0.1", 2500, "", "")).ok());
  ASSERT_TRUE(inv_->RecordCheck(Check(e.id, "127.0.0.1", 3000, "bb", "CN=I1")).ok());
  ASSERT_TRUE(inv_->RecordCheck(Check(e.id, "127.0.0.1", 4000, "cc", "CN=I2")).ok());
  ASSERT_TRUE(inv_->RecordCheck(Check(e.id, "::1", 4000, "cc", "CN=I2")).ok());
  auto changes = inv_->Changes(e.id, 100);
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  ASSERT_EQ(changes->size(), 5u);
  // Newest first.
  EXPECT_EQ((*changes)[0].kind, ChangeKind::kFirstSeen);
  EXPECT_EQ((*changes)[0].address, "::1");
  EXPECT_EQ((*changes)[1].kind, ChangeKind::kIssuerChanged);
  EXPECT_EQ((*changes)[1].old_value, "CN=I1");
  EXPECT_EQ((*changes)[1].new_value, "CN=I2");
  EXPECT_EQ((*changes)[2].kind, ChangeKind::kNewCertificate);
  EXPECT_EQ((*changes)[2].old_value, "bb");
  EXPECT_EQ((*changes)[2].new_value, "cc");
  EXPECT_EQ((*changes)[3].kind, ChangeKind::kNewCertificate);
  EXPECT_EQ((*changes)[3].changed_at, 3000);
  EXPECT_EQ((*changes)[4].kind, ChangeKind::kFirstSeen);
  auto all = inv_->Changes(0, 2);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST_P(InventoryTest, LatestChecksOnePerAddress) {
  Endpoint a = Add("a.test", 443);
  Endpoint b = Add("b.test", 443);
  ASSERT_TRUE(inv_->RecordCheck(Check(a.id, "127.0.0.1", 1000, "aa", "CN=I")).ok());
  ASSERT_TRUE(inv_->RecordCheck(Check(a.id, "127.0.0.1", 2000, "", "")).ok());
  ASSERT_TRUE(inv_->RecordCheck(Check(a.id, "::1", 1500, "aa", "CN=I")).ok());
  ASSERT_TRUE(inv_->RecordCheck(Check(b.id, "127.0.0.2", 1000, "bb", "CN=I")).ok());
  auto latest = inv_->LatestChecks();
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  ASSERT_EQ(latest->size(), 3u);
  EXPECT_EQ((*latest)[0].endpoint_id, a.id);
  EXPECT_EQ((*latest)[0].address, "127.0.0.1");
  EXPECT_EQ((*latest)[0].checked_at, 2000);
  EXPECT_EQ((*latest)[0].state, CheckState::kError);
  EXPECT_EQ((*latest)[1].address, "::1");
  EXPECT_EQ((*latest)[2].endpoint_id, b.id);
  auto hist = inv_->History(a.id, 2);
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 2u);
  EXPECT_EQ((*hist)[0].checked_at, 1500);  // Newest inserted first.
}

TEST_P(InventoryTest, RemoveEndpointCascades) {
  Endpoint a = Add("a.test", 443);
  ASSERT_TRUE(inv_->RecordCheck(Check(a.id, "127.0.0.1", 1000, "aa", "CN=I")).ok());
  ASSERT_TRUE(inv_->RemoveEndpoint(a.id).ok());
  EXPECT_EQ(inv_->RemoveEndpoint(a.id).error().code, ErrorCode::kNotFound);
  auto latest = inv_->LatestChecks();
  ASSERT_TRUE(latest.ok());
  EXPECT_TRUE(latest->empty());
  auto changes = inv_->Changes(0, 10);
  ASSERT_TRUE(changes.ok());
  EXPECT_TRUE(changes->empty());
}

TEST_P(InventoryTest, Domains) {
  bool created = false;
  auto d = inv_->AddDomain("WWW.Example.test", &created);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_TRUE(created);
  EXPECT_EQ(d->name, "www.example.test");
  auto again = inv_->AddDomain("www.example.test", &created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again->id, d->id);
  ASSERT_TRUE(inv_->AddDomain("a.example.test", nullptr).ok());
  EXPECT_EQ(inv_->AddDomain("", nullptr).error().code, ErrorCode::kUsage);
  auto list = inv_->ListDomains();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a.example.test");
  ASSERT_TRUE(inv_->RemoveDomain("a.example.test").ok());
  EXPECT_EQ(inv_->RemoveDomain("a.example.test").error().code, ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, InventoryTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

TEST(InventoryHelpersTest, EndpointKeys) {
  EXPECT_EQ(EndpointKey("example.test", 443), "example.test:443");
  EXPECT_EQ(EndpointKey("::1", 8443), "[::1]:8443");
  auto a = ParseEndpointKey("Example.test:8443");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "example.test");
  EXPECT_EQ(a->port, 8443);
  auto b = ParseEndpointKey("[::1]:25");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 25);
  auto c = ParseEndpointKey("::1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->port, 443);
  auto d = ParseEndpointKey("mail.test", 465);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 465);
  for (const char* bad : {"", "x:", "x:0", "x:65536", "x:12a", "[::1", "[::1]x", "a b:1",
                          "<script>:1"}) {
    EXPECT_FALSE(ParseEndpointKey(bad).ok()) << bad;
  }
}

TEST(InventoryHelpersTest, FirstWords) {
  EXPECT_EQ(FirstWords("\n  SELECT a,\n b FROM t"), "SELECT a,  b FROM t");
  EXPECT_EQ(FirstWords(" \t\n"), "");
  EXPECT_EQ(FirstWords(std::string(50, 'x')), std::string(40, 'x'));
}

TEST(InventoryHelpersTest, StatesAndNames) {
  for (CheckState s : {CheckState::kOk, CheckState::kPlan, CheckState::kWarning,
                       CheckState::kError, CheckState::kUnknown}) {
    auto back = ParseCheckState(CheckStateName(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(ParseCheckState("ok").ok());
  EXPECT_LT(StateUrgency(CheckState::kError), StateUrgency(CheckState::kWarning));
  EXPECT_LT(StateUrgency(CheckState::kWarning), StateUrgency(CheckState::kPlan));
  EXPECT_LT(StateUrgency(CheckState::kPlan), StateUrgency(CheckState::kOk));
  EXPECT_TRUE(MatchesName("*.example.test", "www.Example.test"));
  EXPECT_FALSE(MatchesName("*.example.test", "a.b.example.test"));
  EXPECT_FALSE(MatchesName("*.example.test", "example.test"));
  EXPECT_TRUE(MatchesName("example.test", "EXAMPLE.TEST"));
  EXPECT_TRUE(IsPostgresSpec("postgresql://u@h/db"));
  EXPECT_FALSE(IsPostgresSpec("/var/lib/x.sqlite"));
  EXPECT_EQ(DefaultInventorySpec("/s"), "/s/inventory.sqlite");
}

TEST(InventoryFileTest, SqliteFileIsPrivate) {
  TestTempDir tmp;
  ASSERT_TRUE(tmp.ok());
  std::string path = tmp.path() + "/inv.sqlite";
  mode_t old = ::umask(0);
  auto inv = OpenInventory(path);
  ::umask(old);
  ASSERT_TRUE(inv.ok()) << inv.error().message;
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(OpenInventory(tmp.path() + "/missing-dir/inv.sqlite").ok());
  inv->reset();
}

}  // namespace
}  // namespace bulkhead::inventory
