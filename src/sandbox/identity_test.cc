#include "sandbox/identity.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::sandbox {
namespace {

bool HaveNobody() { return ::getpwnam("nobody") != nullptr; }

struct stat ModeStat(uid_t uid, gid_t gid, mode_t mode) {
  struct stat st {};
  st.st_uid = uid;
  st.st_gid = gid;
  st.st_mode = S_IFREG | mode;
  return st;
}

TEST(IdentityTest, LookupResolvesUsersAndGroups) {
  if (!HaveNobody()) {
    GTEST_SKIP() << "no user 'nobody' on this system";
  }
  auto who = LookupRunAs("nobody");
  ASSERT_TRUE(who.ok()) << who.error().message;
  EXPECT_EQ(who->user, "nobody");
  EXPECT_NE(who->uid, 0u);
  auto numeric = LookupRunAs(std::to_string(who->uid) + ":12345");
  ASSERT_TRUE(numeric.ok()) << numeric.error().message;
  EXPECT_EQ(numeric->uid, who->uid);
  EXPECT_EQ(numeric->gid, 12345u);  // A bare gid needs no database entry.
}

TEST(IdentityTest, LookupRejectsUnknownNamesAndRoot) {
  auto unknown = LookupRunAs("no-such-user-bulkhead-test");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kUsage);
  EXPECT_NE(unknown.error().message.find("no-such-user-bulkhead-test"), std::string::npos);
  auto root = LookupRunAs("root");
  ASSERT_FALSE(root.ok());
  EXPECT_NE(root.error().message.find("must not run as root"), std::string::npos);
  if (HaveNobody()) {
    auto bad_group = LookupRunAs("nobody:no-such-group-bulkhead-test");
    ASSERT_FALSE(bad_group.ok());
    EXPECT_NE(bad_group.error().message.find("no-such-group-bulkhead-test"), std::string::npos);
  }
}

TEST(IdentityTest, DefaultNeedsRootForAnotherUser) {
  if (::geteuid() == 0 || !HaveNobody()) {
    GTEST_SKIP() << "needs a non-root run and a user 'nobody'";
  }
  auto r = DefaultRunAs("nobody");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUsage);
  auto none = DefaultRunAs("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(IdentityTest, AccessFollowsOwnerGroupAndOtherBits) {
  RunAs who;
  who.uid = 1000;
  who.gid = 1000;
  who.groups = {1000, 2000};
  EXPECT_TRUE(AccessibleBy(ModeStat(1000, 0, 0600), who, R_OK | W_OK));
  EXPECT_FALSE(AccessibleBy(ModeStat(1000, 0, 0400), who, W_OK));
  // Owner bits decide for the owner even when group bits would allow more.
  EXPECT_FALSE(AccessibleBy(ModeStat(1000, 1000, 0460), who, W_OK));
  EXPECT_TRUE(AccessibleBy(ModeStat(0, 2000, 0440), who, R_OK));
  EXPECT_FALSE(AccessibleBy(ModeStat(0, 2000, 0440), who, W_OK));
  EXPECT_FALSE(AccessibleBy(ModeStat(0, 0, 0600), who, R_OK));
  EXPECT_TRUE(AccessibleBy(ModeStat(0, 0, 0604), who, R_OK));
  EXPECT_TRUE(AccessibleBy(ModeStat(0, 0, 0711), who, X_OK));
}

TEST(IdentityTest, CheckNamesThePathAndTheFix) {
  TestTempDir tmp;
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  RunAs stranger;
  stranger.uid = 54321;
  stranger.gid = 54321;
  stranger.user = "stranger";
  stranger.group = "strangers";
  if (::geteuid() == 54321) {
    GTEST_SKIP() << "running as the stranger's uid";
  }
  Status st = CheckAccessibleBy(dir, stranger, W_OK, "challenge directory");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("challenge directory " + dir), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("chown stranger"), std::string::npos) << st.error().message;
}

// The remaining tests change ownership and credentials: root only.
class RootIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || !HaveNobody()) {
      GTEST_SKIP() << "needs root and a user 'nobody'";
    }
    auto who = LookupRunAs("nobody");
    ASSERT_TRUE(who.ok());
    nobody_ = *who;
  }
  RunAs nobody_;
};

