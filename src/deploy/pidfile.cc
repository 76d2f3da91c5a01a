#include "deploy/pidfile.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "util/fs.h"
#include "util/nofollow.h"

namespace bulkhead::deploy {
namespace {

// The kernel's PID_MAX_LIMIT on 64-bit systems.
constexpr int64_t kPidMax = 4194304;

// kCommLen is TASK_COMM_LEN - 1: the kernel truncates comm to this.
constexpr size_t kCommLen = 15;

// kMaxProcFileBytes caps /proc/PID/stat and /proc/stat reads.
constexpr size_t kMaxProcFileBytes = 1 << 20;

std::string BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// ReadProcFile reads a /proc file, whose stat() size is 0, so
// ReadFileCapped (which checks the size up front) cannot be used.
Result<std::string> ReadProcFile(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENOENT || err == ESRCH) {
      return ErrCode(ErrorCode::kNotFound, "{}: {}", path, std::strerror(err));
    }
    return Err("opening {}: {}", path, std::strerror(err));
  }
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      if (err == ESRCH) {
        return ErrCode(ErrorCode::kNotFound, "reading {}: {}", path, std::strerror(err));
      }
      return Err("reading {}: {}", path, std::strerror(err));
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxProcFileBytes) {
      return Err("{} is larger than {} bytes", path, kMaxProcFileBytes);
    }
  }
  return out;
}

}  // namespace

Result<pid_t> ParsePidFile(std::string_view text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.back() == '\n') {
    digits.remove_suffix(1);
  }
  if (digits.empty()) {
    return Err("pid file is empty");
  }
  if (digits.size() > 7) {
    return Err("pid file holds a number with {} digits", digits.size());
  }
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return Err("pid file holds something other than decimal digits");
    }
    value = value * 10 + (c - '0');
  }
  if (value < 2 || value > kPidMax) {
    return Err("pid file names pid {}, outside 2..{}", value, kPidMax);
  }
  return static_cast<pid_t>(value);
}

Result<pid_t> ReadPidFile(const std::string& path) {
  auto text = ReadFileNoFollow(path, kMaxPidFileBytes);
  if (!text.ok()) {
    return text.error();
  }
  auto pid = ParsePidFile(*text);
  if (!pid.ok()) {
    return pid.error().Wrap(path);
  }
  return *pid;
}

Result<uint64_t> ParseStatStartTicks(std::string_view stat) {
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos) {
    return Err("malformed /proc stat line: no ')'");
  }
  std::string_view rest = stat.substr(close + 1);
  // Field 3 (state) is the first after ") "; starttime is field 22.
  constexpr int kStartTimeField = 22;
  int field = 2;
  size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && rest[pos] == ' ') {
      ++pos;
    }
    size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) {
      end = rest.size();
    }
    if (pos == end) {
      break;
    }
    ++field;
    if (field == kStartTimeField) {
      std::string_view token = rest.substr(pos, end - pos);
      uint64_t ticks = 0;
      auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), ticks);
      if (ec != std::errc() || ptr != token.data() + token.size()) {
        return Err("malformed /proc stat starttime '{}'", token);
      }
      return ticks;
    }
    pos = end;
  }
  return Err("malformed /proc stat line: only {} fields", field);
}

Result<int64_t> ParseBootTime(std::string_view proc_stat) {
  size_t pos = 0;
  while (pos < proc_stat.size()) {
    size_t end = proc_stat.find('\n', pos);
    if (end == std::string_view::npos) {
      end = proc_stat.size();
    }
    std::string_view line = proc_stat.substr(pos, end - pos);
    if (line.substr(0, 6) == "btime ") {
      std::string_view num = line.substr(6);
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), value);
      if (ec != std::errc() || ptr != num.data() + num.size() || value <= 0) {
        return Err("malformed btime line in /proc/stat");
      }
      return value;
    }
    pos = end + 1;
  }
  return Err("/proc/stat has no btime line");
}

Result<ExpectedProcess> ExpectedFromExe(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    return ErrCode(ErrorCode::kUsage, "--exe {}: {}", path, std::strerror(errno));
  }
  ExpectedProcess e;
  e.exe_path = resolved;
  e.name = BaseName(e.exe_path);
  return e;
}

Result<ExpectedProcess> ExpectedFromPidFile(const std::string& pidfile) {
  std::string name = BaseName(pidfile);
  constexpr std::string_view kSuffix = ".pid";
  if (name.size() >= kSuffix.size() &&
      name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    name.resize(name.size() - kSuffix.size());
  }
  if (name.empty() || name == "." || name == "..") {
    return ErrCode(ErrorCode::kUsage,
                   "cannot derive the server's executable from pid file {}; pass --exe", pidfile);
  }
  ExpectedProcess e;
  e.name = name;
  return e;
}

Result<ProcessInfo> InspectProcess(pid_t pid, const std::string& proc_root) {
  ProcessInfo info;
  info.pid = pid;
  std::string dir = fmt::format("{}/{}", proc_root, pid);
  BH_ASSIGN(std::string stat, ReadProcFile(dir + "/stat"));
  BH_ASSIGN(uint64_t ticks, ParseStatStartTicks(stat));
  BH_ASSIGN(std::string proc_stat, ReadProcFile(proc_root + "/stat"));
  BH_ASSIGN(int64_t boot, ParseBootTime(proc_stat));
  long hz = ::sysconf(_SC_CLK_TCK);
  if (hz <= 0) {
    hz = 100;
  }
  info.start_unix_ns = boot * 1000000000LL +
                       static_cast<int64_t>(ticks) * (1000000000LL / static_cast<int64_t>(hz));
  BH_ASSIGN(info.comm, ReadProcFile(dir + "/comm"));
  if (!info.comm.empty() && info.comm.back() == '\n') {
    info.comm.pop_back();
  }
  char buf[PATH_MAX];
  ssize_t n = ::readlink((dir + "/exe").c_str(), buf, sizeof(buf) - 1);
  if (n > 0) {
    info.exe.assign(buf, static_cast<size_t>(n));
  }
  return info;
}

Status MatchesExpected(const ProcessInfo& info, const ExpectedProcess& expected) {
  if (!info.exe.empty()) {
    std::string exe = info.exe;
    constexpr std::string_view kDeleted = " (deleted)";
    if (exe.size() > kDeleted.size() &&
        exe.compare(exe.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0) {
      exe.resize(exe.size() - kDeleted.size());
    }
    if (!expected.exe_path.empty()) {
      if (exe != expected.exe_path) {
        return Err("pid {} runs {}, not {}", info.pid, exe, expected.exe_path);
      }
      return OkStatus();
    }
    if (BaseName(exe) != expected.name) {
      return Err("pid {} runs {}, not {}", info.pid, exe, expected.name);
    }
    return OkStatus();
  }
  // Without the exe link only the name can be compared (comm is set by the
  // kernel from the executable's name at exec, truncated to 15 bytes).
  std::string want = expected.name.substr(0, kCommLen);
  if (info.comm != want) {
    return Err("pid {} is '{}', not '{}' (its executable link is unreadable; comparing names)",
               info.pid, info.comm, want);
  }
  return OkStatus();
}

}  // namespace bulkhead::deploy
