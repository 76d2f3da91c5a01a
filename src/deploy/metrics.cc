#include "deploy/metrics.h"

#include <charconv>

#include "util/fs.h"

namespace bulkhead::deploy {
namespace {

constexpr std::string_view kLastReload = "bulkhead_reload_last_timestamp_seconds";

}  // namespace

std::string FormatMetrics(const WatchMetrics& m) {
  std::string labels = fmt::format("pidfile=\"{}\"", EscapeLabelValue(m.pidfile));
  std::string out;
  auto gauge = [&out](std::string_view name, std::string_view help, const std::string& lbl,
                      int64_t value) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{}{{{}}} {}\n", name, help, name, name,
                       lbl, value);
  };
  gauge(kLastReload, "Unix time of the last reload attempt (0: none yet).", labels,
        m.last_reload);
  gauge("bulkhead_reload_last_success", "1 if the last reload attempt succeeded.", labels,
        m.last_reload_ok ? 1 : 0);
  if (!m.verify_target.empty()) {
    std::string vl =
        fmt::format("{},target=\"{}\"", labels, EscapeLabelValue(m.verify_target));
    gauge("bulkhead_verify_last_timestamp_seconds",
          "Unix time of the last check of the served certificate (0: none yet).", vl,
          m.last_verify);
    gauge("bulkhead_verify_last_success",
          "1 if the server served the certificate on disk at the last check.", vl,
          m.last_verify_ok ? 1 : 0);
    gauge("bulkhead_served_cert_expiry_timestamp_seconds",
          "Unix time at which the served leaf certificate expires (0: unknown).", vl,
          m.served_not_after);
  }
  return out;
}

int64_t ParseLastReload(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, kLastReload.size()) != kLastReload ||
        line.size() <= kLastReload.size() || line[kLastReload.size()] != '{') {
      continue;
    }
    size_t space = line.rfind(' ');
    if (space == std::string_view::npos) {
      continue;
    }
    std::string_view num = line.substr(space + 1);
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), value);
    if (ec == std::errc() && ptr == num.data() + num.size() && value > 0) {
      return value;
    }
  }
  return 0;
}

Status WriteMetrics(const std::string& path, const WatchMetrics& m) {
  return WriteFileAtomic(path, FormatMetrics(m), 0644);
}

}  // namespace bulkhead::deploy