TEST_F(RootIdentityTest, DropIsPermanentAndKeepsTheParentDeathSignal) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
    Status st = DropPrivileges(nobody_);
    int death = 0;
    (void)::prctl(PR_GET_PDEATHSIG, &death);
    std::string out = fmt::format("{} {} {} {} {}", st.ok() ? "ok" : st.error().message,
                                  ::getuid(), ::geteuid(), ::setuid(0) == 0 ? "regained" : "no",
                                  death);
    (void)!::write(pipe_fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0) {
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(got, fmt::format("ok {} {} no {}", nobody_.uid, nobody_.uid, SIGKILL));
}

TEST_F(RootIdentityTest, ChownTreeGivesEverythingButFollowsNoLink) {
  TestTempDir tmp;
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  std::string outside = dir + "-outside";
  ASSERT_TRUE(WriteFileAtomic(outside, "x", 0600).ok());
  ASSERT_TRUE(MakeDirs(dir + "/1/sub", 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/1/privkey.pem", "k", 0600).ok());
  ASSERT_EQ(::symlink(outside.c_str(), (dir + "/link").c_str()), 0);
  ASSERT_TRUE(ChownTree(dir, nobody_).ok());
  for (const std::string& p : {dir, dir + "/1", dir + "/1/sub", dir + "/1/privkey.pem",
                               dir + "/link"}) {
    struct stat st;
    ASSERT_EQ(::lstat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_uid, nobody_.uid) << p;
    EXPECT_EQ(st.st_gid, nobody_.gid) << p;
  }
  struct stat st;
  ASSERT_EQ(::stat(outside.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "the link's target must keep its owner";
  ::unlink(outside.c_str());
}

TEST_F(RootIdentityTest, ChownTreeRefusesHardLinksAndSymlinksOnTheWay) {
  TestTempDir tmp;
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  std::string outside = dir + "/outside";  // Root's, must stay root's.
  ASSERT_TRUE(WriteFileAtomic(outside, "x", 0600).ok());
  ASSERT_TRUE(MakeDirs(dir + "/tree/sub", 0700).ok());

  // A hard link into the tree of a file from elsewhere: refused, untouched.
  ASSERT_EQ(::link(outside.c_str(), (dir + "/tree/sub/linked").c_str()), 0);
  Status linked = ChownTree(dir + "/tree", nobody_);
  ASSERT_FALSE(linked.ok());
  EXPECT_NE(linked.error().message.find("hard links"), std::string::npos)
      << linked.error().message;
  struct stat st;
  ASSERT_EQ(::stat(outside.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  ASSERT_EQ(::unlink((dir + "/tree/sub/linked").c_str()), 0);
  ASSERT_EQ(::chown((dir + "/tree").c_str(), 0, 0), 0);  // Given before the link was met.

  // The tree reached through a symlink another user placed: refused, and
  // nothing behind it changes owner.
  ASSERT_EQ(::symlink((dir + "/tree").c_str(), (dir + "/via").c_str()), 0);
  ASSERT_EQ(::lchown((dir + "/via").c_str(), nobody_.uid, nobody_.gid), 0);
  Status via = ChownTree(dir + "/via", nobody_);
  ASSERT_FALSE(via.ok());
  EXPECT_NE(via.error().message.find("symlink owned by nobody"), std::string::npos)
      << via.error().message;
  ASSERT_EQ(::stat((dir + "/tree").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);

  // A directory in the tree that is a symlink to root's directory: the
  // link is given, the directory it names is not entered.
  ASSERT_EQ(::mkdir((dir + "/rootdir").c_str(), 0700), 0);
  ASSERT_EQ(::symlink((dir + "/rootdir").c_str(), (dir + "/tree/sub/dirlink").c_str()), 0);
  ASSERT_TRUE(ChownTree(dir + "/tree", nobody_).ok());
  ASSERT_EQ(::stat((dir + "/rootdir").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  ASSERT_EQ(::lstat((dir + "/tree/sub/dirlink").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, nobody_.uid);
}

}  // namespace
}  // namespace bulkhead::sandbox
