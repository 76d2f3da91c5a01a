#include "serve/html.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "crypto/x509.h"
#include "util/days.h"

namespace bulkhead::serve {
namespace {

using inventory::CheckState;

// Rows beyond this are summarised: the chart stays readable and bounded.
constexpr size_t kMaxTimelineRows = 60;

std::string Time(int64_t t) { return t == 0 ? "-" : crypto::FormatTime(t); }

// Short abbreviates a fingerprint for a table cell; the full value is in the
// API.
std::string Short(const std::string& s) {
  constexpr size_t kShown = 16;
  return s.size() <= kShown ? s : s.substr(0, kShown) + "\u2026";
}

std::string DaysLeft(int64_t not_after, int64_t now) {
  if (not_after == 0) {
    return "-";
  }
  return std::to_string(bulkhead::DaysLeft(not_after, now));
}

std::string_view StateClass(CheckState s) {
  switch (s) {
    case CheckState::kOk:
      return "ok";
    case CheckState::kPlan:
      return "plan";
    case CheckState::kWarning:
      return "warning";
    case CheckState::kError:
      return "error";
    case CheckState::kUnknown:
      break;
  }
  return "unknown";
}

std::string StateCell(CheckState s) {
  return fmt::format("<td class=\"state {}\">{}</td>", StateClass(s),
                     inventory::CheckStateName(s));
}

// MonthStart returns the Unix time of the first day of the month `offset`
// months after the month containing `t` (UTC).
int64_t MonthStart(int64_t t, int offset) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  int month = tm.tm_mon + offset;
  std::tm start{};
  start.tm_year = tm.tm_year + month / 12;
  start.tm_mon = month % 12;
  start.tm_mday = 1;
  return static_cast<int64_t>(timegm(&start));
}

std::string MonthLabel(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%b %Y", &tm);
  return buf;
}

struct TimelineRow {
  std::string label;
  int64_t expiry = 0;
  int64_t renewal = 0;
  CheckState state = CheckState::kUnknown;
};

constexpr std::string_view kStyle = R"css(
body{font-family:sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}
td.state{font-weight:bold}
.ok{color:#1a7f37}.plan{color:#7d5a00}.warning{color:#b35900}.error{color:#c00}.unknown{color:#666}
.muted{color:#666;font-size:.85em}
svg{background:#fff;border:1px solid #ccc}
)css";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default: {
        unsigned char u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t' && c != '\n') || u == 0x7f) {
          out += "\xEF\xBF\xBD";
        } else {
          out += c;
        }
      }
    }
  }
  return out;
}

