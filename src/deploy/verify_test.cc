#include "deploy/verify.h"

#include <thread>

#include <gtest/gtest.h>

#include "deploy/metrics.h"

namespace bulkhead::deploy {
namespace {

crypto::CertInfo Cert(const std::string& serial, const std::string& spki) {
  crypto::CertInfo c;
  c.serial_der = serial;
  c.serial_hex = serial;
  c.public_key_der = spki;
  c.not_after = 1234;
  return c;
}

TEST(VerifyTest, ParseHostPort) {
  auto a = ParseHostPort("example.org:443");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "example.org");
  EXPECT_EQ(a->port, 443);
  auto b = ParseHostPort("[::1]:8443");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 8443);
  for (const char* bad : {"example.org", ":443", "h:0", "h:65536", "h:", "::1:443", "[::1]443",
                          "h:44x"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

TEST(VerifyTest, SameNeedsSerialAndKey) {
  EXPECT_TRUE(SameCertificate(Cert("01", "k"), Cert("01", "k")));
  EXPECT_FALSE(SameCertificate(Cert("01", "k"), Cert("02", "k")));
  EXPECT_FALSE(SameCertificate(Cert("01", "k"), Cert("01", "other")));
  EXPECT_FALSE(SameCertificate(Cert("", ""), Cert("", "")));
}

TEST(VerifyTest, PollsUntilTheNewCertificateIsServed) {
  int calls = 0;
  ProbeLeafFn probe = [&calls]() -> Result<crypto::CertInfo> {
    ++calls;
    if (calls == 1) {
      return Err("connect: refused");
    }
    return calls < 3 ? Cert("old", "k1") : Cert("new", "k2");
  };
  int sleeps = 0;
  SleepFn sleep = [&sleeps](std::chrono::milliseconds) {
    ++sleeps;
    return true;
  };
  VerifyOutcome v = VerifyServed(Cert("new", "k2"), probe, std::chrono::seconds(30),
                                 std::chrono::milliseconds(1), sleep);
  EXPECT_TRUE(v.match) << v.message;
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(sleeps, 2);
  EXPECT_EQ(v.served_serial, "new");
}

TEST(VerifyTest, OldCertificateAfterTheWaitIsAFailure) {
  ProbeLeafFn probe = []() -> Result<crypto::CertInfo> { return Cert("old", "k1"); };
  SleepFn sleep = [](std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
    return true;
  };
  VerifyOutcome v = VerifyServed(Cert("new", "k2"), probe, std::chrono::milliseconds(30),
                                 std::chrono::milliseconds(5), sleep);
  EXPECT_FALSE(v.match);
  EXPECT_TRUE(v.probed);
  EXPECT_EQ(v.served_serial, "old");
  EXPECT_NE(v.message.find("serving serial old"), std::string::npos) << v.message;
}

TEST(MetricsTest, FormatsAndReadsBack) {
  WatchMetrics m;
  m.pidfile = "/run/a\"b\\c\n.pid";
  m.verify_target = "127.0.0.1:443";
  m.last_reload = 1700000000;
  m.last_reload_ok = true;
  m.last_verify = 1700000005;
  m.last_verify_ok = false;
  m.served_not_after = 1800000000;
  std::string text = FormatMetrics(m);
  EXPECT_NE(text.find("bulkhead_reload_last_timestamp_seconds{pidfile=\"/run/a\\\"b\\\\c\\n.pid\"} "
                      "1700000000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("bulkhead_verify_last_success{pidfile=\"/run/a\\\"b\\\\c\\n.pid\","
                      "target=\"127.0.0.1:443\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("bulkhead_served_cert_expiry_timestamp_seconds{"), std::string::npos);
  EXPECT_NE(text.find("# TYPE bulkhead_reload_last_success gauge\n"), std::string::npos);
  EXPECT_EQ(ParseLastReload(text), 1700000000);
  EXPECT_EQ(ParseLastReload("garbage\nbulkhead_reload_last_timestamp_seconds{x=\"y\"} zz\n"), 0);

  WatchMetrics plain;
  plain.pidfile = "/run/nginx.pid";
  EXPECT_EQ(FormatMetrics(plain).find("verify"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::deploy
