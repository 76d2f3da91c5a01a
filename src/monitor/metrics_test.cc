#include "monitor/metrics.h"

#include <gtest/gtest.h>

namespace bulkhead::monitor {
namespace {

TEST(MonitorMetricsTest, GroupsFamiliesWithHelpAndType) {
  inventory::Endpoint e;
  e.host = "a.test";
  e.port = 443;
  inventory::CheckRecord r;
  r.address = "192.0.2.1";
  r.checked_at = 1000;
  r.not_before = 500;
  r.not_after = 1'800'000'000;
  r.key_bits = 256;
  r.chain_valid = true;
  r.hostname_match = false;
  r.state = inventory::CheckState::kError;
  inventory::CheckRecord down;
  down.address = "2001:db8::1";
  down.checked_at = 1000;
  down.state = inventory::CheckState::kError;
  MetricsWriter w;
  AppendCheckMetrics(e, r, 1000, &w);
  AppendCheckMetrics(e, down, 1000, &w);
  std::string text = w.Text();
  const std::string labels = R"({endpoint="a.test:443",address="192.0.2.1",name="a.test"})";
  EXPECT_NE(text.find("# TYPE bulkhead_endpoint_up gauge\n"
                      "bulkhead_endpoint_up" + labels + " 1\n"
                      R"(bulkhead_endpoint_up{endpoint="a.test:443",address="2001:db8::1",name="a.test"} 0)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("bulkhead_cert_not_after_seconds" + labels + " 1800000000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("bulkhead_cert_expires_in_seconds" + labels + " 1799999000\n"),
            std::string::npos);
  EXPECT_NE(text.find("bulkhead_cert_not_before_seconds" + labels + " 500\n"), std::string::npos);
  EXPECT_NE(text.find("bulkhead_cert_key_bits" + labels + " 256\n"), std::string::npos);
  EXPECT_NE(text.find("bulkhead_cert_chain_valid" + labels + " 1\n"), std::string::npos);
  EXPECT_NE(text.find("bulkhead_cert_hostname_match" + labels + " 0\n"), std::string::npos);
  EXPECT_NE(text.find("bulkhead_endpoint_state" + labels + " 3\n"), std::string::npos);
  // Unknown tri-states are left out, not reported as 0.
  EXPECT_EQ(text.find("bulkhead_tlsa_match"), std::string::npos);
  EXPECT_EQ(text.find("bulkhead_cert_managed_match"), std::string::npos);
  // The address that did not answer has no certificate samples.
  EXPECT_EQ(text.find(R"(bulkhead_cert_not_after_seconds{endpoint="a.test:443",address="2001)"),
            std::string::npos);
  // Each family's HELP appears once.
  size_t first = text.find("# HELP bulkhead_endpoint_up");
  EXPECT_EQ(text.find("# HELP bulkhead_endpoint_up", first + 1), std::string::npos);
}

TEST(MonitorMetricsTest, EscapesLabelValuesAndRenewal) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  MetricsWriter w;
  AppendRenewalPlanned("ex\"ample", 1700000000, 1705000000, &w);
  std::string text = w.Text();
  EXPECT_NE(text.find("bulkhead_renewal_planned_seconds{name=\"ex\\\"ample\"} 1700000000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("bulkhead_managed_cert_not_after_seconds{name=\"ex\\\"ample\"} 1705000000\n"),
            std::string::npos);
}

TEST(MonitorMetricsTest, FractionalValues) {
  MetricsWriter w;
  w.Gauge("x", "help", {}, 0.5);
  EXPECT_EQ(w.Text(), "# HELP x help\n# TYPE x gauge\nx 0.5\n");
}

}  // namespace
}  // namespace bulkhead::monitor
