#include "manager/session.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace bulkhead::manager {
namespace {

TEST(PinCaAddressesTest, AnIpLiteralNeedsNoLookup) {
  for (const char* url : {"https://127.0.0.1:14000/dir", "https://[::1]:14000/dir"}) {
    CaConfig ca;
    ca.directory_url = url;
    ASSERT_TRUE(PinCaAddresses(&ca).ok()) << url;
    EXPECT_TRUE(ca.pinned.empty()) << url;
    EXPECT_EQ(CaPort(ca), 14000);
  }
}

TEST(PinCaAddressesTest, ANameIsResolvedIntoOneCurlEntry) {
  CaConfig ca;
  ca.directory_url = "https://localhost/directory";
  Status st = PinCaAddresses(&ca);
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_EQ(ca.pinned.size(), 1U);
  // HOST:PORT:ADDR[,ADDR], the default port, IPv6 in brackets.
  EXPECT_EQ(ca.pinned[0].rfind("localhost:443:", 0), 0U) << ca.pinned[0];
  EXPECT_NE(ca.pinned[0].find("127.0.0.1"), std::string::npos) << ca.pinned[0];
  EXPECT_EQ(HttpOptionsFor(ca).resolve, ca.pinned);
}

TEST(PinCaAddressesTest, AnUnknownHostIsAnErrorNamingIt) {
  CaConfig ca;
  // .invalid never resolves (RFC 6761).
  ca.directory_url = "https://acme.bulkhead.invalid:8443/dir";
  Status st = PinCaAddresses(&ca);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("cannot resolve the CA's host acme.bulkhead.invalid"),
            std::string::npos)
      << st.error().message;
}

TEST(CaNetPolicyTest, TcpToTheCaPortAndNoResolverFiles) {
  CaConfig ca;
  ca.directory_url = "https://127.0.0.1:14000/dir";
  ca.ca_bundle = "/tmp/bundle.pem";
  sandbox::Policy p = CaNetPolicy(ca, 7);
  EXPECT_EQ(p.role, sandbox::Role::kNet);
  EXPECT_EQ(p.connect_ports, std::vector<uint16_t>{14000});
  EXPECT_FALSE(p.udp);
  EXPECT_EQ(p.ipc_fd, 7);
  for (const std::string& path : p.read_paths) {
    EXPECT_EQ(path.find("/etc/resolv.conf"), std::string::npos);
    EXPECT_EQ(path.find("nsswitch"), std::string::npos);
    EXPECT_EQ(path.find("/etc/hosts"), std::string::npos);
  }
  EXPECT_NE(std::find(p.read_paths.begin(), p.read_paths.end(), "/tmp/bundle.pem"),
            p.read_paths.end());
}

}  // namespace
}  // namespace bulkhead::manager
