// Minimal leveled logging to stderr. Never pass secrets to these functions.
#ifndef BULKHEAD_UTIL_LOG_H_
#define BULKHEAD_UTIL_LOG_H_

#include <fmt/format.h>

#include <string_view>

namespace bulkhead {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// SetLogLevel sets the most verbose level printed (default kWarn). It is the
// process's one piece of logging state, set once by the command line.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

// LogLine prints "bulkhead: <level>: <text>" to stderr if `level` is enabled.
void LogLine(LogLevel level, std::string_view text);

template <typename... Args>
void LogInfo(fmt::format_string<Args...> f, Args&&... args) {
  if (GetLogLevel() >= LogLevel::kInfo) {
    LogLine(LogLevel::kInfo, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <typename... Args>
void LogDebug(fmt::format_string<Args...> f, Args&&... args) {
  if (GetLogLevel() >= LogLevel::kDebug) {
    LogLine(LogLevel::kDebug, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <typename... Args>
void LogWarn(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(LogLevel::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void LogError(fmt::format_string<Args...> f, Args&&... args) {
  LogLine(LogLevel::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_LOG_H_
