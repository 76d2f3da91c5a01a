#include "dns/query.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "util/fs.h"

namespace bulkhead::dns {
namespace {

TEST(DnsQueryTest, ParsesServers) {
  EXPECT_EQ(*ParseServer("127.0.0.1"), (Server{"127.0.0.1", 53}));
  EXPECT_EQ(*ParseServer("127.0.0.1:5353"), (Server{"127.0.0.1", 5353}));
  EXPECT_EQ(*ParseServer("::1"), (Server{"::1", 53}));
  EXPECT_EQ(*ParseServer("[::1]"), (Server{"::1", 53}));
  EXPECT_EQ(*ParseServer("[::1]:8053"), (Server{"::1", 8053}));
  EXPECT_EQ(*ParseServer("127.0.0.1", 5300), (Server{"127.0.0.1", 5300}));
  for (const char* bad : {"", "localhost", "localhost:53", "127.0.0.1:", "127.0.0.1:0",
                          "127.0.0.1:65536", "127.0.0.1:x", "[::1]53", "[::1]:", "[::1",
                          "1.2.3.4.5", "[127.0.0.1:53"}) {
    auto s = ParseServer(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_EQ(s.error().code, ErrorCode::kUsage);
    }
  }
}

TEST(DnsQueryTest, ServerToStringRoundTrips) {
  EXPECT_EQ((Server{"127.0.0.1", 53}).ToString(), "127.0.0.1:53");
  EXPECT_EQ((Server{"::1", 5353}).ToString(), "[::1]:5353");
  EXPECT_EQ(*ParseServer((Server{"::1", 5353}).ToString()), (Server{"::1", 5353}));
}

TEST(DnsQueryTest, CanonicalNames) {
  EXPECT_EQ(Canonical("Example.TEST"), "example.test.");
  EXPECT_EQ(Canonical("example.test."), "example.test.");
  EXPECT_EQ(Canonical("example.test.."), "example.test.");
  EXPECT_EQ(Canonical(""), ".");
  EXPECT_EQ(Canonical("."), ".");
}

TEST(DnsQueryTest, TxtStringsJoinsCharacterStrings) {
  Record r;
  r.type = kTypeTxt;
  r.rdata = std::string("\x03" "abc" "\x02" "de", 7);
  EXPECT_EQ(*TxtStrings(r), "abcde");
  r.rdata = std::string("\x05" "ab", 3);
  EXPECT_FALSE(TxtStrings(r).ok());
  r.rdata.clear();
  EXPECT_EQ(*TxtStrings(r), "");
  r.type = kTypeA;
  EXPECT_FALSE(TxtStrings(r).ok());
}

TEST(DnsQueryTest, ReadsNameserversFromResolvConf) {
  char tmpl[] = "/tmp/bh-resolv-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::string path = tmpl;
  ASSERT_TRUE(WriteFileAtomic(path,
                              "# comment\nsearch example.org\nnameserver 192.0.2.53\n"
                              "nameserver\t2001:db8::53 # v6\nnameserver fe80::1%eth0\n"
                              "nameservers 192.0.2.1\nnameserver not-an-ip\n",
                              0644)
                  .ok());
  auto servers = SystemResolvers(path);
  ASSERT_TRUE(servers.ok()) << servers.error().message;
  EXPECT_EQ(*servers, (std::vector<Server>{{"192.0.2.53", 53}, {"2001:db8::53", 53}}));
  ASSERT_TRUE(WriteFileAtomic(path, "search example.org\n", 0644).ok());
  EXPECT_FALSE(SystemResolvers(path).ok());
  ::unlink(path.c_str());
}

TEST(DnsQueryTest, QueryToASilentServerTimesOutNamingIt) {
  // Nothing answers on port 9 of 127.0.0.1 (discard is not run in tests);
  // UDP gets a port-unreachable, so this fails fast either way.
  QueryOptions o;
  o.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto r = Query(Server{"127.0.0.1", 9}, "example.test", kTypeTxt, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("127.0.0.1:9"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(Query(Server{"127.0.0.1", 9}, "a..b", kTypeTxt, o).ok());
}

}  // namespace
}  // namespace bulkhead::dns
