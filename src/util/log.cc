#include "util/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace bulkhead {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kWarn)};
}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

std::string FormatLogLine(LogLevel level, std::string_view text, bool journal) {
  const char* name = "info";
  int priority = 6;
  switch (level) {
    case LogLevel::kError:
      name = "error";
      priority = 3;
      break;
    case LogLevel::kWarn:
      name = "warning";
      priority = 4;
      break;
    case LogLevel::kInfo:
      name = "info";
      priority = 6;
      break;
    case LogLevel::kDebug:
      name = "debug";
      priority = 7;
      break;
  }
  if (!journal) {
    return fmt::format("bulkhead: {}: {}\n", name, text);
  }
  std::string one_line;
  one_line.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      if (i + 1 < text.size()) {
        one_line += " | ";
      }
    } else if (text[i] != '\r') {
      one_line += text[i];
    }
  }
  return fmt::format("<{}>bulkhead: {}: {}\n", priority, name, one_line);
}

bool StderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) {
    return false;
  }
  struct stat st;
  if (::fstat(STDERR_FILENO, &st) != 0) {
    return false;
  }
  unsigned long long dev = 0;
  unsigned long long ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) {
    return false;
  }
  return dev == static_cast<unsigned long long>(st.st_dev) &&
         ino == static_cast<unsigned long long>(st.st_ino);
}

namespace {
// Decided once, when the program starts and before any role enters its
// sandbox (whose system-call filter is not asked to allow the look).
const bool g_journal = StderrIsJournal();
}  // namespace

void LogLine(LogLevel level, std::string_view text) {
  if (static_cast<int>(level) > g_level.load()) {
    return;
  }
  std::string line = FormatLogLine(level, text, g_journal);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace bulkhead
