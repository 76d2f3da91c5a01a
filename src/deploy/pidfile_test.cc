#include "deploy/pidfile.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::deploy {
namespace {

TEST(PidFileTest, ParsesDigitsWithOptionalNewline) {
  ASSERT_TRUE(ParsePidFile("1234\n").ok());
  EXPECT_EQ(*ParsePidFile("1234\n"), 1234);
  EXPECT_EQ(*ParsePidFile("4194304"), 4194304);
}

TEST(PidFileTest, RejectsEverythingElse) {
  for (const char* bad : {"", "\n", " 12", "12 ", "+12", "-12", "12\n\n", "1\n2", "0x10", "1",
                          "0", "4194305", "99999999", "12a"}) {
    EXPECT_FALSE(ParsePidFile(bad).ok()) << "'" << bad << "'";
  }
}

TEST(PidFileTest, ReadPidFileCapsSizeAndReportsMissing) {
  TestTempDir tmp;
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  std::string big = dir + "/big.pid";
  ASSERT_TRUE(WriteFileAtomic(big, std::string(40, '1'), 0644).ok());
  EXPECT_FALSE(ReadPidFile(big).ok());
  auto missing = ReadPidFile(dir + "/none.pid");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  std::string good = dir + "/good.pid";
  ASSERT_TRUE(WriteFileAtomic(good, "77\n", 0644).ok());
  EXPECT_EQ(*ReadPidFile(good), 77);
  EXPECT_TRUE(RemoveTree(dir).ok());
}

// The pid file is the server user's to write: a symlink to a file only the
// service may read, or a FIFO that would block the reader for good, is
// refused (at once) instead of read.
TEST(PidFileTest, ReadPidFileRefusesSymlinksAndFifos) {
  TestTempDir tmp;
  ASSERT_TRUE(tmp.ok());
  const std::string& dir = tmp.path();
  ASSERT_TRUE(WriteFileAtomic(dir + "/real.pid", "77\n", 0644).ok());
  ASSERT_EQ(::symlink((dir + "/real.pid").c_str(), (dir + "/link.pid").c_str()), 0);
  auto linked = ReadPidFile(dir + "/link.pid");
  ASSERT_FALSE(linked.ok());
  EXPECT_NE(linked.error().message.find("link.pid"), std::string::npos) << linked.error().message;
  ASSERT_EQ(::mkfifo((dir + "/fifo.pid").c_str(), 0644), 0);
  auto fifo = ReadPidFile(dir + "/fifo.pid");
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.error().message.find("fifo.pid"), std::string::npos) << fifo.error().message;
}

TEST(PidFileTest, StatStartTimeSurvivesHostileCommandNames) {
  // starttime is field 22; the name contains ") " and spaces.
  std::string stat = "42 (evil) 1 2 3) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
                     "987654 1000 10 18446744073709551615";
  auto ticks = ParseStatStartTicks(stat);
  ASSERT_TRUE(ticks.ok()) << ticks.error().message;
  EXPECT_EQ(*ticks, 987654u);
  EXPECT_FALSE(ParseStatStartTicks("42 (x) S 1 2").ok());
  EXPECT_FALSE(ParseStatStartTicks("no parenthesis").ok());
}

TEST(PidFileTest, BootTime) {
  EXPECT_EQ(*ParseBootTime("cpu 1 2 3\nbtime 1700000000\nprocesses 5\n"), 1700000000);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n").ok());
  EXPECT_FALSE(ParseBootTime("btime x\n").ok());
}

TEST(PidFileTest, ExpectedFromPidFileUsesTheName) {
  EXPECT_EQ(ExpectedFromPidFile("/run/nginx.pid")->name, "nginx");
  EXPECT_EQ(ExpectedFromPidFile("/run/apache2/apache2.pid")->name, "apache2");
  EXPECT_FALSE(ExpectedFromPidFile("/run/.pid").ok());
}

TEST(PidFileTest, InspectsItselfAndMatchesByExeOrComm) {
  auto info = InspectProcess(::getpid());
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_GT(info->start_unix_ns, 0);
  ASSERT_FALSE(info->exe.empty());
  auto expected = ExpectedFromExe(info->exe);
  ASSERT_TRUE(expected.ok());
  EXPECT_TRUE(MatchesExpected(*info, *expected).ok());
  ExpectedProcess other{"/usr/sbin/nginx", "nginx"};
  EXPECT_FALSE(MatchesExpected(*info, other).ok());

  // Without a readable exe link only the (15-byte) name is compared.
  ProcessInfo no_exe;
  no_exe.pid = 10;
  no_exe.comm = "a-very-long-ser";
  EXPECT_TRUE(MatchesExpected(no_exe, ExpectedProcess{"", "a-very-long-server"}).ok());
  EXPECT_FALSE(MatchesExpected(no_exe, ExpectedProcess{"", "nginx"}).ok());

  // A binary replaced by an upgrade still counts.
  ProcessInfo deleted;
  deleted.pid = 11;
  deleted.exe = "/usr/sbin/nginx (deleted)";
  EXPECT_TRUE(MatchesExpected(deleted, other).ok());
  EXPECT_TRUE(MatchesExpected(deleted, ExpectedProcess{"", "nginx"}).ok());
}

TEST(PidFileTest, MissingProcessIsNotFound) {
  auto info = InspectProcess(4194304);
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace bulkhead::deploy