std::string RenderTimelineSvg(const Snapshot& snap) {
  std::vector<TimelineRow> rows;
  for (const auto& ev : snap.endpoints) {
    if (ev.not_after == 0) {
      continue;
    }
    rows.push_back({inventory::EndpointKey(ev.endpoint.host, ev.endpoint.port), ev.not_after, 0,
                    ev.state});
  }
  for (const auto& m : snap.managed) {
    if (m.not_after == 0) {
      continue;
    }
    rows.push_back({"managed: " + m.name, m.not_after, m.renew_at, m.state});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const TimelineRow& a, const TimelineRow& b) { return a.expiry < b.expiry; });
  size_t hidden = rows.size() > kMaxTimelineRows ? rows.size() - kMaxTimelineRows : 0;
  rows.resize(std::min(rows.size(), kMaxTimelineRows));

  constexpr int kLabelWidth = 220;
  constexpr int kChartWidth = 720;
  constexpr int kRowHeight = 20;
  constexpr int kTop = 30;
  int height = kTop + static_cast<int>(std::max<size_t>(rows.size(), 1)) * kRowHeight + 30;
  int64_t start = snap.now;
  int64_t end = MonthStart(snap.now, kTimelineMonths);
  auto x_of = [&](int64_t t) {
    t = std::clamp(t, start, end);
    return kLabelWidth +
           static_cast<double>(t - start) * kChartWidth / static_cast<double>(end - start);
  };

  std::string svg = fmt::format(
      "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"Certificate expiries and planned renewals over the next {} "
      "months\">\n",
      kLabelWidth + kChartWidth + 40, height, kTimelineMonths);
  for (int i = 1; i <= kTimelineMonths; ++i) {
    int64_t m = MonthStart(snap.now, i);
    double x = x_of(m);
    svg += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#ddd\"/>"
        "<text x=\"{:.1f}\" y=\"{}\" font-size=\"10\" fill=\"#666\">{}</text>\n",
        x, kTop - 5, x, height - 25, x - 16, kTop - 10, HtmlEscape(MonthLabel(m)));
  }
  svg += fmt::format(
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#c00\"/>"
      "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#c00\">now</text>\n",
      kLabelWidth, kTop - 5, kLabelWidth, height - 25, kLabelWidth + 2, height - 12);
  int y = kTop;
  for (const auto& r : rows) {
    int cy = y + kRowHeight / 2;
    svg += fmt::format(
        "<g class=\"row\"><text x=\"4\" y=\"{}\" font-size=\"11\">{}</text>"
        "<line x1=\"{}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#bbb\"/>",
        cy + 4, HtmlEscape(r.label.substr(0, 34)), kLabelWidth, cy, x_of(r.expiry), cy);
    if (r.renewal != 0) {
      double rx = x_of(r.renewal);
      svg += fmt::format(
          "<polygon class=\"renewal\" points=\"{:.1f},{} {:.1f},{} {:.1f},{} {:.1f},{}\" "
          "fill=\"#2b6cb0\"><title>planned renewal {}</title></polygon>",
          rx, cy - 6, rx + 6, cy, rx, cy + 6, rx - 6, cy, HtmlEscape(Time(r.renewal)));
    }
    svg += fmt::format(
        "<circle class=\"expiry {}\" cx=\"{:.1f}\" cy=\"{}\" r=\"5\" fill=\"{}\">"
        "<title>expires {}</title></circle></g>\n",
        StateClass(r.state), x_of(r.expiry), cy,
        r.state == CheckState::kOk ? "#1a7f37"
                                   : (r.state == CheckState::kPlan ? "#d4a000" : "#c00"),
        HtmlEscape(Time(r.expiry)));
    if (r.expiry > end) {
      // Pinned to the edge: say so, rather than suggest it expires then.
      svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#666\">&#8594;"
                         "<title>beyond {} months</title></text>\n",
                         kLabelWidth + kChartWidth + 10, cy + 4, kTimelineMonths);
    }
    y += kRowHeight;
  }
  if (rows.empty()) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#666\">no certificates "
                       "seen yet</text>\n",
                       kLabelWidth + 10, kTop + 14);
  }
  if (hidden > 0) {
    svg += fmt::format("<text x=\"4\" y=\"{}\" font-size=\"11\" fill=\"#666\">{} later rows not "
                       "shown</text>\n",
                       height - 12, hidden);
  }
  svg += "</svg>\n";
  return svg;
}

