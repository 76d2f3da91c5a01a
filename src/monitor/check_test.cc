#include "monitor/check.h"

#include <gtest/gtest.h>

#include <ctime>

#include "monitor/managed.h"
#include "monitor/report.h"
#include "probe/test_tls_server.h"

namespace bulkhead::monitor {
namespace {

using inventory::CheckState;

constexpr int64_t kNow = 1'800'000'000;
constexpr int64_t kDay = 86400;

probe::ProbeResult Probe(int64_t not_after, bool chain_valid = true, bool name_ok = true,
                         std::string chain_error = "") {
  probe::ProbeResult p;
  crypto::CertInfo leaf;
  leaf.not_before = kNow - 10 * kDay;
  leaf.not_after = not_after;
  leaf.der = "leaf-der";
  leaf.names = {"a.test"};
  p.chain = std::make_shared<const std::vector<crypto::CertInfo>>(std::vector{leaf});
  p.chain_valid = chain_valid;
  p.chain_error = std::move(chain_error);
  p.hostname_match = name_ok;
  p.checked_name = "a.test";
  p.address = "127.0.0.1";
  return p;
}

// Managed is a comparison with a managed certificate: the served one, or
// another that is not older.
std::optional<ManagedMatch> Managed(bool equal) {
  return ManagedMatch{"a.test", equal, /*served_older=*/false, "abc", kNow + 80 * kDay};
}

CheckState V(const probe::ProbeResult& p, std::optional<bool> managed = std::nullopt,
             Thresholds t = {}) {
  std::vector<std::string> reasons;
  return Verdict(p, kNow, t, managed ? Managed(*managed) : std::nullopt, &reasons);
}

TEST(MonitorVerdictTest, DaysThresholds) {
  EXPECT_EQ(V(Probe(kNow + 60 * kDay)), CheckState::kOk);
  EXPECT_EQ(V(Probe(kNow + 28 * kDay + 1)), CheckState::kOk);
  EXPECT_EQ(V(Probe(kNow + 28 * kDay)), CheckState::kPlan);
  EXPECT_EQ(V(Probe(kNow + 2 * kDay)), CheckState::kPlan);
  EXPECT_EQ(V(Probe(kNow + 2 * kDay - 1)), CheckState::kWarning);
  EXPECT_EQ(V(Probe(kNow + 1)), CheckState::kWarning);
  EXPECT_EQ(V(Probe(kNow)), CheckState::kError);
  EXPECT_EQ(V(Probe(kNow - kDay, false, true, "certificate has expired")), CheckState::kError);
}

TEST(MonitorVerdictTest, ConfigurableThresholds) {
  Thresholds t{.warn_days = 60, .crit_days = 10};
  EXPECT_EQ(V(Probe(kNow + 50 * kDay), std::nullopt, t), CheckState::kPlan);
  EXPECT_EQ(V(Probe(kNow + 5 * kDay), std::nullopt, t), CheckState::kWarning);
  EXPECT_EQ(V(Probe(kNow + 61 * kDay), std::nullopt, t), CheckState::kOk);
  EXPECT_TRUE(ValidateThresholds(t).ok());
  EXPECT_EQ(ValidateThresholds({.warn_days = 1, .crit_days = 2}).error().code, ErrorCode::kUsage);
  EXPECT_FALSE(ValidateThresholds({.warn_days = 1, .crit_days = -1}).ok());
}

TEST(MonitorVerdictTest, InvalidChainAndNameMismatchAreErrors) {
  std::vector<std::string> reasons;
  EXPECT_EQ(Verdict(Probe(kNow + 60 * kDay, false, true, "self-signed certificate"), kNow, {},
                    std::nullopt, &reasons),
            CheckState::kError);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], "invalid chain: self-signed certificate");
  reasons.clear();
  EXPECT_EQ(Verdict(Probe(kNow + 60 * kDay, true, false), kNow, {}, std::nullopt, &reasons),
            CheckState::kError);
  EXPECT_EQ(reasons[0], "certificate does not cover a.test");
}

TEST(MonitorVerdictTest, ExpiredIsReportedOnceWithItsDate) {
  std::vector<std::string> reasons;
  Verdict(Probe(kNow - 3 * kDay, false, true, "certificate has expired"), kNow, {}, std::nullopt,
          &reasons);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("3 days ago"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[0].find(crypto::FormatTime(kNow - 3 * kDay)), std::string::npos);
}

