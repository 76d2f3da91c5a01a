#include "crypto/warmup.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <string>

#include "crypto/key.h"

namespace bulkhead::crypto {
namespace {

// ChildRandom forks a child that writes 32 random bytes into a pipe and
// exits; returns them (empty on any failure).
std::string ChildRandom() {
  int fds[2];
  if (pipe(fds) != 0) {
    return "";
  }
  pid_t pid = fork();
  if (pid == 0) {
    std::array<unsigned char, 32> bytes{};
    int ok = RAND_bytes(bytes.data(), bytes.size()) == 1 &&
             write(fds[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  std::string out(32, '\0');
  ssize_t got = pid > 0 ? read(fds[0], out.data(), out.size()) : -1;
  close(fds[0]);
  int status = 0;
  if (pid > 0) {
    waitpid(pid, &status, 0);
  }
  return got == 32 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? out : "";
}

TEST(WarmUpTest, ChildrenDrawDifferentRandomBytesAfterWarmUp) {
  WarmUpBeforeFork();
  std::array<unsigned char, 32> parent{};
  ASSERT_EQ(RAND_bytes(parent.data(), parent.size()), 1);
  std::string a = ChildRandom();
  std::string b = ChildRandom();
  ASSERT_EQ(a.size(), 32u);
  ASSERT_EQ(b.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_NE(a, std::string(parent.begin(), parent.end()));
}

TEST(WarmUpTest, LeavesNoErrorsAndKeysStillWork) {
  ERR_clear_error();
  WarmUpBeforeFork();
  EXPECT_EQ(ERR_peek_error(), 0u);
  auto key = PrivateKey::Generate(KeyType::kEc256);
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto pem = key->ToPem();
  ASSERT_TRUE(pem.ok());
  auto again = PrivateKey::FromPem(pem->view());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->PublicKeyDer().value(), key->PublicKeyDer().value());
}

}  // namespace
}  // namespace bulkhead::crypto