std::string RenderDashboard(const Snapshot& snap) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
       "<title>bulkhead: certificates</title><style>";
  h += kStyle;
  h += "</style></head><body>\n";
  h += fmt::format("<h1>bulkhead: certificates</h1><p class=\"muted\">as of {}; "
                   "<a href=\"/metrics\">metrics</a>, <a href=\"/api/openapi.json\">API</a></p>\n",
                   HtmlEscape(Time(snap.now)));

  h += "<h2>Endpoints</h2>\n<table id=\"endpoints\"><thead><tr><th>State</th><th>Endpoint</th>"
       "<th>Address</th><th>Days left</th><th>Expires</th><th>Issuer</th><th>Subject</th>"
       "<th>Detail</th><th>Checked</th></tr></thead><tbody>\n";
  if (snap.endpoints.empty()) {
    h += "<tr class=\"empty\"><td colspan=\"9\">no endpoints enrolled</td></tr>\n";
  }
  for (const auto& ev : snap.endpoints) {
    std::string key = HtmlEscape(inventory::EndpointKey(ev.endpoint.host, ev.endpoint.port));
    if (ev.checks.empty()) {
      h += fmt::format("<tr class=\"endpoint\">{}<td>{}</td><td>-</td><td>-</td><td>-</td>"
                       "<td>-</td><td>-</td><td>not checked yet</td><td>-</td></tr>\n",
                       StateCell(ev.state), key);
      continue;
    }
    for (const auto& c : ev.checks) {
      std::string detail = c.error;
      if (detail.empty() && c.managed_match == std::optional<bool>(false)) {
        detail = "differs from the managed certificate";
      }
      h += fmt::format(
          "<tr class=\"endpoint\">{}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
          StateCell(c.state), key, HtmlEscape(c.address),
          DaysLeft(c.not_after, snap.now), HtmlEscape(Time(c.not_after)), HtmlEscape(c.issuer),
          HtmlEscape(c.subject), HtmlEscape(detail), HtmlEscape(Time(c.checked_at)));
    }
  }
  h += "</tbody></table>\n";

  h += "<h2>Managed certificates</h2>\n<table id=\"managed\"><thead><tr><th>State</th>"
       "<th>Name</th><th>Names</th><th>Days left</th><th>Expires</th><th>Renewal planned</th>"
       "<th>Issuer</th></tr></thead><tbody>\n";
  if (snap.managed.empty()) {
    h += "<tr class=\"empty\"><td colspan=\"7\">no managed certificates</td></tr>\n";
  }
  for (const auto& m : snap.managed) {
    std::string names;
    for (const auto& n : m.names) {
      names += (names.empty() ? "" : ", ") + n;
    }
    std::string planned = m.error.empty() ? Time(m.renew_at) + (m.due ? " (due now)" : "")
                                          : "error: " + m.error;
    h += fmt::format("<tr class=\"managed\">{}<td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                     "<td>{}</td><td>{}</td></tr>\n",
                     StateCell(m.state), HtmlEscape(m.name), HtmlEscape(names),
                     DaysLeft(m.not_after, snap.now), HtmlEscape(Time(m.not_after)),
                     HtmlEscape(planned), HtmlEscape(m.issuer));
  }
  h += "</tbody></table>\n";

  h += fmt::format("<h2>Timeline: next {} months</h2>\n", kTimelineMonths);
  h += "<p class=\"muted\">circle: expiry; diamond: planned renewal; &#8594;: later than "
       "shown</p>\n";
  h += RenderTimelineSvg(snap);

  if (!snap.domains.empty()) {
    h += "<h2>Domains</h2>\n<table id=\"domains\"><thead><tr><th>State</th><th>Domain</th>"
         "<th>Earliest expiry</th><th>Seen on</th><th>Managed by</th></tr></thead><tbody>\n";
    for (const auto& d : snap.domains) {
      std::string seen;
      for (const auto& s : d.seen_on) {
        seen += (seen.empty() ? "" : ", ") + s;
      }
      std::string managed;
      for (const auto& s : d.managed_by) {
        managed += (managed.empty() ? "" : ", ") + s;
      }
      h += fmt::format("<tr class=\"domain\">{}<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                       StateCell(d.state), HtmlEscape(d.domain.name),
                       HtmlEscape(Time(d.not_after)), HtmlEscape(seen), HtmlEscape(managed));
    }
    h += "</tbody></table>\n";
  }

  if (!snap.changes.empty()) {
    h += "<h2>Recent changes</h2>\n<table id=\"changes\"><thead><tr><th>When</th><th>Endpoint</th>"
         "<th>Address</th><th>Change</th><th>Before</th><th>After</th></tr></thead><tbody>\n";
    for (const auto& ch : snap.changes) {
      std::string key = "#" + std::to_string(ch.endpoint_id);
      bool fp = ch.kind != inventory::ChangeKind::kIssuerChanged;
      for (const auto& ev : snap.endpoints) {
        if (ev.endpoint.id == ch.endpoint_id) {
          key = inventory::EndpointKey(ev.endpoint.host, ev.endpoint.port);
        }
      }
      h += fmt::format("<tr class=\"change\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                       "<td>{}</td><td>{}</td></tr>\n",
                       HtmlEscape(Time(ch.changed_at)), HtmlEscape(key), HtmlEscape(ch.address),
                       inventory::ChangeKindName(ch.kind), HtmlEscape(fp ? Short(ch.old_value) : ch.old_value),
                       HtmlEscape(fp ? Short(ch.new_value) : ch.new_value));
    }
    h += "</tbody></table>\n";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace bulkhead::serve