// A renewal the server never loaded: a failed deployment, whatever the old
// certificate's days left, named with both serials and expiries.
TEST(MonitorVerdictTest, ServingAnOlderCertificateThanTheManagedOneIsAWarning) {
  ManagedMatch older{"a.test", /*equal=*/false, /*served_older=*/true, "newserial",
                     kNow + 89 * kDay};
  std::vector<std::string> reasons;
  probe::ProbeResult p = Probe(kNow + 60 * kDay);
  crypto::CertInfo leaf = p.leaf();
  leaf.serial_hex = "oldserial";
  p.chain = std::make_shared<const std::vector<crypto::CertInfo>>(std::vector{leaf});
  EXPECT_EQ(Verdict(p, kNow, {}, older, &reasons), CheckState::kWarning);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], "serves an older certificate than the managed a.test: serial oldserial "
                        "(expires " + crypto::FormatTime(kNow + 60 * kDay) +
                        ") instead of serial newserial (expires " +
                        crypto::FormatTime(kNow + 89 * kDay) + "); reload the server");
  reasons.clear();
  EXPECT_EQ(Verdict(Probe(kNow - kDay, false, true, "certificate has expired"), kNow, {}, older,
                    &reasons),
            CheckState::kError);
}

TEST(MonitorVerdictTest, UnreloadedServerNeedsAttention) {
  EXPECT_EQ(V(Probe(kNow + 60 * kDay), false), CheckState::kPlan);
  EXPECT_EQ(V(Probe(kNow + 60 * kDay), true), CheckState::kOk);
  EXPECT_EQ(V(Probe(kNow + 1), false), CheckState::kWarning);
}

// Whole days elapsed: 10 days and 1 second ago is "10 days ago", never 11.
TEST(MonitorVerdictTest, ExpiryCountsWholeDaysAtTheBoundaries) {
  struct Case {
    int64_t not_after;
    const char* said;
  } cases[] = {
      {kNow - 10 * kDay - 1, "(10 days ago)"}, {kNow - 10 * kDay, "(10 days ago)"},
      {kNow - 10 * kDay + 1, "(9 days ago)"},  {kNow - kDay, "(1 day ago)"},
      {kNow - 1, "(less than a day ago)"},     {kNow, "(less than a day ago)"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> reasons;
    Verdict(Probe(c.not_after, false, true, "certificate has expired"), kNow, {}, std::nullopt,
            &reasons);
    ASSERT_EQ(reasons.size(), 1u);
    EXPECT_NE(reasons[0].find(c.said), std::string::npos) << reasons[0] << " wanted " << c.said;
  }
  std::vector<std::string> reasons;
  Verdict(Probe(kNow + 10 * kDay + kDay - 1), kNow, {}, std::nullopt, &reasons);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], "expires in 10 days");
}

TEST(MonitorManagedTest, ComparesCoveringLeaf) {
  ManagedCerts m;
  crypto::CertInfo served;
  served.der = "served";
  crypto::CertInfo old_leaf;
  old_leaf.der = "other";
  old_leaf.names = {"*.example.test"};
  m.Add("wild", old_leaf);
  auto r = m.Compare("www.example.test", served);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->name, "wild");
  EXPECT_FALSE(r->equal);
  crypto::CertInfo same = served;
  same.names = {"www.example.test"};
  m.Add("exact", same);
  r = m.Compare("WWW.example.test", served);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->name, "exact");
  EXPECT_TRUE(r->equal);
  EXPECT_FALSE(m.Compare("a.b.example.test", served).has_value());
}

// Older means issued or expiring before the managed leaf: what a server
// still holding the previous renewal serves.
TEST(MonitorManagedTest, TellsAnOlderServedCertificateFromAnotherOne) {
  ManagedCerts m;
  crypto::CertInfo managed;
  managed.der = "renewed";
  managed.names = {"a.test"};
  managed.serial_hex = "02";
  managed.not_before = kNow - kDay;
  managed.not_after = kNow + 89 * kDay;
  m.Add("a", managed);
  crypto::CertInfo previous = managed;
  previous.der = "previous";
  previous.not_before = kNow - 31 * kDay;
  previous.not_after = kNow + 59 * kDay;
  auto r = m.Compare("a.test", previous);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->equal);
  EXPECT_TRUE(r->served_older);
  EXPECT_EQ(r->managed_serial_hex, "02");
  EXPECT_EQ(r->managed_not_after, kNow + 89 * kDay);
  crypto::CertInfo newer = managed;
  newer.der = "newer";
  newer.not_before = kNow;
  newer.not_after = kNow + 90 * kDay;
  r = m.Compare("a.test", newer);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->served_older);
  r = m.Compare("a.test", managed);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->equal);
  EXPECT_FALSE(r->served_older);
}

