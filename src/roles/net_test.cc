#include "roles/net.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace bulkhead::roles {
namespace {

TEST(CaPortTest, TheUrlsPortOr443) {
  CaConfig ca;
  ca.directory_url = "https://127.0.0.1:14000/dir";
  EXPECT_EQ(CaPort(ca), 14000);
  ca.directory_url = "https://[::1]:14000/dir";
  EXPECT_EQ(CaPort(ca), 14000);
  ca.directory_url = "https://[::1]/dir";
  EXPECT_EQ(CaPort(ca), 443);
  ca.directory_url = "https://acme.example/dir";
  EXPECT_EQ(CaPort(ca), 443);
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
}  // namespace bulkhead::roles
