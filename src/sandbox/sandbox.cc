#include "sandbox/sandbox.h"

#include <dirent.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "sandbox/landlock.h"
#include "sandbox/seccomp.h"
#include "util/log.h"

namespace bulkhead::sandbox {
namespace {

// The shared-library directories the net role may read. glibc dlopen()s NSS
// modules (and gconv modules) at the first lookup that needs them, which may
// be long after Enter; warming them up with a lookup before Enter would
// depend on which lookups happen later. Reading libraries is no secret.
constexpr const char* kLibraryDirs[] = {"/lib", "/lib64", "/usr/lib", "/usr/lib64",
                                        "/usr/local/lib"};

// CanUseTcp returns whether the role's seccomp list lets it create TCP
// sockets (or whether there is no seccomp list at all).
bool CanUseTcp(const Policy& policy, bool seccomp) {
  return !seccomp || policy.role == Role::kNet || !policy.bind_ports.empty() ||
         (policy.role == Role::kChallenge && !policy.connect_ports.empty()) ||
         (policy.role == Role::kReloadWatch && !policy.connect_ports.empty()) ||
         policy.role == Role::kProbe;
}

// BuildReport says what Enter can enforce for `policy` on this kernel and
// lists what no layer enforces.
Report BuildReport(const Policy& policy) {
  Report r;
  r.landlock_abi = LandlockAbi();
  r.landlock_fs = r.landlock_abi >= 1;
  r.landlock_net = r.landlock_abi >= 4;
  r.landlock_scope = r.landlock_abi >= 6;
  r.seccomp = SeccompAvailable();
  if (!r.landlock_fs) {
    r.gaps.push_back("Landlock is unavailable: file access is limited only by file permissions");
  }
  if (!r.landlock_net && CanUseTcp(policy, r.seccomp)) {
    r.gaps.push_back(fmt::format(
        "Landlock ABI {} (< 4): TCP connect and bind are not limited to the allowed ports",
        r.landlock_abi));
  }
  if (!r.seccomp) {
    r.gaps.push_back("seccomp is unavailable: system calls are not restricted");
    // Without the allowlist, these Landlock features are the only guard.
    if (r.landlock_fs && r.landlock_abi < 3) {
      r.gaps.push_back("Landlock ABI < 3: truncate(2) by path is not restricted");
    }
    if (r.landlock_fs && r.landlock_abi < 5) {
      r.gaps.push_back("Landlock ABI < 5: device ioctls are not restricted");
    }
    if (!r.landlock_scope) {
      r.gaps.push_back(
          "Landlock ABI < 6: signals and abstract Unix sockets are not scoped to the sandbox");
    }
  }
  return r;
}

// CheckSingleThreaded fails if the process has more than one thread:
// Landlock restricts only the calling thread and its future children, so a
// thread started earlier would stay outside the sandbox.
Status CheckSingleThreaded() {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) {
    LogDebug("sandbox: cannot list /proc/self/task ({}); assuming one thread",
             std::strerror(errno));
    return OkStatus();
  }
  int threads = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') {
      ++threads;
    }
  }
  ::closedir(dir);
  if (threads > 1) {
    return Err("sandbox: the process has {} threads; Enter must run before any thread starts",
               threads);
  }
  return OkStatus();
}

// CapData reads the calling thread's capability sets (both 32-bit halves).
bool CapData(__user_cap_data_struct (&data)[2]) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  return ::syscall(SYS_capget, &header, data) == 0;
}

// HasEffective says whether capability `cap` is in the effective set.
bool HasEffective(int cap) {
  __user_cap_data_struct data[2] = {};
  if (!CapData(data)) {
    return false;
  }
  return (data[cap / 32].effective & (1U << (cap % 32))) != 0;
}

// DropBoundingSet removes every capability from the bounding set. It needs
// CAP_SETPCAP, so Enter calls it before the user switch takes that away;
// without CAP_SETPCAP it does nothing (an unprivileged process cannot
// change the set; no-new-privs and the absence of execve in every
// allowlist make it moot).
Status DropBoundingSet() {
  if (!HasEffective(CAP_SETPCAP)) {
    return OkStatus();
  }
  for (int cap = 0;; ++cap) {
    // PR_CAPBSET_READ fails with EINVAL past the kernel's last capability.
    int present = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (present < 0) {
      break;
    }
    if (present == 1 && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return Err("sandbox: dropping capability {} from the bounding set: {}", cap,
                 std::strerror(errno));
    }
  }
  return OkStatus();
}

std::string JoinGaps(const std::vector<std::string>& gaps) {
  std::string out;
  for (const std::string& gap : gaps) {
    if (!out.empty()) {
      out += "; ";
    }
    out += gap;
  }
  return out;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kSigner:
      return "signer";
    case Role::kKeys:
      return "keys";
    case Role::kNet:
      return "net";
    case Role::kChallenge:
      return "challenge";
    case Role::kStore:
      return "store";
    case Role::kReloadWatch:
      return "reload-watch";
    case Role::kProbe:
      return "probe";
  }
  return "unknown";
}

std::vector<std::string> NetSystemReadPaths() {
  std::vector<std::string> paths = {
      // Name resolution (glibc resolver and NSS).
      "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf",
      "/etc/host.conf",   "/etc/gai.conf", "/etc/services",
  };
  for (std::string& path : TlsTrustReadPaths()) {
    paths.push_back(std::move(path));
  }
  return paths;
}