TEST(MonitorReportTest, JsonAndTable) {
  EndpointCheck ok;
  ok.endpoint.host = "a.test";
  ok.endpoint.port = 443;
  ok.name = "a.test";
  ok.probe = Probe(kNow + 40 * kDay);
  RecordFromProbe(*ok.probe, &ok.record);
  ok.record.state = CheckState::kOk;
  EndpointCheck down;
  down.endpoint.host = "::1";
  down.endpoint.port = 8443;
  down.name = "::1";
  down.record.address = "::1";
  down.record.state = CheckState::kError;
  down.reasons = {"unreachable: [::1]:8443: connect: Connection refused"};
  down.record.error = down.reasons[0];

  auto j = CheckToJson(ok, kNow);
  EXPECT_EQ(j["endpoint"], "a.test:443");
  EXPECT_EQ(j["state"], "OK");
  EXPECT_EQ(j["leaf"]["days_left"], 40);
  EXPECT_EQ(j["leaf"]["not_after"], crypto::FormatTime(kNow + 40 * kDay));
  EXPECT_EQ(j["chain_valid"], true);
  EXPECT_EQ(j["up"], true);
  auto d = CheckToJson(down, kNow);
  EXPECT_EQ(d["endpoint"], "[::1]:8443");
  EXPECT_EQ(d["up"], false);
  EXPECT_TRUE(d["leaf"].is_null());
  EXPECT_TRUE(d["chain_valid"].is_null());

  std::string table = FormatTable({ok, down}, kNow);
  EXPECT_NE(table.find("STATE"), std::string::npos);
  EXPECT_NE(table.find("a.test:443"), std::string::npos);
  EXPECT_NE(table.find(" 40 "), std::string::npos) << table;
  EXPECT_NE(table.find("ERROR  [::1]:8443"), std::string::npos) << table;
  EXPECT_NE(table.find("    unreachable: [::1]:8443"), std::string::npos) << table;
}

TEST(MonitorRunChecksTest, EndToEndAgainstLoopbackServers) {
  using probe::testing::MakeCert;
  auto ca = MakeCert({"Root"}, -kDay, 3650 * kDay, nullptr, true);
  auto good = MakeCert({"localhost"}, -kDay, 90 * kDay, &ca, false);
  auto soon = MakeCert({"localhost"}, -kDay, 10 * kDay, &ca, false);
  probe::testing::TlsServer s1(good, {}, false);
  probe::testing::TlsServer s2(soon, {}, false);
  char tmpl[] = "/tmp/bulkhead-monitor-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  std::string pem = ca.Pem();
  ASSERT_EQ(write(fd, pem.data(), pem.size()), static_cast<ssize_t>(pem.size()));
  close(fd);
  CheckOptions o;
  o.ca_bundle = tmpl;
  o.timeout = std::chrono::milliseconds(5000);
  ManagedCerts managed;
  auto managed_leaf = crypto::ParseCertPem(good.Pem());
  ASSERT_TRUE(managed_leaf.ok());
  managed.Add("localhost", *managed_leaf);
  o.managed = &managed;
  std::vector<inventory::Endpoint> eps(3);
  eps[0].host = "127.0.0.1";
  eps[0].port = s1.port();
  eps[0].sni = "localhost";
  eps[1].host = "127.0.0.1";
  eps[1].port = s2.port();
  eps[1].sni = "localhost";
  eps[2].host = "no-such-host.invalid";
  auto checks = RunChecks(eps, o);
  unlink(tmpl);
  ASSERT_TRUE(checks.ok()) << checks.error().message;
  ASSERT_EQ(checks->size(), 3u);
  EXPECT_EQ((*checks)[0].record.state, CheckState::kOk) << (*checks)[0].record.error;
  EXPECT_EQ((*checks)[0].record.managed_match, std::optional<bool>(true));
  EXPECT_EQ((*checks)[0].managed_name, "localhost");
  // s2 serves an older certificate for the name than the managed one.
  EXPECT_EQ((*checks)[1].record.state, CheckState::kWarning);
  EXPECT_EQ((*checks)[1].record.managed_match, std::optional<bool>(false));
  ASSERT_FALSE((*checks)[1].reasons.empty());
  EXPECT_NE((*checks)[1].reasons.back().find("serves an older certificate"), std::string::npos)
      << (*checks)[1].reasons.back();
  EXPECT_EQ((*checks)[2].record.state, CheckState::kError);
  EXPECT_TRUE((*checks)[2].record.address.empty());
  EXPECT_EQ(WorstState(*checks), CheckState::kError);
  EXPECT_EQ((*checks)[0].record.sha256_fingerprint.size(), 64u);
}

