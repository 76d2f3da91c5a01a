#include "deploy/trigger.h"

#include <time.h>

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace bulkhead::deploy {

int64_t SystemClock::NowNs() const {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool IsStale(const Observation& obs, int64_t last_action_ns) {
  if (obs.newest_file_ns < 0) {
    return false;
  }
  int64_t loaded = std::max(obs.server_loaded_ns, last_action_ns);
  return obs.newest_file_ns > loaded;
}

Plan Decide(const TriggerConfig& config, const Observation& obs, int64_t now_ns,
            TriggerState* state) {
  if (obs.newest_file_ns != state->seen_newest_file_ns) {
    // On the first check the file time is the best guess of when the change
    // happened; later, the moment we noticed it (a file's mtime may be set
    // to the past by a copy). Neither may lie in the future.
    bool first = state->seen_newest_file_ns < 0 && state->change_seen_ns < 0;
    state->seen_newest_file_ns = obs.newest_file_ns;
    state->change_seen_ns = first ? std::min(obs.newest_file_ns, now_ns) : now_ns;
  }
  Plan plan;
  // The earliest moment the minimum interval allows another reload.
  int64_t allowed_at = state->last_action_ns < 0 ? now_ns
                                                 : state->last_action_ns + config.min_interval_ns;
  if (IsStale(obs, state->last_action_ns)) {
    // Quiet since the change was seen (see above).
    int64_t quiet_from = state->change_seen_ns;
    int64_t ready_at = std::max(quiet_from + config.debounce_ns, allowed_at);
    if (now_ns >= ready_at) {
      plan.decision = Decision::kReloadChanged;
      plan.reason = "watched files are newer than the running server";
      return plan;
    }
    plan.decision = Decision::kWait;
    plan.next_check_ns = ready_at;
    plan.reason = now_ns < quiet_from + config.debounce_ns ? "waiting for changes to settle"
                                                           : "minimum interval not yet over";
    return plan;
  }
  if (config.every_ns > 0) {
    int64_t base = state->last_action_ns < 0 ? state->started_ns : state->last_action_ns;
    int64_t due = std::max(base + config.every_ns, allowed_at);
    if (now_ns >= due) {
      plan.decision = Decision::kReloadPeriodic;
      plan.reason = "periodic reload (--every)";
      return plan;
    }
    plan.next_check_ns = due;
  }
  plan.decision = Decision::kNothing;
  plan.reason = "server is up to date";
  return plan;
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string_view unit(ptr, static_cast<size_t>(text.data() + text.size() - ptr));
  if (ec != std::errc() || ptr == text.data() || value < 0) {
    return ErrCode(ErrorCode::kUsage, "bad duration '{}': expected e.g. 30s, 30m, 2h", text);
  }
  int64_t ms_per_unit = 0;
  if (unit.empty() || unit == "s") {
    ms_per_unit = 1000;
  } else if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "m") {
    ms_per_unit = 60'000;
  } else if (unit == "h") {
    ms_per_unit = 3'600'000;
  } else if (unit == "d") {
    ms_per_unit = 86'400'000;
  } else {
    return ErrCode(ErrorCode::kUsage, "bad duration '{}': unit must be ms, s, m, h or d", text);
  }
  constexpr int64_t kYearMs = 366LL * 86'400'000;
  if (value > kYearMs / ms_per_unit) {
    return ErrCode(ErrorCode::kUsage, "duration '{}' is longer than a year", text);
  }
  return std::chrono::milliseconds(value * ms_per_unit);
}

void RecordAction(int64_t now_ns, TriggerState* state) { state->last_action_ns = now_ns; }

}  // namespace bulkhead::deploy
