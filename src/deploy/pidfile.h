// Reading a server's pid file without trusting it: the file may be stale and
// name a pid that now belongs to an unrelated process, so every pid is
// checked against the executable we expect before anyone signals it.
#ifndef BULKHEAD_DEPLOY_PIDFILE_H_
#define BULKHEAD_DEPLOY_PIDFILE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace bulkhead::deploy {

// kMaxPidFileBytes caps what is read from a pid file: a pid and a newline.
inline constexpr size_t kMaxPidFileBytes = 32;

// ParsePidFile parses pid file text: decimal digits, optionally followed by
// one "\n", with a value in 2..4194304 (PID_MAX_LIMIT; pid 1 is never a web
// server). Anything else (signs, spaces, several lines) is an error.
Result<pid_t> ParsePidFile(std::string_view text);

// ReadPidFile reads and parses the pid file at `path`. The file itself is
// not followed if it is a symlink, and a FIFO is refused instead of read
// (the server's user may control it, and reload-watch's helper reads it
// with the service's rights, outside the sandbox). It fails if the file is
// missing (kNotFound), a symlink, not a regular file, larger than
// kMaxPidFileBytes or malformed.
Result<pid_t> ReadPidFile(const std::string& path);

// ParseStatStartTicks returns field 22 (starttime, clock ticks after boot)
// of a /proc/PID/stat line. The command name in parentheses may contain
// spaces and parentheses, so fields are counted from the last ')'.
Result<uint64_t> ParseStatStartTicks(std::string_view stat);

// ParseBootTime returns the "btime" value (Unix seconds) of /proc/stat text.
Result<int64_t> ParseBootTime(std::string_view proc_stat);

// ExpectedProcess says which executable a pid must belong to. At least one
// of the fields is set.
struct ExpectedProcess {
  // Absolute, symlink-free path compared with /proc/PID/exe (from --exe).
  std::string exe_path;
  // Executable name compared with the basename of /proc/PID/exe, or with
  // /proc/PID/comm (truncated to 15 bytes like the kernel does) when the
  // exe link cannot be read (another user's process without CAP_SYS_PTRACE).
  std::string name;
};

// ExpectedFromExe builds the expectation for `--exe PATH`: the path with
// symlinks resolved (as the kernel shows it in /proc/PID/exe) and its
// basename. It fails if PATH does not exist.
Result<ExpectedProcess> ExpectedFromExe(const std::string& path);

// ExpectedFromPidFile derives the expectation when --exe is not given: the
// pid file's name without ".pid" ("/run/nginx.pid" -> "nginx"). It fails
// (kUsage) if the name gives nothing usable.
Result<ExpectedProcess> ExpectedFromPidFile(const std::string& pidfile);

// ProcessInfo is what /proc says about a pid.
struct ProcessInfo {
  pid_t pid = 0;
  std::string exe;         // Target of /proc/PID/exe, empty if unreadable.
  std::string comm;        // /proc/PID/comm without the newline.
  int64_t start_unix_ns = 0;  // Process start time (tick resolution).
};

// InspectProcess reads /proc/PID/{exe,comm,stat} and /proc/stat under
// `proc_root`. kNotFound if the process does not exist.
Result<ProcessInfo> InspectProcess(pid_t pid, const std::string& proc_root = "/proc");

// MatchesExpected returns OK if `info` belongs to `expected`, else an error
// saying which executable was found instead. A " (deleted)" suffix on the
// exe link (the binary was replaced by an upgrade) is ignored.
Status MatchesExpected(const ProcessInfo& info, const ExpectedProcess& expected);

}  // namespace bulkhead::deploy

#endif  // BULKHEAD_DEPLOY_PIDFILE_H_
