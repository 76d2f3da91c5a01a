// Day counts as operators read them, the same in every report (monitor,
// list, plan, serve's dashboard and API, issue's summary).
#ifndef BULKHEAD_UTIL_DAYS_H_
#define BULKHEAD_UTIL_DAYS_H_

#include <cstdint>

namespace bulkhead {

// kSecondsPerDay is one day of Unix time (no leap seconds).
inline constexpr int64_t kSecondsPerDay = 86400;

// DaysLeft is the whole days from `now` until `not_after`: days still left
// before expiry (23 hours left is 0), or, negated, whole days elapsed since
// (expired 10 days and 1 second ago is -10). Never rounds a partial day
// up, in either direction.
constexpr int64_t DaysLeft(int64_t not_after, int64_t now) {
  return (not_after - now) / kSecondsPerDay;  // Truncates toward zero.
}

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_DAYS_H_
