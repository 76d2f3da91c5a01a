#include "manager/challenge_dir.h"

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::manager {
namespace {

class ChallengeTargetTest : public TempDirTest {
 protected:
  CertSettings Webroot(const std::string& dir) {
    CertSettings s;
    s.method = ChallengeMethod::kWebroot;
    s.challenge_target = dir;
    return s;
  }
};

TEST_F(ChallengeTargetTest, MissingWebrootIsUsageNamingIt) {
  Status st = CheckChallengeTarget(Webroot(dir_ + "/www"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUsage);
  EXPECT_NE(st.error().message.find(dir_ + "/www does not exist"), std::string::npos);
  EXPECT_NE(st.error().message.find(".well-known/acme-challenge"), std::string::npos);
  // Nothing is created by the check.
  EXPECT_FALSE(CheckChallengeTarget(Webroot(dir_ + "/www")).ok());
  // PrepareChallengeDir refuses it the same way.
  auto prepared = PrepareChallengeDir(Webroot(dir_ + "/www"), std::nullopt);
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().code, ErrorCode::kUsage);
}

TEST_F(ChallengeTargetTest, ExistingWebrootPassesAndGetsOnlyItsChallengeDir) {
  ASSERT_TRUE(MakeDirs(dir_ + "/www", 0755).ok());
  EXPECT_TRUE(CheckChallengeTarget(Webroot(dir_ + "/www")).ok());
  auto prepared = PrepareChallengeDir(Webroot(dir_ + "/www"), std::nullopt);
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(prepared->write_dir, dir_ + "/www/.well-known/acme-challenge");
}

TEST_F(ChallengeTargetTest, FileIsNotADirectory) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/f", "x", 0644).ok());
  Status st = CheckChallengeTarget(Webroot(dir_ + "/f"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUsage);
}

TEST_F(ChallengeTargetTest, OtherMethodsPass) {
  CertSettings s;
  s.method = ChallengeMethod::kStandalone;
  s.challenge_target = "127.0.0.1:80";
  EXPECT_TRUE(CheckChallengeTarget(s).ok());
  s.method = ChallengeMethod::kDnsDrop;
  s.challenge_target = dir_ + "/drop";
  EXPECT_EQ(CheckChallengeTarget(s).error().code, ErrorCode::kUsage);
}

}  // namespace
}  // namespace bulkhead::manager
