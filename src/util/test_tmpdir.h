// A fresh temporary directory per unit test, removed afterwards. Included by
// tests only (it needs GoogleTest); nothing in the programs uses it.
#ifndef BULKHEAD_UTIL_TEST_TMPDIR_H_
#define BULKHEAD_UTIL_TEST_TMPDIR_H_

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "util/fs.h"

namespace bulkhead {

// MakeTestTempDir creates a new mode-0700 directory under $TMPDIR (else
// /tmp), named after the running test suite, and returns its path; "" if
// mkdtemp failed. The caller removes it (TestTempDir and TempDirTest do).
inline std::string MakeTestTempDir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info != nullptr ? info->test_suite_name() : "test";
  // Parameterised suites are named "Prefix/Suite": keep the name one path
  // component.
  for (char& c : name) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
    if (!safe) {
      c = '_';
    }
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string templ =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/bh-" + name + "-XXXXXX";
  return ::mkdtemp(templ.data()) != nullptr ? templ : std::string();
}

// TestTempDir owns a MakeTestTempDir directory for one test body and
// removes it with everything in it when destroyed. path() is "" if the
// directory could not be made: ASSERT_TRUE(tmp.ok()) before using it.
class TestTempDir {
 public:
  TestTempDir() : path_(MakeTestTempDir()) {}
  ~TestTempDir() {
    if (!path_.empty()) {
      (void)RemoveTree(path_);
    }
  }
  TestTempDir(const TestTempDir&) = delete;
  TestTempDir& operator=(const TestTempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// TempDirTest is a fixture for tests that work in one fresh directory,
// dir_; removing it after the test must succeed. Fixtures that need more
// set-up derive from it and call TempDirTest::SetUp() first.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTestTempDir();
    ASSERT_FALSE(dir_.empty()) << "mkdtemp: " << std::strerror(errno);
  }
  void TearDown() override {
    if (!dir_.empty()) {
      EXPECT_TRUE(RemoveTree(dir_).ok()) << dir_;
    }
  }

  std::string dir_;
};

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_TEST_TMPDIR_H_
