// When to reload: pure decisions over times, so every rule (staleness,
// debounce, minimum interval, periodic reload) is tested without waiting.
// All times are Unix nanoseconds (file times are wall-clock times).
#ifndef BULKHEAD_DEPLOY_TRIGGER_H_
#define BULKHEAD_DEPLOY_TRIGGER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace bulkhead::deploy {

// Clock returns the current wall-clock time; tests substitute their own.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNs() const = 0;
};

// SystemClock is CLOCK_REALTIME.
class SystemClock : public Clock {
 public:
  int64_t NowNs() const override;
};

// TriggerConfig holds the timing knobs of reload-watch.
struct TriggerConfig {
  // A change must be quiet this long before it causes a reload, so that a
  // renewal replacing several files gives one reload.
  int64_t debounce_ns = 2'000'000'000;
  // At most one reload per this interval.
  int64_t min_interval_ns = 10'000'000'000;
  // With --every: reload at least this often even without a change; 0 = off.
  int64_t every_ns = 0;
};

// Observation is what the watcher saw on one check.
struct Observation {
  // Newest modification time among the watched files (and the symlinks
  // leading to them); -1 if none could be read.
  int64_t newest_file_ns = -1;
  // When the server last (re)loaded as far as the system tells: the later of
  // its pid file's mtime and its process start time; -1 if unknown.
  int64_t server_loaded_ns = -1;
};

// TriggerState is what Decide remembers between checks.
struct TriggerState {
  int64_t started_ns = 0;           // When watching began (for --every).
  int64_t last_action_ns = -1;      // Our last reload, -1 if none yet.
  int64_t seen_newest_file_ns = -1; // newest_file_ns at the previous check.
  int64_t change_seen_ns = -1;      // When that value was first seen.
};

// Decision is what to do now.
enum class Decision {
  kNothing,         // Up to date; check again at `next_check_ns` (or later).
  kWait,            // A reload is due once debounce/min interval allow it.
  kReloadChanged,   // Reload: the files are newer than what was loaded.
  kReloadPeriodic,  // Reload: --every elapsed.
};

// Plan is Decide's answer. next_check_ns is -1 when only a file event or
// the periodic re-check should wake the watcher.
struct Plan {
  Decision decision = Decision::kNothing;
  int64_t next_check_ns = -1;
  std::string reason;
};

// IsStale reports whether the files are newer than what the server loaded:
// newer than its pid file or start time and newer than our last reload.
bool IsStale(const Observation& obs, int64_t last_action_ns);

// Decide updates `state` with `obs` seen at `now_ns` and returns what to do.
// It never fails. After acting on a kReload* plan, call RecordAction.
Plan Decide(const TriggerConfig& config, const Observation& obs, int64_t now_ns,
            TriggerState* state);

// ParseDuration parses "500ms", "90s", "30m", "2h" or "1d" (a bare number
// is seconds). It fails (kUsage) on anything else or on a value over a year.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// RecordAction notes a reload done at `now_ns`.
void RecordAction(int64_t now_ns, TriggerState* state);

}  // namespace bulkhead::deploy

#endif  // BULKHEAD_DEPLOY_TRIGGER_H_
