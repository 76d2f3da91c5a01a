#include "roles/dns.h"

#include <gtest/gtest.h>

namespace bulkhead::roles {
namespace {

TEST(DnsPolicyTest, UdpAndPort53WithoutAResolver) {
  dns::TlsaLookup lookup;
  sandbox::Policy p = DnsPolicy(lookup, 9);
  EXPECT_EQ(p.role, sandbox::Role::kNet);
  EXPECT_TRUE(p.udp);
  EXPECT_EQ(p.connect_ports, std::vector<uint16_t>{53});
  EXPECT_TRUE(p.write_dirs.empty());
  EXPECT_TRUE(p.bind_ports.empty());
  EXPECT_EQ(p.ipc_fd, 9);
}

TEST(DnsPolicyTest, TheResolversPortToo) {
  dns::TlsaLookup lookup;
  lookup.resolver = dns::Server{"127.0.0.1", 5353};
  sandbox::Policy p = DnsPolicy(lookup, 9);
  EXPECT_EQ(p.connect_ports, (std::vector<uint16_t>{53, 5353}));
}

}  // namespace
}  // namespace bulkhead::roles
