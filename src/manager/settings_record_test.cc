#include "manager/settings_record.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::manager {
namespace {

CertSettings Sample() {
  CertSettings s;
  s.name = "example.com";
  s.names = {"example.com"};
  s.method = ChallengeMethod::kWebroot;
  s.challenge_target = "/var/www/site";
  s.server = "https://ca.example/dir";
  return s;
}

// The record is root's: these tests need root.
class SettingsRecordTest : public TempDirTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || ::getpwnam("nobody") == nullptr) {
      GTEST_SKIP() << "needs root and a user 'nobody'";
    }
    TempDirTest::SetUp();
  }
};

TEST_F(SettingsRecordTest, AcceptsTheRecordedSettingsAndListsChanges) {
  store::CertStore certs(dir_ + "/certs");
  CertSettings s = Sample();
  ASSERT_TRUE(certs.SaveSettings(s.name, s.ToJson()).ok());
  ASSERT_TRUE(SaveSettingsRecord(dir_, s).ok());
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/root-settings").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_TRUE(CheckSettingsRecord(dir_, certs, s).ok());

  CertSettings changed = s;
  changed.challenge_target = "/home/nobody/trap\x1b[2J";
  changed.method = ChallengeMethod::kDnsHook;
  changed.dns.timeout_seconds = 300;
  Status st2 = CheckSettingsRecord(dir_, certs, changed);
  ASSERT_FALSE(st2.ok());
  const std::string& m = st2.error().message;
  EXPECT_NE(m.find("differs from root's record"), std::string::npos) << m;
  EXPECT_NE(m.find("challenge.method: \"dns-hook\" in settings.json, \"webroot\" in root's "
                   "record"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("challenge.target"), std::string::npos) << m;
  EXPECT_EQ(m.find('\x1b'), std::string::npos) << "a terminal control was printed";
  EXPECT_NE(m.find("issue --force"), std::string::npos) << m;
}

TEST_F(SettingsRecordTest, WithoutARecordOnlyRootsOwnSettingsAreAdopted) {
  store::CertStore certs(dir_ + "/certs");
  CertSettings s = Sample();
  ASSERT_TRUE(certs.SaveSettings(s.name, s.ToJson()).ok());
  // settings.json and its directory are root's, writable by no one else.
  ASSERT_EQ(::chmod(certs.CertDir(s.name).c_str(), 0700), 0);
  ASSERT_TRUE(CheckSettingsRecord(dir_, certs, s).ok());
  struct stat st;
  EXPECT_EQ(::stat(SettingsRecordPath(dir_, s.name).c_str(), &st), 0) << "not adopted";

  // The same after the directory went to the roles' user: refused.
  ASSERT_EQ(::unlink(SettingsRecordPath(dir_, s.name).c_str()), 0);
  struct passwd* nobody = ::getpwnam("nobody");
  ASSERT_EQ(::chown(certs.CertDir(s.name).c_str(), nobody->pw_uid, nobody->pw_gid), 0);
  Status refused = CheckSettingsRecord(dir_, certs, s);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("root has no record"), std::string::npos)
      << refused.error().message;
  EXPECT_NE(::stat(SettingsRecordPath(dir_, s.name).c_str(), &st), 0);
}

TEST_F(SettingsRecordTest, ARecordDirectoryOthersCanWriteIsNotTrusted) {
  store::CertStore certs(dir_ + "/certs");
  CertSettings s = Sample();
  ASSERT_TRUE(SaveSettingsRecord(dir_, s).ok());
  ASSERT_EQ(::chmod((dir_ + "/root-settings").c_str(), 0777), 0);
  Status st = CheckSettingsRecord(dir_, certs, s);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("writable by root only"), std::string::npos)
      << st.error().message;
}

}  // namespace
}  // namespace bulkhead::manager
