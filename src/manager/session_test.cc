#include "manager/session.h"

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

}  // namespace
}  // namespace bulkhead::manager
