#include "dns/name.h"

#include <string>

#include <gtest/gtest.h>

namespace bulkhead::dns {
namespace {

TEST(DnsNameTest, AcceptsHostNamesAbsoluteOrNot) {
  EXPECT_TRUE(IsDnsName("example.test", false));
  EXPECT_TRUE(IsDnsName("example.test.", false));
  EXPECT_TRUE(IsDnsName("a-1.B.example", false));
}

TEST(DnsNameTest, UnderscoreOnlyWhenAllowed) {
  EXPECT_FALSE(IsDnsName("_acme-challenge.example.test", false));
  EXPECT_TRUE(IsDnsName("_acme-challenge.example.test", true));
}

TEST(DnsNameTest, RejectsBadShapes) {
  EXPECT_FALSE(IsDnsName("", true));
  EXPECT_FALSE(IsDnsName(".", true));
  EXPECT_FALSE(IsDnsName("a..b", true));
  EXPECT_FALSE(IsDnsName("*.example.test", true));
  EXPECT_FALSE(IsDnsName("a b.test", true));
  EXPECT_FALSE(IsDnsName("a\\.b.test", true));
  EXPECT_FALSE(IsDnsName(std::string(64, 'a') + ".test", true));
  EXPECT_TRUE(IsDnsName(std::string(63, 'a') + ".test", true));
  std::string long_name;
  for (int i = 0; i < 64; ++i) {
    long_name += "abc.";
  }
  EXPECT_FALSE(IsDnsName(long_name, true));  // 256 characters.
}

}  // namespace
}  // namespace bulkhead::dns
