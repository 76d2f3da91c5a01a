#include "util/log.h"

#include <atomic>
#include <cstdio>

namespace bulkhead {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kWarn)};
}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

void LogLine(LogLevel level, std::string_view text) {
  if (static_cast<int>(level) > g_level.load()) {
    return;
  }
  const char* name = "info";
  switch (level) {
    case LogLevel::kError:
      name = "error";
      break;
    case LogLevel::kWarn:
      name = "warning";
      break;
    case LogLevel::kInfo:
      name = "info";
      break;
    case LogLevel::kDebug:
      name = "debug";
      break;
  }
  std::string line = fmt::format("bulkhead: {}: {}\n", name, text);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace bulkhead
