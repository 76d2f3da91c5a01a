#include "sandbox/sandbox.h"

#include <dirent.h>
#include <sys/prctl.h>
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
  return {
      // Name resolution (glibc resolver and NSS).
      "/etc/resolv.conf",
      "/etc/hosts",
      "/etc/nsswitch.conf",
      "/etc/host.conf",
      "/etc/gai.conf",
      "/etc/services",
      // TLS trust: the bundle, the hashed directory and the files its
      // symlinks point to, and OpenSSL's configuration.
      "/etc/ssl/certs",
      "/etc/ssl/openssl.cnf",
      "/usr/lib/ssl",
      "/usr/share/ca-certificates",
      "/usr/local/share/ca-certificates",
  };
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

  if (policy.run_as && ::geteuid() == 0) {
    Status st = DropPrivileges(*policy.run_as);
    if (!st.ok()) {
      return st.error().Wrap(fmt::format("sandbox: {} role", role));
    }
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
    // reload-watch signals a process outside its own domain.
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
