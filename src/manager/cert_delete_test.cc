#include "manager/cert_delete.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::manager {
namespace {

// 2026-12-08 00:35:07 UTC.
constexpr int64_t kNow = 1796690107;

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(ArchiveDirNameTest, NameThenUtcTime) {
  EXPECT_EQ(ArchiveDirName("example.org", kNow), "example.org-20261208T003507Z");
  EXPECT_EQ(ArchiveDirName("example.org", kNow, 1), "example.org-20261208T003507Z");
  EXPECT_EQ(ArchiveDirName("example.org", kNow, 3), "example.org-20261208T003507Z-3");
  EXPECT_EQ(ArchiveDirName("a", 0), "a-19700101T000000Z");
}

class CertDeleteTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    certs_.emplace(dir_ + "/certs");
    store::CertFiles files;
    files.privkey_pem = Secret(std::string("key"));
    files.cert_pem = "cert";
    files.chain_pem = "chain";
    files.fullchain_pem = "cert\nchain";
    auto lock = certs_->Lock("a.test", /*wait=*/true);
    ASSERT_TRUE(lock.ok());
    ASSERT_TRUE(certs_->SaveSettings("a.test", {{"name", "a.test"}}).ok());
    ASSERT_TRUE(certs_->Commit("a.test", files).ok());
  }
  static Status Yes() { return OkStatus(); }
  std::optional<store::CertStore> certs_;
};

TEST_F(CertDeleteTest, UnknownOrInvalidNameIsUsage) {
  Status st = CheckDeletable(*certs_, "b.test");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUsage);
  EXPECT_NE(st.error().message.find("b.test"), std::string::npos);
  EXPECT_EQ(CheckDeletable(*certs_, "../x").error().code, ErrorCode::kUsage);
  auto done = DeleteCertificate(dir_, *certs_, "b.test", DeleteMode::kArchive, kNow, Yes);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, ErrorCode::kUsage);
  EXPECT_FALSE(Exists(dir_ + "/certs/b.test")) << "an unknown name must not be created";
}

TEST_F(CertDeleteTest, ArchiveMovesTheWholeDirectory) {
  auto done = DeleteCertificate(dir_, *certs_, "a.test", DeleteMode::kArchive, kNow, Yes);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->archive_dir, dir_ + "/archive/a.test-20261208T003507Z");
  EXPECT_FALSE(done->record_moved);
  EXPECT_FALSE(Exists(dir_ + "/certs/a.test"));
  EXPECT_TRUE(Exists(done->archive_dir + "/certs/a.test/settings.json"));
  EXPECT_TRUE(Exists(done->archive_dir + "/certs/a.test/live/fullchain.pem"));
  auto listed = certs_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(CertDeleteTest, SecondArchiveInTheSameSecondGetsItsOwnName) {
  ASSERT_TRUE(DeleteCertificate(dir_, *certs_, "a.test", DeleteMode::kArchive, kNow, Yes).ok());
  ASSERT_TRUE(MakeDirs(dir_ + "/certs/a.test", 0700).ok());
  auto again = DeleteCertificate(dir_, *certs_, "a.test", DeleteMode::kArchive, kNow, Yes);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->archive_dir, dir_ + "/archive/a.test-20261208T003507Z-2");
}

TEST_F(CertDeleteTest, PurgeRemovesEverything) {
  auto done = DeleteCertificate(dir_, *certs_, "a.test", DeleteMode::kPurge, kNow, Yes);
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_TRUE(done->archive_dir.empty());
  EXPECT_FALSE(Exists(dir_ + "/certs/a.test"));
  EXPECT_FALSE(Exists(dir_ + "/archive/.a.test-20261208T003507Z"));
}

TEST_F(CertDeleteTest, RefusedConfirmationChangesNothing) {
  auto done = DeleteCertificate(dir_, *certs_, "a.test", DeleteMode::kPurge, kNow,
                                [] { return Status(Err("not confirmed")); });
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().message, "not confirmed");
  EXPECT_TRUE(Exists(dir_ + "/certs/a.test/settings.json"));
}

TEST_F(CertDeleteTest, HeldLockIsRefused) {
  auto lock = certs_->Lock("a.test", /*wait=*/false);
  ASSERT_TRUE(lock.ok());
  // flock(2) locks belong to the open file description: a second open in
  // this process conflicts as another process's would.
  auto done = DeleteCertificate(dir_, *certs_, "a.test", DeleteMode::kArchive, kNow, Yes);
  ASSERT_FALSE(done.ok());
  EXPECT_NE(done.error().message.find("lock"), std::string::npos) << done.error().message;
  EXPECT_TRUE(Exists(dir_ + "/certs/a.test/settings.json"));
}

}  // namespace
}  // namespace bulkhead::manager
