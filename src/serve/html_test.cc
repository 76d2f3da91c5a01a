#include "serve/html.h"

#include <string>

#include <gtest/gtest.h>

namespace bulkhead::serve {
namespace {

TEST(HtmlEscapeTest, EscapesMarkupAndControls) {
  EXPECT_EQ(HtmlEscape("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("plain text\twith tab"), "plain text\twith tab");
  EXPECT_EQ(HtmlEscape(std::string("a\x01" "b\x7f", 4)), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(HtmlEscape("caf\xC3\xA9"), "caf\xC3\xA9");
}

Snapshot HostileSnapshot() {
  Snapshot s;
  s.now = 1767225600;  // 2026-01-01T00:00:00Z
  EndpointView ev;
  ev.endpoint.id = 1;
  ev.endpoint.host = "evil.test";
  ev.endpoint.port = 443;
  inventory::CheckRecord c;
  c.endpoint_id = 1;
  c.address = "127.0.0.1";
  c.checked_at = s.now;
  c.state = inventory::CheckState::kError;
  c.error = "<script>alert(1)</script>";
  c.issuer = "CN=\"><img src=x onerror=alert(1)>";
  c.subject = "CN=evil.test";
  c.not_before = s.now - 100 * 86400;
  c.not_after = s.now - 86400;  // Expired: still shown with dates.
  ev.checks.push_back(c);
  ev.state = c.state;
  ev.not_after = c.not_after;
  s.endpoints.push_back(ev);
  ManagedView m;
  m.name = "www<b>";
  m.names = {"www.example.test"};
  m.not_before = s.now - 30 * 86400;
  m.not_after = s.now + 60 * 86400;
  m.renew_at = s.now + 30 * 86400;
  m.state = inventory::CheckState::kOk;
  s.managed.push_back(m);
  return s;
}

TEST(DashboardTest, EscapesEverythingFromOutside) {
  std::string page = RenderDashboard(HostileSnapshot());
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("www<b>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("www&lt;b&gt;"), std::string::npos);
}

TEST(DashboardTest, HasTablesRowsAndTimeline) {
  std::string page = RenderDashboard(HostileSnapshot());
  EXPECT_NE(page.find("<table id=\"endpoints\">"), std::string::npos);
  EXPECT_NE(page.find("<tr class=\"endpoint\">"), std::string::npos);
  EXPECT_NE(page.find("<tr class=\"managed\">"), std::string::npos);
  EXPECT_NE(page.find("<svg id=\"timeline\""), std::string::npos);
  EXPECT_NE(page.find("2025-12-31T00:00:00Z"), std::string::npos);  // Expired date shown.
  EXPECT_NE(page.find("<td>-1</td>"), std::string::npos);           // Days left negative.
  // No scripts and no external assets.
  EXPECT_EQ(page.find("<script"), std::string::npos);
  for (const char* external : {"<img", "<link", "<iframe", "@import", "url(", "https://"}) {
    EXPECT_EQ(page.find(external), std::string::npos) << external;
  }
}

TEST(DashboardTest, TimelineHasTwelveMonthsAndMarkers) {
  std::string svg = RenderTimelineSvg(HostileSnapshot());
  size_t months = 0;
  for (size_t pos = 0; (pos = svg.find("<line", pos)) != std::string::npos; ++pos) {
    ++months;
  }
  // 12 month lines + the "now" line + one row line per item (2).
  EXPECT_EQ(months, 15u);
  EXPECT_NE(svg.find("class=\"renewal\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"expiry error\""), std::string::npos);
  EXPECT_NE(svg.find("Jan 2027"), std::string::npos);
}

TEST(DashboardTest, EmptySnapshotRenders) {
  Snapshot s;
  s.now = 1767225600;
  std::string page = RenderDashboard(s);
  EXPECT_NE(page.find("no endpoints enrolled"), std::string::npos);
  EXPECT_NE(page.find("no certificates seen yet"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::serve
