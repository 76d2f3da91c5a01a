#include "manager/versions.h"

#include <openssl/pem.h>
#include <unistd.h>

#include <ctime>

#include <gtest/gtest.h>

#include "probe/test_tls_server.h"
#include "util/test_tmpdir.h"

namespace bulkhead::manager {
namespace {

using probe::testing::MakeCert;
using probe::testing::TestCert;

constexpr long kDay = 86400;

std::string KeyPem(const TestCert& c) {
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), c.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return crypto::BioContents(bio.get());
}

class VersionsTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    certs_.emplace(dir_ + "/certs");
    now_ = static_cast<int64_t>(std::time(nullptr));
  }

  // Commit stores `leaf` with its own key (or `key_of`'s, to make a
  // mismatched set) and returns the version.
  int Commit(const TestCert& leaf, const TestCert* key_of = nullptr) {
    store::CertFiles files;
    files.privkey_pem = Secret(KeyPem(key_of != nullptr ? *key_of : leaf));
    files.cert_pem = leaf.Pem();
    files.chain_pem = "";
    files.fullchain_pem = leaf.Pem();
    files.settings_json = R"({"names": ["example.com"]})";
    Result<int> v = certs_->Commit("example.com", files);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? *v : 0;
  }

  int Live() { return certs_->Versions("example.com")->live; }

  std::optional<store::CertStore> certs_;
  int64_t now_ = 0;
};

TEST_F(VersionsTest, RollbackGoesToTheNewestEarlierUsableVersion) {
  auto good = MakeCert({"example.com"}, -kDay, 60 * kDay, nullptr, false);
  auto expired = MakeCert({"example.com"}, -30 * kDay, -kDay, nullptr, false);
  auto other = MakeCert({"example.com"}, -kDay, 60 * kDay, nullptr, false);
  auto bad_deploy = MakeCert({"example.com"}, -kDay, 90 * kDay, nullptr, false);
  ASSERT_EQ(Commit(good), 1);
  ASSERT_EQ(Commit(expired), 2);
  ASSERT_EQ(Commit(good, /*key_of=*/&other), 3);  // privkey.pem is not cert.pem's key.
  ASSERT_EQ(Commit(bad_deploy), 4);

  Result<std::vector<VersionCheck>> all = CheckVersions(*certs_, "example.com", now_);
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].version, 4);
  EXPECT_TRUE((*all)[0].live);
  EXPECT_TRUE((*all)[0].usable());
  EXPECT_EQ((*all)[0].settings_names, std::vector<std::string>{"example.com"});
  EXPECT_NE((*all)[1].problems.at(0).find("not the key"), std::string::npos);
  EXPECT_NE((*all)[2].problems.at(0).find("expired"), std::string::npos);
  EXPECT_TRUE((*all)[3].usable());

  Result<RollbackOutcome> done = Rollback(*certs_, "example.com", std::nullopt, now_);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->from.version, 4);
  EXPECT_EQ(done->to.version, 1);
  EXPECT_EQ(done->passed_over.size(), 2u);
  EXPECT_EQ(Live(), 1);

  // Forward again to the newest one is allowed by number; the versions
  // in between are refused with their reason, and live stays.
  for (int refused : {2, 3}) {
    Result<RollbackOutcome> r = Rollback(*certs_, "example.com", refused, now_);
    ASSERT_FALSE(r.ok()) << refused;
    EXPECT_NE(r.error().message.find("nothing changed"), std::string::npos);
    EXPECT_EQ(Live(), 1);
  }
  Result<RollbackOutcome> forward = Rollback(*certs_, "example.com", 4, now_);
  ASSERT_TRUE(forward.ok()) << forward.error().message;
  EXPECT_EQ(Live(), 4);
}

TEST_F(VersionsTest, RollbackRefusesWhatIsNotThere) {
  EXPECT_FALSE(Rollback(*certs_, "example.com", std::nullopt, now_).ok());
  auto good = MakeCert({"example.com"}, -kDay, 60 * kDay, nullptr, false);
  ASSERT_EQ(Commit(good), 1);
  Result<RollbackOutcome> none = Rollback(*certs_, "example.com", std::nullopt, now_);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no earlier version"), std::string::npos);
  Result<RollbackOutcome> live = Rollback(*certs_, "example.com", 1, now_);
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.error().code, ErrorCode::kUsage);
  Result<RollbackOutcome> unknown = Rollback(*certs_, "example.com", 7, now_);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("kept: 1"), std::string::npos);
}

TEST_F(VersionsTest, DamagedFilesAreProblemsNotCrashes) {
  auto good = MakeCert({"example.com"}, -kDay, 60 * kDay, nullptr, false);
  ASSERT_EQ(Commit(good), 1);
  ASSERT_EQ(Commit(good), 2);
  std::string v1 = certs_->CertDir("example.com") + "/1";
  // Version 1's files are replaced (as a hostile store role could).
  ASSERT_EQ(::unlink((v1 + "/fullchain.pem").c_str()), 0);
  ASSERT_TRUE(
      CreateFileExclusive(v1 + "/fullchain.pem", "-----BEGIN CERTIFICATE-----\nxx\n", 0644).ok());
  ASSERT_EQ(::unlink((v1 + "/privkey.pem").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (v1 + "/privkey.pem").c_str()), 0);
  VersionCheck v = CheckVersion(*certs_, "example.com", 1, false, now_);
  ASSERT_EQ(v.problems.size(), 2u);
  EXPECT_NE(v.problems[0].find("fullchain.pem does not parse"), std::string::npos);
  EXPECT_NE(v.problems[1].find("symlink"), std::string::npos);  // Not "issued from a CSR".
  EXPECT_FALSE(Rollback(*certs_, "example.com", 1, now_).ok());
  EXPECT_EQ(Live(), 2);
}

}  // namespace
}  // namespace bulkhead::manager
