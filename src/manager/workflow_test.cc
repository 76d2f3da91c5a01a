#include "manager/workflow.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "probe/test_tls_server.h"
#include "util/test_tmpdir.h"

namespace bulkhead::manager {
namespace {

constexpr long kDay = 86400;

// RecordingReporter keeps what a workflow reported, in order.
class RecordingReporter : public Reporter {
 public:
  void Info(std::string_view name, std::string_view line) override {
    lines.push_back("info " + std::string(name) + ": " + std::string(line));
  }
  void Warning(std::string_view name, std::string_view text) override {
    lines.push_back("warning " + std::string(name) + ": " + std::string(text));
  }
  std::vector<std::string> lines;
};

// A managed certificate with a live leaf valid for 60 more days, and no
// account: any attempt to order would fail, so a workflow that returns
// normally has decided not to order.
class WorkflowTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    certs_.emplace(dir_ + "/certs");
    settings_.name = "example.com";
    settings_.names = {"example.com"};
    settings_.challenge_target = dir_ + "/www";
    settings_.server = "https://127.0.0.1:1/dir";
    ASSERT_TRUE(settings_.Validate().ok());
    ASSERT_TRUE(certs_->SaveSettings(settings_.name, settings_.ToJson()).ok());
    auto leaf = probe::testing::MakeCert({"example.com"}, -kDay, 60 * kDay, nullptr, false);
    store::CertFiles files;
    files.cert_pem = leaf.Pem();
    files.fullchain_pem = leaf.Pem();
    ASSERT_TRUE(certs_->Commit(settings_.name, files).ok());
    ctx_.state_dir = dir_;
    ctx_.certs = &*certs_;
    ctx_.now = static_cast<int64_t>(std::time(nullptr));
  }

  std::optional<store::CertStore> certs_;
  CertSettings settings_;
  RunContext ctx_;
  RecordingReporter reporter_;
};

TEST_F(WorkflowTest, IssueLeavesACertificateThatIsNotDue) {
  auto done = Issue(ctx_, settings_, /*force=*/false, reporter_);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_FALSE(done->issued);
  EXPECT_FALSE(done->reason.empty());
  EXPECT_TRUE(reporter_.lines.empty());
}

// Other names, or --force: the workflow goes on to order (and fails here,
// with no account), whatever the live certificate says.
TEST_F(WorkflowTest, IssueOrdersForOtherNamesOrWhenForced) {
  CertSettings more = settings_;
  more.names.push_back("www.example.com");
  EXPECT_FALSE(Issue(ctx_, more, /*force=*/false, reporter_).ok());
  EXPECT_FALSE(Issue(ctx_, settings_, /*force=*/true, reporter_).ok());
}

// With a --days rule nothing asks the CA; the reason is reported as
// progress, and nothing is ordered.
TEST_F(WorkflowTest, RenewReportsWhyACertificateIsNotDue) {
  RenewOptions options;
  options.rule.days = 10;
  auto done = Renew(ctx_, "example.com", options, reporter_);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_FALSE(done->issued);
  ASSERT_EQ(reporter_.lines.size(), 1u);
  EXPECT_EQ(reporter_.lines[0], "info example.com: " + done->reason);
}

TEST_F(WorkflowTest, RenewOrdersWhatIsDueAndNamesTheStepThatFailed) {
  RenewOptions options;
  options.rule.days = 90;  // 60 days left: due.
  auto done = Renew(ctx_, "example.com", options, reporter_);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().message.rfind("renewing: ", 0), 0u) << done.error().message;
}

TEST_F(WorkflowTest, RenewOfAnUnknownCertificateNamesIt) {
  auto done = Renew(ctx_, "other.example", RenewOptions{}, reporter_);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().message.rfind("other.example: ", 0), 0u) << done.error().message;
}

}  // namespace
}  // namespace bulkhead::manager
