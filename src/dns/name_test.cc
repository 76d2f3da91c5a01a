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

TEST(DnsNameTest, HostNameVariantSaysWhatIsWrong) {
  DnsNameSyntax host;
  host.allow_final_dot = false;
  host.allow_wildcard = true;
  host.host_labels = true;
  host.min_labels = 2;
  EXPECT_EQ(CheckDnsName("*.example.test", host).fault, DnsNameFault::kNone);
  EXPECT_EQ(CheckDnsName("example.test.", host).fault, DnsNameFault::kLabel);
  EXPECT_EQ(CheckDnsName("", host).fault, DnsNameFault::kLength);
  DnsNameCheck edge = CheckDnsName("ok.-bad.test", host);
  EXPECT_EQ(edge.fault, DnsNameFault::kLabel);
  EXPECT_EQ(edge.label, "-bad");
  DnsNameCheck chars = CheckDnsName("a_b.test", host);
  EXPECT_EQ(chars.fault, DnsNameFault::kCharacter);
  EXPECT_EQ(chars.label, "a_b");
  EXPECT_EQ(CheckDnsName("*.*.test", host).fault, DnsNameFault::kCharacter);
  EXPECT_EQ(CheckDnsName("localhost", host).fault, DnsNameFault::kTooFewLabels);
  // The same names in the default (zone) variant.
  EXPECT_EQ(CheckDnsName("-bad.test.", DnsNameSyntax{}).fault, DnsNameFault::kNone);
  EXPECT_EQ(CheckDnsName("*.example.test", DnsNameSyntax{}).fault, DnsNameFault::kCharacter);
}

}  // namespace
}  // namespace bulkhead::dns
