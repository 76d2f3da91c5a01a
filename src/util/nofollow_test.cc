#include "util/nofollow.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bulkhead {
namespace {

// A uid that is neither root nor the caller, for symlinks "another user
// placed" (changing owners needs root).
std::optional<uid_t> StrangerUid() {
  struct passwd* pw = ::getpwnam("nobody");
  if (::geteuid() != 0 || pw == nullptr || pw->pw_uid == ::geteuid()) {
    return std::nullopt;
  }
  return pw->pw_uid;
}

class NoFollowTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SetOpenat2ForTesting(GetParam());
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr ? tmp : "/tmp") + "/bh-nofollow-test-XXXXXX";
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    // The walks below resolve the temporary directory itself: give it a
    // symlink-free name.
    auto resolved = ResolveTrustedDir(templ);
    ASSERT_TRUE(resolved.ok()) << resolved.error().message;
    dir_ = resolved->path;
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    // outside/ stands for a directory the walks must never reach.
    ASSERT_EQ(::mkdir((dir_ + "/outside").c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((dir_ + "/a").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((dir_ + "/a/b").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((dir_ + "/a/b/c").c_str(), 0755), 0);
  }
  void TearDown() override {
    SetOpenat2ForTesting(true);
    EXPECT_TRUE(RemoveTree(dir_).ok());
  }
  std::string dir_;
};

INSTANTIATE_TEST_SUITE_P(Openat2AndWalk, NoFollowTest, ::testing::Bool());

TEST_P(NoFollowTest, OpensARealDirectory) {
  auto fd = OpenDirNoFollow(dir_ + "/a/b/c");
  ASSERT_TRUE(fd.ok()) << fd.error().message;
  struct stat got, want;
  ASSERT_EQ(::fstat(fd->get(), &got), 0);
  ASSERT_EQ(::stat((dir_ + "/a/b/c").c_str(), &want), 0);
  EXPECT_EQ(got.st_ino, want.st_ino);
}

TEST_P(NoFollowTest, RefusesASymlinkAtEveryPosition) {
  // a -> outside, then a/b -> outside, then a/b/c -> outside: each time the
  // path a/b/c holds exactly one symlink, first, in the middle or last.
  for (std::string at : {"a", "a/b", "a/b/c"}) {
    std::string moved = dir_ + "/moved";
    ASSERT_EQ(::rename((dir_ + "/" + at).c_str(), moved.c_str()), 0) << at;
    ASSERT_EQ(::symlink((dir_ + "/outside").c_str(), (dir_ + "/" + at).c_str()), 0);
    // Make the rest of the path exist behind the link too.
    for (const char* sub : {"/outside/b", "/outside/b/c", "/outside/c"}) {
      ASSERT_TRUE(::mkdir((dir_ + sub).c_str(), 0755) == 0 || errno == EEXIST);
    }
    auto fd = OpenDirNoFollow(dir_ + "/a/b/c");
    ASSERT_FALSE(fd.ok()) << "a symlink at " << at << " was followed";
    EXPECT_NE(fd.error().message.find(dir_ + "/" + at + " is a symlink"), std::string::npos)
        << fd.error().message;
    ASSERT_EQ(::unlink((dir_ + "/" + at).c_str()), 0);
    ASSERT_EQ(::rename(moved.c_str(), (dir_ + "/" + at).c_str()), 0);
    ASSERT_TRUE(RemoveTree(dir_ + "/outside/b").ok());
    ASSERT_TRUE(RemoveTree(dir_ + "/outside/c").ok());
  }
}

TEST_P(NoFollowTest, RefusesANonDirectoryAndNamesAMissingOne) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/a/file", "x", 0644).ok());
  auto file = OpenDirNoFollow(dir_ + "/a/file/c");
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("/a/file is not a directory"), std::string::npos)
      << file.error().message;
  auto missing = OpenDirNoFollow(dir_ + "/a/nope/c");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("/a/nope does not exist"), std::string::npos)
      << missing.error().message;
}

