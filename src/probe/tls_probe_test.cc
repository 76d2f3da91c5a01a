#include "probe/tls_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

#include "probe/engine.h"
#include "probe/test_tls_server.h"

namespace bulkhead::probe {
namespace {

using testing::MakeCert;
using testing::TestCert;
using testing::TlsServer;

constexpr long kDay = 86400;

// Fixture: a CA, an intermediate and a bundle file holding the CA.
class TlsProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = MakeCert({"Test Root"}, -kDay, 3650 * kDay, nullptr, /*is_ca=*/true);
    inter_ = MakeCert({"Test Intermediate"}, -kDay, 3650 * kDay, &ca_, /*is_ca=*/true);
    char tmpl[] = "/tmp/bulkhead-probe-XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    bundle_ = tmpl;
    std::ofstream(bundle_) << ca_.Pem();
  }
  void TearDown() override { std::remove(bundle_.c_str()); }

  ProbeRequest Request(uint16_t port, const std::string& host = "good.test") {
    ProbeRequest r;
    r.host = host;
    r.address = "127.0.0.1";
    r.port = port;
    r.ca_bundle = bundle_;
    r.timeout = std::chrono::milliseconds(5000);
    return r;
  }

  TestCert ca_;
  TestCert inter_;
  std::string bundle_;
};

TEST_F(TlsProbeTest, ValidChainReportsEverything) {
  TestCert leaf = MakeCert({"good.test", "www.good.test"}, -kDay, 60 * kDay, &inter_, false);
  TlsServer server(leaf, {&inter_}, /*smtp=*/false);
  auto r = ProbeTls(Request(server.port()));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->chain_valid) << r->chain_error;
  EXPECT_TRUE(r->hostname_match);
  EXPECT_EQ(r->address, "127.0.0.1");
  EXPECT_EQ(r->tls_version, "TLSv1.3");
  EXPECT_FALSE(r->cipher.empty());
  ASSERT_EQ(r->chain->size(), 2u);
  EXPECT_EQ(r->leaf().subject_cn, "good.test");
  EXPECT_EQ(r->leaf().names, (std::vector<std::string>{"good.test", "www.good.test"}));
  EXPECT_EQ(r->leaf().der, r->leaf().der);
  EXPECT_EQ((*r->chain)[1].subject_cn, "Test Intermediate");
  EXPECT_EQ(r->leaf_key.key_type, "EC");
  EXPECT_EQ(r->leaf_key.key_bits, 256);
  EXPECT_EQ(r->leaf_key.curve, "prime256v1");
  EXPECT_EQ(r->leaf_key.signature_algorithm, "ecdsa-with-SHA256");
  int64_t now = std::time(nullptr);
  EXPECT_NEAR(static_cast<double>(r->leaf().not_after), static_cast<double>(now + 60 * kDay), 5);
}

TEST_F(TlsProbeTest, ExpiredCertificateStillReportedWithDates) {
  TestCert leaf = MakeCert({"good.test"}, -30 * kDay, -2 * kDay, &inter_, false);
  TlsServer server(leaf, {&inter_}, false);
  auto r = ProbeTls(Request(server.port()));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->chain_valid);
  EXPECT_NE(r->chain_error.find("expired"), std::string::npos) << r->chain_error;
  EXPECT_TRUE(r->hostname_match);
  EXPECT_LT(r->leaf().not_after, std::time(nullptr));
  EXPECT_GT(r->leaf().not_after, 0);
}

TEST_F(TlsProbeTest, WrongNameIsSeparateFromChainValidity) {
  TestCert leaf = MakeCert({"other.test"}, -kDay, 60 * kDay, &inter_, false);
  TlsServer server(leaf, {&inter_}, false);
  auto r = ProbeTls(Request(server.port()));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->chain_valid) << r->chain_error;
  EXPECT_FALSE(r->hostname_match);
  EXPECT_EQ(r->checked_name, "good.test");
}

TEST_F(TlsProbeTest, SniOverridesTheCheckedName) {
  TestCert leaf = MakeCert({"other.test"}, -kDay, 60 * kDay, &inter_, false);
  TlsServer server(leaf, {&inter_}, false);
  ProbeRequest req = Request(server.port());
  req.sni = "other.test";
  auto r = ProbeTls(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->hostname_match);
  EXPECT_EQ(r->sni, "other.test");
}

TEST_F(TlsProbeTest, IncompleteChainAndSelfSignedAreInvalid) {
  TestCert leaf = MakeCert({"good.test"}, -kDay, 60 * kDay, &inter_, false);
  TlsServer incomplete(leaf, {}, false);
  auto r = ProbeTls(Request(incomplete.port()));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->chain_valid);
  EXPECT_EQ(r->chain->size(), 1u);

  TestCert self = MakeCert({"good.test"}, -kDay, 60 * kDay, nullptr, false);
  TlsServer self_signed(self, {}, false);
  auto s = ProbeTls(Request(self_signed.port()));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->chain_valid);
  EXPECT_TRUE(s->hostname_match);
}