TEST(MonitorReportTest, HeaderFindingsShownAndCountedOnlyWhenAsked) {
  EndpointCheck c;
  c.endpoint.host = "a.test";
  c.endpoint.port = 443;
  c.name = "a.test";
  c.probe = Probe(kNow + 40 * kDay);
  c.probe->http_status = 200;
  c.probe->http_headers = {{"strict-transport-security", "max-age=300"},
                           {"referrer-policy", "no-referrer"}};
  RecordFromProbe(*c.probe, &c.record);
  c.record.state = CheckState::kOk;
  c.http_checked = true;
  c.headers = JudgeHeaders(c.probe->http_headers);
  auto j = CheckToJson(c, kNow);
  EXPECT_EQ(j["http"]["status"], 200);
  EXPECT_EQ(j["http"]["ok"], false);
  EXPECT_EQ(j["http"]["affects_state"], false);
  EXPECT_EQ(j["http"]["strict_transport_security"]["value"], "max-age=300");
  EXPECT_EQ(j["http"]["strict_transport_security"]["max_age"], 300);
  EXPECT_EQ(j["http"]["content_security_policy"]["present"], false);
  EXPECT_EQ(j["http"]["content_security_policy"]["findings"][0], "CSP missing");
  EXPECT_EQ(j["http"]["referrer_policy"]["ok"], true);
  std::string table = FormatTable({c}, kNow);
  EXPECT_NE(table.find("    HSTS max-age=300, CSP missing, Referrer-Policy ok\n"), std::string::npos)
      << table;
  EXPECT_NE(table.find("    CSP missing (not counted without --http-headers)\n"), std::string::npos)
      << table;

  // No HTTP response: no verdict, and the reason why.
  EndpointCheck silent = c;
  silent.headers.reset();
  silent.probe->http_status.reset();
  silent.probe->http_error = "HTTP: timed out";
  auto s = CheckToJson(silent, kNow);
  EXPECT_TRUE(s["http"]["ok"].is_null());
  EXPECT_TRUE(s["http"]["strict_transport_security"].is_null());
  EXPECT_EQ(s["http"]["error"], "HTTP: timed out");
}

TEST(MonitorRunChecksTest, WeakHeadersAskedForMakeAWarning) {
  using probe::testing::MakeCert;
  auto ca = MakeCert({"Root"}, -kDay, 3650 * kDay, nullptr, true);
  auto leaf = MakeCert({"localhost"}, -kDay, 90 * kDay, &ca, false);
  std::string weak =
      "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=300\r\n"
      "Content-Security-Policy: default-src *; script-src 'self' 'unsafe-inline'\r\n"
      "Referrer-Policy: unsafe-url\r\nContent-Length: 0\r\n\r\n";
  std::string good =
      "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=63072000; includeSubDomains; "
      "preload\r\nContent-Security-Policy: default-src 'self'\r\n"
      "Referrer-Policy: strict-origin-when-cross-origin\r\nContent-Length: 0\r\n\r\n";
  probe::testing::TlsServer weak_server(leaf, {}, false, weak);
  probe::testing::TlsServer good_server(leaf, {}, false, good);
  char tmpl[] = "/tmp/bulkhead-monitor-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  std::string pem = ca.Pem();
  ASSERT_EQ(write(fd, pem.data(), pem.size()), static_cast<ssize_t>(pem.size()));
  close(fd);
  CheckOptions o;
  o.ca_bundle = tmpl;
  o.timeout = std::chrono::milliseconds(5000);
  o.tlsa.enabled = false;
  o.http_headers = true;
  std::vector<inventory::Endpoint> eps(2);
  eps[0].host = "127.0.0.1";
  eps[0].port = weak_server.port();
  eps[0].sni = "localhost";
  eps[1].host = "127.0.0.1";
  eps[1].port = good_server.port();
  eps[1].sni = "localhost";
  auto checks = RunChecks(eps, o);
  unlink(tmpl);
  ASSERT_TRUE(checks.ok()) << checks.error().message;
  ASSERT_EQ(checks->size(), 2u);
  const EndpointCheck& w = (*checks)[0];
  EXPECT_EQ(w.record.state, CheckState::kWarning);
  ASSERT_TRUE(w.headers.has_value());
  EXPECT_TRUE(w.headers_counted);
  EXPECT_EQ(w.reasons, (std::vector<std::string>{
                           "HSTS max-age=300 is below one year (31536000)",
                           "CSP script-src allows inline scripts ('unsafe-inline')",
                           "Referrer-Policy unsafe-url is not strict (want no-referrer, same-origin, "
                           "strict-origin or strict-origin-when-cross-origin)"}));
  EXPECT_NE(w.record.details_json.find("\"findings\""), std::string::npos) << w.record.details_json;
  const EndpointCheck& g = (*checks)[1];
  EXPECT_EQ(g.record.state, CheckState::kOk) << g.record.error;
  ASSERT_TRUE(g.headers.has_value());
  EXPECT_TRUE(g.headers->ok);
  EXPECT_TRUE(g.reasons.empty());
}

}  // namespace
}  // namespace bulkhead::monitor
