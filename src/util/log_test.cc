#include "util/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

namespace bulkhead {
namespace {

TEST(LogTest, PlainLinesForATerminalOrAFile) {
  EXPECT_EQ(FormatLogLine(LogLevel::kError, "it failed\nbecause", false),
            "bulkhead: error: it failed\nbecause\n");
}

TEST(LogTest, JournalLinesCarryThePriorityAndStayOneEntry) {
  EXPECT_EQ(FormatLogLine(LogLevel::kError, "renewing a: failed\n  order: 500\n", true),
            "<3>bulkhead: error: renewing a: failed |   order: 500\n");
  EXPECT_EQ(FormatLogLine(LogLevel::kWarn, "w", true), "<4>bulkhead: warning: w\n");
  EXPECT_EQ(FormatLogLine(LogLevel::kInfo, "i\r\n", true), "<6>bulkhead: info: i\n");
  EXPECT_EQ(FormatLogLine(LogLevel::kDebug, "d", true), "<7>bulkhead: debug: d\n");
}

TEST(LogTest, JournalStreamMustNameStderr) {
  struct stat st;
  ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
  const char* saved = std::getenv("JOURNAL_STREAM");
  std::string old = saved != nullptr ? saved : "";
  ::setenv("JOURNAL_STREAM",
           (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
  EXPECT_TRUE(StderrIsJournal());
  ::setenv("JOURNAL_STREAM",
           (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str(), 1);
  EXPECT_FALSE(StderrIsJournal());  // Inherited by a child whose stderr went elsewhere.
  ::setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(StderrIsJournal());
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(StderrIsJournal());
  if (saved != nullptr) {
    ::setenv("JOURNAL_STREAM", old.c_str(), 1);
  }
}

}  // namespace
}  // namespace bulkhead
