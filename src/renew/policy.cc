#include "renew/policy.h"

#include <time.h>

#include <fmt/format.h>

namespace bulkhead::renew {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

// Lifetimes up to this long count as short-lived and renew at one half: one
// missed daily run must not let them expire.
constexpr int64_t kShortLivedMax = 10 * kSecondsPerDay;

// FormatUtc renders Unix seconds as "2025-01-31 12:00:00 UTC" for reasons.
std::string FormatUtc(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  if (::gmtime_r(&tt, &tm) == nullptr) {
    return fmt::format("@{}", t);
  }
  char buf[64];
  if (::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
    return fmt::format("@{}", t);
  }
  return buf;
}

}  // namespace

RenewalDecision Decide(int64_t not_before, int64_t not_after, int64_t now, int days, bool force) {
  RenewalDecision d;
  if (force) {
    d.due = true;
    d.renew_at = now;
    d.reason = "forced";
    return d;
  }
  if (not_after <= not_before) {
    // Nothing sensible can be computed from such a certificate; replacing it
    // is the safe answer.
    d.due = true;
    d.renew_at = now;
    d.reason = "invalid validity period (notAfter is not after notBefore)";
    return d;
  }
  if (now >= not_after) {
    d.due = true;
    d.renew_at = not_after;
    d.reason = fmt::format("expired at {}", FormatUtc(not_after));
    return d;
  }

  std::string due_reason;
  if (days >= 0) {
    d.renew_at = not_after - static_cast<int64_t>(days) * kSecondsPerDay;
    due_reason = fmt::format("fewer than {} days left", days);
  } else {
    int64_t lifetime = not_after - not_before;
    if (lifetime <= kShortLivedMax) {
      d.renew_at = not_after - lifetime / 2;
      due_reason = "less than half of its lifetime left";
    } else {
      d.renew_at = not_after - lifetime / 3;
      due_reason = "less than one third of its lifetime left";
    }
  }
  if (now >= d.renew_at) {
    d.due = true;
    d.reason = std::move(due_reason);
  } else {
    d.reason = fmt::format("not due until {}", FormatUtc(d.renew_at));
  }
  return d;
}

}  // namespace bulkhead::renew
