// When is a certificate due for renewal?
#ifndef BULKHEAD_RENEW_POLICY_H_
#define BULKHEAD_RENEW_POLICY_H_

#include <cstdint>
#include <string>

namespace bulkhead::renew {

// RenewalDecision is the answer plus its reasoning, for logs and `list`.
struct RenewalDecision {
  bool due = false;
  int64_t renew_at = 0;  // Unix seconds when it becomes (or became) due.
  std::string reason;    // "one third of lifetime left", "forced", ...
};

// Decide applies the renewal rule to a certificate valid from `not_before` to
// `not_after` at time `now`:
//  - `force` makes it due at once;
//  - `days` >= 0 makes it due when fewer than `days` days remain;
//  - otherwise it is due when less than one third of the lifetime remains,
//    or less than one half for lifetimes of 10 days or less (short-lived
//    certificates need the larger margin to survive a missed run).
RenewalDecision Decide(int64_t not_before, int64_t not_after, int64_t now, int days, bool force);

}  // namespace bulkhead::renew

#endif  // BULKHEAD_RENEW_POLICY_H_