std::vector<std::string> TlsTrustReadPaths() {
  return {
      // TLS trust: the bundle, the hashed directory and the files its
      // symlinks point to, and OpenSSL's configuration.
      "/etc/ssl/certs",
      "/etc/ssl/openssl.cnf",
      "/usr/lib/ssl",
      "/usr/share/ca-certificates",
      "/usr/local/share/ca-certificates",
  };
}

Status DropAllCapabilities(uint64_t keep_effective) {
  BH_TRY(DropBoundingSet());
  // Ambient capabilities (Linux >= 4.3) would survive a later execve; an
  // older kernel has none to clear (EINVAL).
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return Err("sandbox: clearing the ambient capabilities: {}", std::strerror(errno));
  }
  // Lowering the effective, permitted and inheritable sets is always
  // allowed, also for uid 0: a role that stays root is root without powers
  // (it can still touch what root owns, which Landlock limits).
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct held[2] = {};
  if (!CapData(held)) {
    return Err("sandbox: capget: {}", std::strerror(errno));
  }
  __user_cap_data_struct want[2] = {};
  for (int i = 0; i < 2; ++i) {
    uint32_t keep = static_cast<uint32_t>(keep_effective >> (32 * i)) & held[i].permitted;
    want[i].effective = keep;
    want[i].permitted = keep;
  }
  if (::syscall(SYS_capset, &header, want) != 0) {
    return Err("sandbox: capset (dropping every capability): {}", std::strerror(errno));
  }
  __user_cap_data_struct left[2] = {};
  if (!CapData(left)) {
    return Err("sandbox: capget: {}", std::strerror(errno));
  }
  for (int i = 0; i < 2; ++i) {
    if (left[i].effective != want[i].effective || left[i].permitted != want[i].permitted ||
        left[i].inheritable != 0) {
      return Err("sandbox: capabilities are left after dropping them all");
    }
  }
  return OkStatus();
}

Report Probe() {
  Policy net;
  net.role = Role::kNet;
  return BuildReport(net);
}

Result<Report> Enter(const Policy& policy, bool require_full) {
  std::string_view role = RoleName(policy.role);
  BH_TRY(CheckSingleThreaded());
  Report report = BuildReport(policy);

#if defined(__SANITIZE_ADDRESS__)
  // LeakSanitizer's end-of-process check stops the world with ptrace and
  // reads /proc, which the sandbox forbids. Check now, while it still can;
  // this also turns the exit-time check off for this process.
  __lsan_do_leak_check();
#endif

  // The bounding set can be emptied only while CAP_SETPCAP is held, i.e.
  // before the user switch takes it away.
  if (Status st = DropBoundingSet(); !st.ok()) {
    return st.error().Wrap(fmt::format("{} role", role));
  }
  if (policy.run_as && ::geteuid() == 0) {
    Status st = DropPrivileges(*policy.run_as);
    if (!st.ok()) {
      return st.error().Wrap(fmt::format("sandbox: {} role", role));
    }
  }
  // Whatever the identity, no capability is left: a role that keeps uid 0
  // (no `bulkhead` user) may no longer override file permissions, bind
  // privileged ports, trace or signal others, or load anything. This holds
  // for reload-watch too: its helper, forked before the sandbox, signals
  // the server (deploy/action.h).
  if (Status st = DropAllCapabilities(); !st.ok()) {
    return st.error().Wrap(fmt::format("{} role", role));
  }
  // Not dumpable: other processes of the same user may not read this one's
  // memory (/proc/PID/mem) or attach to it. The role process was made so
  // right after fork; a credential change may have reset it
  // (fs.suid_dumpable), so again here.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return Err("sandbox: {} role: PR_SET_DUMPABLE: {}", role, std::strerror(errno));
  }

  // Required by unprivileged Landlock and seccomp, and closes set-uid
  // escalation for good.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Err("sandbox: {} role: PR_SET_NO_NEW_PRIVS: {}", role, std::strerror(errno));
  }

  if (report.landlock_fs) {
    LandlockRules rules;
    rules.read_paths = policy.read_paths;
    rules.write_dirs = policy.write_dirs;
    rules.connect_ports = policy.connect_ports;
    rules.bind_ports = policy.bind_ports;
    // reload-watch stops its helpers and probe role, which were forked
    // before it entered its domain, so its signals are not scoped (it may
    // signal nothing at all of another user: it holds no capability).
    rules.scope_signals = policy.role != Role::kReloadWatch;
    // The probe role's OpenSSL and resolver load modules lazily, too.
    if (policy.role == Role::kNet || policy.role == Role::kProbe ||
        (policy.role == Role::kReloadWatch && !policy.connect_ports.empty())) {
      rules.read_paths.insert(rules.read_paths.end(), std::begin(kLibraryDirs),
                              std::end(kLibraryDirs));
    }
    Status st = ApplyLandlock(rules, report.landlock_abi);
    if (!st.ok()) {
      return st.error().Wrap(fmt::format("{} role", role));
    }
  }

  if (report.seccomp) {
    Status st = ApplySeccomp(policy);
    if (!st.ok()) {
      return st.error().Wrap(fmt::format("{} role", role));
    }
  }

  if (require_full && !report.gaps.empty()) {
    return Err("sandbox: {} role: the kernel cannot enforce the whole sandbox: {}", role,
               JoinGaps(report.gaps));
  }
  return report;
}

}  // namespace bulkhead::sandbox
