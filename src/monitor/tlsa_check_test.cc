#include "monitor/tlsa_check.h"

#include <gtest/gtest.h>

#include "probe/test_tls_server.h"

namespace bulkhead::monitor {
namespace {

constexpr long kDay = 86400;

std::vector<crypto::CertInfo> Chain(const std::vector<const probe::testing::TestCert*>& certs) {
  std::vector<crypto::CertInfo> out;
  for (const auto* c : certs) {
    auto info = crypto::ParseCertPem(c->Pem());
    EXPECT_TRUE(info.ok());
    out.push_back(*info);
  }
  return out;
}

TEST(MonitorTlsaTest, OwnerOnlyForHostNames) {
  EXPECT_EQ(TlsaOwnerFor("Mail.Example.org", 25), std::optional<std::string>("_25._tcp.mail.example.org."));
  EXPECT_EQ(TlsaOwnerFor("127.0.0.1", 443), std::nullopt);
  EXPECT_EQ(TlsaOwnerFor("::1", 443), std::nullopt);
  EXPECT_EQ(TlsaOwnerFor("", 443), std::nullopt);
  EXPECT_EQ(TlsaOwnerFor("bad name", 443), std::nullopt);
}

TEST(MonitorTlsaTest, MatchMismatchAndNoRecords) {
  using probe::testing::MakeCert;
  auto ca = MakeCert({"Root"}, -kDay, 3650 * kDay, nullptr, true);
  auto leaf = MakeCert({"a.test"}, -kDay, 90 * kDay, &ca, false);
  auto other = MakeCert({"a.test"}, -kDay, 90 * kDay, &ca, false);
  auto served = Chain({&leaf, &ca});
  auto other_chain = Chain({&other, &ca});

  TlsaLookup l;
  l.owner = "_443._tcp.a.test.";
  dns::TlsaRecord ee;  // 3 1 1: the leaf's key.
  ASSERT_TRUE(dns::ComputeTlsa(served, &ee).ok());
  l.records.push_back(ee);

  TlsaVerdict v = JudgeTlsa(l, served);
  EXPECT_EQ(v.match, std::optional<bool>(true));
  EXPECT_NE(v.detail.find("not DNSSEC-validated"), std::string::npos) << v.detail;

  v = JudgeTlsa(l, other_chain);
  EXPECT_EQ(v.match, std::optional<bool>(false)) << v.detail;

  // Records are alternatives: one matching record is enough.
  TlsaLookup both = l;
  dns::TlsaRecord other_ee;
  ASSERT_TRUE(dns::ComputeTlsa(other_chain, &other_ee).ok());
  both.records.insert(both.records.begin(), other_ee);
  EXPECT_EQ(JudgeTlsa(both, served).match, std::optional<bool>(true));

  TlsaLookup none;
  none.owner = l.owner;
  v = JudgeTlsa(none, served);
  EXPECT_EQ(v.match, std::nullopt);
  EXPECT_NE(v.detail.find("no TLSA record"), std::string::npos);

  TlsaLookup failed;
  failed.owner = l.owner;
  failed.error = "timed out";
  v = JudgeTlsa(failed, served);
  EXPECT_EQ(v.match, std::nullopt);
  EXPECT_NE(v.detail.find("timed out"), std::string::npos);
}

TEST(MonitorTlsaTest, RecordsFromResponseSkipsUnusable) {
  dns::Response r;
  dns::Record good;
  good.type = dns::kTypeTlsa;
  good.rdata = std::string("\x03\x01\x01", 3) + std::string(32, 'x');
  dns::Record unknown = good;
  unknown.rdata[0] = 9;
  dns::Record cname;
  cname.type = dns::kTypeCname;
  cname.rdata = "whatever";
  dns::Record short_rdata = good;
  short_rdata.rdata = "\x03\x01";
  r.answer = {cname, good, unknown, short_rdata};
  TlsaLookup l;
  RecordsFromResponse(r, &l);
  ASSERT_EQ(l.records.size(), 1u);
  EXPECT_EQ(l.records[0].usage, dns::TlsaUsage::kDaneEe);
  EXPECT_EQ(l.records[0].data, std::string(32, 'x'));
  EXPECT_EQ(l.unusable, 2);
}

TEST(MonitorTlsaTest, NoResolverIsNotAskedForNothing) {
  // No owners: nothing to ask, so no resolver is needed.
  TlsaOptions o;
  o.enabled = true;
  o.resolver = dns::Server{"127.0.0.1", 9};
  auto r = LookupTlsa({}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace bulkhead::monitor