TEST_F(TlsProbeTest, SmtpStartTls) {
  TestCert leaf = MakeCert({"mail.test"}, -kDay, 60 * kDay, &inter_, false);
  TlsServer server(leaf, {&inter_}, /*smtp=*/true);
  ProbeRequest req = Request(server.port(), "mail.test");
  req.starttls = StartTls::kSmtp;
  auto r = ProbeTls(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->chain_valid) << r->chain_error;
  EXPECT_TRUE(r->hostname_match);
}

TEST_F(TlsProbeTest, StartTlsAgainstPlainTlsFailsInThatPhase) {
  TestCert leaf = MakeCert({"good.test"}, -kDay, 60 * kDay, &inter_, false);
  TlsServer server(leaf, {&inter_}, false);
  ProbeRequest req = Request(server.port());
  req.starttls = StartTls::kSmtp;
  req.timeout = std::chrono::milliseconds(300);
  auto r = ProbeTls(req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("starttls"), std::string::npos) << r.error().message;
}

TEST_F(TlsProbeTest, HttpHeadersCollected) {
  TestCert leaf = MakeCert({"good.test"}, -kDay, 60 * kDay, &inter_, false);
  TlsServer server(leaf, {&inter_}, false,
                   "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=63072000\r\n"
                   "Referrer-Policy: no-referrer\r\nContent-Length: 0\r\n\r\n");
  ProbeRequest req = Request(server.port());
  req.http_headers = true;
  auto r = ProbeTls(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->http_status.has_value()) << r->http_error;
  EXPECT_EQ(*r->http_status, 200);
  EXPECT_EQ(r->http_headers["strict-transport-security"], "max-age=63072000");
  EXPECT_EQ(r->http_headers.count("referrer-policy"), 1u);
  EXPECT_EQ(r->http_headers.count("content-security-policy"), 0u);
}

TEST_F(TlsProbeTest, RefusedConnectionNamesAddressAndPhase) {
  // Bind a port and close it again so nothing listens there.
  TestCert leaf = MakeCert({"good.test"}, -kDay, 60 * kDay, &inter_, false);
  uint16_t port = 0;
  {
    TlsServer server(leaf, {}, false);
    port = server.port();
  }
  auto r = ProbeTls(Request(port));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("127.0.0.1:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("connect"), std::string::npos) << r.error().message;
}

TEST_F(TlsProbeTest, SilentServerTimesOut) {
  // A listening socket that never answers the handshake.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ProbeRequest req = Request(ntohs(sa.sin_port));
  req.timeout = std::chrono::milliseconds(200);
  auto r = ProbeTls(req);
  close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("handshake: timed out"), std::string::npos)
      << r.error().message;
}

TEST_F(TlsProbeTest, MissingCaBundleFails) {
  ProbeRequest req = Request(1);
  req.ca_bundle = bundle_ + ".missing";
  auto r = ProbeTls(req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("CA bundle"), std::string::npos) << r.error().message;
}

TEST_F(TlsProbeTest, EngineProbesManyOnePerAddressAndSharesChains) {
  TestCert leaf = MakeCert({"good.test"}, -kDay, 60 * kDay, &inter_, false);
  TlsServer a(leaf, {&inter_}, false);
  TlsServer b(leaf, {&inter_}, false);
  std::vector<ProbeRequest> reqs;
  for (int i = 0; i < 6; ++i) {
    reqs.push_back(Request(i % 2 == 0 ? a.port() : b.port()));
  }
  size_t done = 0;
  auto results = ProbeAll(reqs, EngineOptions{.concurrency = 4,
                                              .on_done = [&done](size_t, const auto&) { ++done; }});
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->size(), 6u);
  EXPECT_EQ(done, 6u);
  for (const auto& r : *results) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->chain_valid);
  }
  // The same served chain is parsed once.
  EXPECT_EQ((*results)[0]->chain.get(), (*results)[5]->chain.get());
  EXPECT_EQ(a.connections(), 3);
  EXPECT_EQ(b.connections(), 3);
}

TEST(TlsProbeNamesTest, IpLiteralsAndStartTlsNames) {
  EXPECT_TRUE(IsIpLiteral("127.0.0.1"));
  EXPECT_TRUE(IsIpLiteral("::1"));
  EXPECT_FALSE(IsIpLiteral("example.com"));
  EXPECT_FALSE(IsIpLiteral("[::1]"));
  for (auto m : {StartTls::kNone, StartTls::kSmtp, StartTls::kImap, StartTls::kPop3,
                 StartTls::kLdap, StartTls::kPostgres}) {
    auto parsed = ParseStartTls(StartTlsName(m));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, m);
  }
  auto bad = ParseStartTls("ftp");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kUsage);
}

}  // namespace
}  // namespace bulkhead::probe
