#include "roles/process.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace bulkhead::roles {
namespace {

TEST(RoleProcessTest, StartsAndReapsARole) {
  auto role = RoleProcess::Start("unit", {}, [] { return 0; });
  ASSERT_TRUE(role.ok()) << role.error().message;
  Status ended = role->Wait(std::chrono::seconds(10));
  EXPECT_TRUE(ended.ok()) << ended.error().message;
}

TEST(RoleProcessTest, ANonZeroExitIsAnErrorNamingTheRole) {
  auto role = RoleProcess::Start("unit", {}, [] { return 3; });
  ASSERT_TRUE(role.ok()) << role.error().message;
  Status ended = role->Wait(std::chrono::seconds(10));
  ASSERT_FALSE(ended.ok());
  EXPECT_NE(ended.error().message.find("unit"), std::string::npos) << ended.error().message;
}

// A child forked while another thread runs may inherit a lock that thread
// held (malloc's, OpenSSL's) and hang on it; Start refuses instead.
TEST(RoleProcessTest, RefusesToForkFromAThreadedProcess) {
  ASSERT_EQ(ThreadCount(), 1);
  std::atomic<bool> started{false};
  std::atomic<bool> stop{false};
  std::thread other([&] {
    started = true;
    while (!stop) {
      std::this_thread::yield();
    }
  });
  while (!started) {
    std::this_thread::yield();
  }
  EXPECT_EQ(ThreadCount(), 2);
  auto role = RoleProcess::Start("unit", {}, [] { return 0; });
  stop = true;
  other.join();
  ASSERT_FALSE(role.ok());
  EXPECT_NE(role.error().message.find("starting the unit role"), std::string::npos)
      << role.error().message;
  EXPECT_NE(role.error().message.find("2 threads"), std::string::npos) << role.error().message;
  EXPECT_EQ(ThreadCount(), 1);
}

}  // namespace
}  // namespace bulkhead::roles
