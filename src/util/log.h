// Minimal leveled logging to stderr. Never pass secrets to these functions.
#ifndef BULKHEAD_UTIL_LOG_H_
#define BULKHEAD_UTIL_LOG_H_

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace bulkhead {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// SetLogLevel sets the most verbose level printed (default kWarn). It is the
// process's one piece of logging state, set once by the command line.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

// LogLine prints "bulkhead: <level>: <text>" to stderr if `level` is enabled
// (FormatLogLine, with the journal's form when stderr is the journal).
void LogLine(LogLevel level, std::string_view text);

// FormatLogLine returns one log line, newline-terminated. For the systemd
// journal (`journal`) it starts with the syslog priority ("<3>" error,
// "<4>" warning, "<6>" info, "<7>" debug), which journald reads as the
// entry's priority, and line breaks inside `text` become " | ": the
// journal's stream protocol makes every line an entry of its own, and a
// multi-line error must stay one.
std::string FormatLogLine(LogLevel level, std::string_view text, bool journal);

// StderrIsJournal reports whether stderr is the stream systemd connected to
// the journal: $JOURNAL_STREAM ("DEVICE:INODE") names stderr's file.
bool StderrIsJournal();

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
