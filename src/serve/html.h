// The dashboard: one server-rendered HTML page, no scripts, no external
// assets. Everything taken from the inventory or the certificates (names,
// issuers, error messages: all attacker-influenced) goes through HtmlEscape.
#ifndef BULKHEAD_SERVE_HTML_H_
#define BULKHEAD_SERVE_HTML_H_

#include <string>
#include <string_view>

#include "serve/snapshot.h"

namespace bulkhead::serve {

// HtmlEscape escapes & < > " ' for use in element text and quoted attribute
// values; control characters other than tab and newline become U+FFFD.
std::string HtmlEscape(std::string_view text);

// kTimelineMonths is the span of the expiry chart.
inline constexpr int kTimelineMonths = 12;

// RenderTimelineSvg draws expiries (circles) and planned renewals (diamonds)
// of the snapshot's endpoints and managed certificates over the next
// kTimelineMonths months, one row per item; items outside the span are
// pinned to its edges.
std::string RenderTimelineSvg(const Snapshot& snap);

// RenderDashboard returns the complete HTML page.
std::string RenderDashboard(const Snapshot& snap);

}  // namespace bulkhead::serve

#endif  // BULKHEAD_SERVE_HTML_H_
