#include "util/fs.h"
#include "util/test_tmpdir.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace bulkhead {
namespace {

class FsTest : public TempDirTest {
 protected:
  std::vector<std::string> Entries() {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir_.c_str());
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") {
        out.push_back(n);
      }
    }
    ::closedir(d);
    return out;
  }

  static mode_t Mode(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
};

TEST_F(FsTest, WriteFileAtomicWritesAndReplaces) {
  std::string path = dir_ + "/f";
  ASSERT_TRUE(WriteFileAtomic(path, "first", 0600).ok());
  EXPECT_EQ(*ReadFileCapped(path, 100), "first");
  EXPECT_EQ(Mode(path), 0600u);
  ASSERT_TRUE(WriteFileAtomic(path, "second", 0644).ok());
  EXPECT_EQ(*ReadFileCapped(path, 100), "second");
  EXPECT_EQ(Mode(path), 0644u);
  // No temporary file is left beside it.
  EXPECT_EQ(Entries(), std::vector<std::string>{"f"});
}

TEST_F(FsTest, WriteFileAtomicVisibleOnlyIsStillAtomic) {
  std::string path = dir_ + "/token";
  ASSERT_TRUE(WriteFileAtomic(path, "a", 0644, Durability::kVisibleOnly).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "bb", 0644, Durability::kVisibleOnly).ok());
  EXPECT_EQ(*ReadFileCapped(path, 100), "bb");
  EXPECT_EQ(Mode(path), 0644u);
  EXPECT_EQ(Entries(), std::vector<std::string>{"token"});
  EXPECT_FALSE(WriteFileAtomic(dir_ + "/no/such", "x", 0644, Durability::kVisibleOnly).ok());
  EXPECT_EQ(Entries(), std::vector<std::string>{"token"});
}

TEST_F(FsTest, WriteFileAtomicFailureLeavesTargetAlone) {
  std::string path = dir_ + "/missing-dir/f";
  Status st = WriteFileAtomic(path, "x", 0600);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("missing-dir"), std::string::npos);
  EXPECT_TRUE(Entries().empty());
}

TEST_F(FsTest, CreateFileExclusiveRefusesExisting) {
  std::string path = dir_ + "/key";
  mode_t old = ::umask(0);  // Even a permissive umask must not widen the mode.
  Status st = CreateFileExclusive(path, "secret", 0600);
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(Mode(path), 0600u);
  Status again = CreateFileExclusive(path, "other", 0600);
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(*ReadFileCapped(path, 100), "secret");
}

TEST_F(FsTest, CreateFileExclusiveDoesNotFollowSymlink) {
  std::string target = dir_ + "/target";
  std::string link = dir_ + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  EXPECT_FALSE(CreateFileExclusive(link, "secret", 0600).ok());
  struct stat st;
  EXPECT_NE(::lstat(target.c_str(), &st), 0);
}

TEST_F(FsTest, ReadFileCappedEnforcesCap) {
  std::string path = dir_ + "/f";
  ASSERT_TRUE(WriteFileAtomic(path, std::string(100, 'a'), 0600).ok());
  Result<std::string> at_cap = ReadFileCapped(path, 100);
  ASSERT_TRUE(at_cap.ok());
  EXPECT_EQ(at_cap->size(), 100u);
  Result<std::string> over = ReadFileCapped(path, 99);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find(path), std::string::npos);
  EXPECT_NE(over.error().message.find("99"), std::string::npos);

  Result<std::string> missing = ReadFileCapped(dir_ + "/nope", 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(ReadFileCapped(dir_, 100).ok());  // A directory is refused.
}

TEST_F(FsTest, ReadSecretFileCapped) {
  std::string path = dir_ + "/k";
  ASSERT_TRUE(CreateFileExclusive(path, "-----BEGIN KEY-----\nabc\n", 0600).ok());
  Result<Secret> s = ReadSecretFileCapped(path, 1024);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->view(), "-----BEGIN KEY-----\nabc\n");
  EXPECT_FALSE(ReadSecretFileCapped(path, 5).ok());
  Result<Secret> missing = ReadSecretFileCapped(dir_ + "/nope", 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(FsTest, MakeDirsAndRemoveTree) {
  std::string deep = dir_ + "/a/b/c";
  ASSERT_TRUE(MakeDirs(deep, 0700).ok());
  EXPECT_TRUE(MakeDirs(deep, 0700).ok());  // Existing is fine.
  ASSERT_TRUE(WriteFileAtomic(deep + "/f", "x", 0600).ok());
  // RemoveTree must not follow a symlink out of the tree.
  std::string outside = dir_ + "/outside";
  ASSERT_TRUE(MakeDirs(outside, 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(outside + "/keep", "x", 0600).ok());
  ASSERT_EQ(::symlink(outside.c_str(), (dir_ + "/a/link").c_str()), 0);
  ASSERT_TRUE(RemoveTree(dir_ + "/a").ok());
  struct stat st;
  EXPECT_NE(::lstat((dir_ + "/a").c_str(), &st), 0);
  EXPECT_EQ(::lstat((outside + "/keep").c_str(), &st), 0);
  EXPECT_TRUE(RemoveTree(dir_ + "/never-existed").ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/file", "x", 0600).ok());
  EXPECT_FALSE(MakeDirs(dir_ + "/file", 0700).ok());
}

TEST_F(FsTest, FileLockContention) {
  std::string path = dir_ + "/lock";
  Result<FileLock> first = FileLock::Acquire(path, /*wait=*/false);
  ASSERT_TRUE(first.ok()) << first.error().message;
  Result<FileLock> second = FileLock::Acquire(path, /*wait=*/false);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find(path), std::string::npos);
  { FileLock released = std::move(first).value(); }
  Result<FileLock> third = FileLock::Acquire(path, /*wait=*/false);
  EXPECT_TRUE(third.ok());
}

TEST(FsDirNameTest, Cases) {
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(DirName("c"), ".");
}

}  // namespace
}  // namespace bulkhead
