#include "manager/manager.h"

#include <ctime>

#include <gtest/gtest.h>

#include "probe/test_tls_server.h"
#include "util/test_tmpdir.h"

namespace bulkhead::manager {
namespace {

using probe::testing::MakeCert;

constexpr long kDay = 86400;

class InspectRevokedTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    certs_.emplace(dir_ + "/certs");
    now_ = static_cast<int64_t>(std::time(nullptr));
    auto leaf = MakeCert({"example.com"}, -kDay, 90 * kDay, nullptr, false);
    store::CertFiles files;
    files.cert_pem = leaf.Pem();
    files.fullchain_pem = leaf.Pem();
    ASSERT_TRUE(certs_->Commit("example.com", files).ok());
    auto info = crypto::ParseCertPem(leaf.Pem());
    ASSERT_TRUE(info.ok());
    serial_ = info->serial_hex;
    settings_.name = "example.com";
    settings_.names = {"example.com"};
    settings_.challenge_target = "/srv/www";
    settings_.server = "https://acme.test/directory";
  }

  CertState Inspect(const DueRule& rule = {}) {
    EXPECT_TRUE(certs_->SaveSettings("example.com", settings_.ToJson()).ok());
    auto st = InspectCertificate(*certs_, "example.com", now_, rule);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return st.ok() ? std::move(st).value() : CertState{};
  }

  std::optional<store::CertStore> certs_;
  CertSettings settings_;
  std::string serial_;
  int64_t now_ = 0;
};

TEST_F(InspectRevokedTest, FreshCertificateIsNotDue) {
  CertState st = Inspect();
  EXPECT_FALSE(st.revoked);
  EXPECT_FALSE(st.decision.due);
}

TEST_F(InspectRevokedTest, RevokedWithoutReissueIsLeftAlone) {
  settings_.revoked_serial = serial_;
  CertState st = Inspect();
  EXPECT_TRUE(st.revoked);
  EXPECT_FALSE(st.decision.due);
  EXPECT_EQ(st.decision.reason, kRevokedNotRenewed);
  // Even past the renewal time: a revocation is a decision to stop.
  CertState days = Inspect({/*days=*/365, /*force=*/false});
  EXPECT_FALSE(days.decision.due);
}

TEST_F(InspectRevokedTest, ReissueOrForceReplacesIt) {
  settings_.revoked_serial = serial_;
  CertState forced = Inspect({-1, /*force=*/true});
  EXPECT_TRUE(forced.revoked);
  EXPECT_TRUE(forced.decision.due);
  settings_.revoked_reissue = true;
  CertState reissue = Inspect();
  EXPECT_TRUE(reissue.decision.due);
  EXPECT_EQ(reissue.decision.reason, "the live certificate was revoked");
}

TEST_F(InspectRevokedTest, AnEarlierCertificatesRevocationDoesNotCount) {
  settings_.revoked_serial = "0badc0de";
  CertState st = Inspect();
  EXPECT_FALSE(st.revoked);
  EXPECT_FALSE(st.decision.due);
}

}  // namespace
}  // namespace bulkhead::manager