TEST_P(NoFollowTest, ReadsOnlyRegularFilesItself) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/outside/secret", "secret", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/a/plain", "plain", 0644).ok());
  ASSERT_EQ(::symlink((dir_ + "/outside/secret").c_str(), (dir_ + "/a/link").c_str()), 0);
  ASSERT_EQ(::mkfifo((dir_ + "/a/fifo").c_str(), 0600), 0);

  EXPECT_EQ(*ReadFileNoFollow(dir_ + "/a/plain", 100), "plain");
  auto link = ReadFileNoFollow(dir_ + "/a/link", 100);
  ASSERT_FALSE(link.ok());
  EXPECT_NE(link.error().message.find("symlink"), std::string::npos) << link.error().message;
  // A FIFO is refused at once instead of blocking the reader.
  auto fifo = ReadFileNoFollow(dir_ + "/a/fifo", 100);
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.error().message.find("not a regular file"), std::string::npos);
  auto big = ReadFileNoFollow(dir_ + "/a/plain", 3);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("limit of 3"), std::string::npos);
  EXPECT_EQ(ReadFileNoFollow(dir_ + "/a/none", 100).error().code, ErrorCode::kNotFound);
}

TEST_P(NoFollowTest, TrustsOnlySymlinksNoOtherUserCouldPlace) {
  // Our own symlink in our own 0755 directory is followed, and the path
  // comes back without it.
  ASSERT_EQ(::symlink("a/b", (dir_ + "/mine").c_str()), 0);
  auto mine = ResolveTrustedDir(dir_ + "/mine/c/../c");
  ASSERT_TRUE(mine.ok()) << mine.error().message;
  EXPECT_EQ(mine->path, dir_ + "/a/b/c");

  // The same link in a directory everyone may write (no sticky bit): refused.
  ASSERT_EQ(::chmod((dir_ + "/a").c_str(), 0777), 0);
  ASSERT_EQ(::symlink(dir_.c_str(), (dir_ + "/a/up").c_str()), 0);
  auto open_dir = ResolveTrustedDir(dir_ + "/a/up/outside");
  ASSERT_FALSE(open_dir.ok());
  EXPECT_NE(open_dir.error().message.find("another user than root can change"),
            std::string::npos)
      << open_dir.error().message;
  // With the sticky bit, others cannot replace our entry: followed.
  ASSERT_EQ(::chmod((dir_ + "/a").c_str(), 01777), 0);
  EXPECT_TRUE(ResolveTrustedDir(dir_ + "/a/up/outside").ok());
  ASSERT_EQ(::chmod((dir_ + "/a").c_str(), 0755), 0);

  auto stranger = StrangerUid();
  if (!stranger) {
    GTEST_SKIP() << "the rest needs root and a user 'nobody'";
  }
  // A symlink another user owns: refused, naming its owner.
  ASSERT_EQ(::lchown((dir_ + "/a/up").c_str(), *stranger, static_cast<gid_t>(-1)), 0);
  auto theirs = ResolveTrustedDir(dir_ + "/a/up/outside");
  ASSERT_FALSE(theirs.ok());
  EXPECT_NE(theirs.error().message.find("symlink owned by nobody"), std::string::npos)
      << theirs.error().message;
  ASSERT_EQ(::lchown((dir_ + "/a/up").c_str(), 0, static_cast<gid_t>(-1)), 0);
  // Our symlink in a directory another user owns: refused (they could
  // replace it).
  ASSERT_EQ(::chown((dir_ + "/a").c_str(), *stranger, static_cast<gid_t>(-1)), 0);
  auto in_theirs = ResolveTrustedDir(dir_ + "/a/up/outside");
  ASSERT_FALSE(in_theirs.ok());
  EXPECT_NE(in_theirs.error().message.find("another user than root can change"),
            std::string::npos)
      << in_theirs.error().message;
  // A real directory another user owns is walked through.
  EXPECT_TRUE(ResolveTrustedDir(dir_ + "/a/b/c").ok());
}

TEST_P(NoFollowTest, CreatesMissingDirectoriesWithTheExactMode) {
  auto base = ResolveTrustedDir(dir_ + "/a");
  ASSERT_TRUE(base.ok());
  mode_t old_umask = ::umask(077);
  auto made = ResolveTrustedDirAt(*base, "x/y", 0755);
  ::umask(old_umask);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->path, dir_ + "/a/x/y");
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/a/x/y").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(made->st.st_ino, st.st_ino);
  // Without create_mode a missing one is kNotFound.
  EXPECT_EQ(ResolveTrustedDirAt(*base, "z", 0).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace bulkhead
