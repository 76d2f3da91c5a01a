#include "sandbox/landlock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "util/fs.h"
#include "util/log.h"

// The system-call numbers are the same on every architecture (the generic
// table); older libc headers may lack them.
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

namespace bulkhead::sandbox {
namespace {

// The kernel ABI is stable, but Debian 12's <linux/landlock.h> stops at ABI 2
// or 3 (no network rules, no scopes). Rather than mixing the system header
// with guarded additions (its rule types are an enum, which cannot be
// guarded), everything is defined here under our own names, with the
// layouts of the kernel's include/uapi/linux/landlock.h.
constexpr uint32_t kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;
constexpr int kRuleNetPort = 2;  // ABI 4.

// Filesystem rights, by the ABI that introduced them.
constexpr uint64_t kFsExecute = 1ULL << 0;
constexpr uint64_t kFsWriteFile = 1ULL << 1;
constexpr uint64_t kFsReadFile = 1ULL << 2;
constexpr uint64_t kFsReadDir = 1ULL << 3;
constexpr uint64_t kFsRemoveDir = 1ULL << 4;
constexpr uint64_t kFsRemoveFile = 1ULL << 5;
constexpr uint64_t kFsMakeChar = 1ULL << 6;
constexpr uint64_t kFsMakeDir = 1ULL << 7;
constexpr uint64_t kFsMakeReg = 1ULL << 8;
constexpr uint64_t kFsMakeSock = 1ULL << 9;
constexpr uint64_t kFsMakeFifo = 1ULL << 10;
constexpr uint64_t kFsMakeBlock = 1ULL << 11;
constexpr uint64_t kFsMakeSym = 1ULL << 12;
constexpr uint64_t kFsRefer = 1ULL << 13;     // ABI 2.
constexpr uint64_t kFsTruncate = 1ULL << 14;  // ABI 3.
constexpr uint64_t kFsIoctlDev = 1ULL << 15;  // ABI 5.

// The rights that may be granted on a non-directory.
constexpr uint64_t kFsFileRights = kFsExecute | kFsWriteFile | kFsReadFile | kFsTruncate |
                                   kFsIoctlDev;

// Network rights (ABI 4).
constexpr uint64_t kNetBindTcp = 1ULL << 0;
constexpr uint64_t kNetConnectTcp = 1ULL << 1;

// Scopes (ABI 6).
constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;
constexpr uint64_t kScopeSignal = 1ULL << 1;

// struct landlock_ruleset_attr, grown by ABI: handled_access_net in ABI 4,
// scoped in ABI 6. The size passed to the kernel is the part the ABI knows.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

// struct landlock_path_beneath_attr (packed in the kernel's header).
struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
};

// struct landlock_net_port_attr: the port is in host byte order.
struct NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};

std::atomic<int> g_abi_cap{-1};

// HandledFs returns every filesystem right `abi` knows, so that all of them
// are denied unless a rule grants them.
uint64_t HandledFs(int abi) {
  uint64_t rights = kFsExecute | kFsWriteFile | kFsReadFile | kFsReadDir | kFsRemoveDir |
                    kFsRemoveFile | kFsMakeChar | kFsMakeDir | kFsMakeReg | kFsMakeSock |
                    kFsMakeFifo | kFsMakeBlock | kFsMakeSym;
  if (abi >= 2) {
    rights |= kFsRefer;
  }
  if (abi >= 3) {
    rights |= kFsTruncate;
  }
  if (abi >= 5) {
    rights |= kFsIoctlDev;
  }
  return rights;
}

// WriteRights is what a write directory grants: everything needed to create,
// replace (rename) and remove regular files, directories and symlinks, but
// no device nodes, sockets, fifos, device ioctls or execution.
uint64_t WriteRights(int abi) {
  uint64_t rights = kFsWriteFile | kFsReadFile | kFsReadDir | kFsRemoveDir | kFsRemoveFile |
                    kFsMakeDir | kFsMakeReg | kFsMakeSym;
  if (abi >= 2) {
    rights |= kFsRefer;
  }
  if (abi >= 3) {
    rights |= kFsTruncate;
  }
  return rights;
}

// AddPathRule grants `rights` below `path` (or on the file `path`). A missing
// path is skipped: it only means fewer rights.
Status AddPathRule(int ruleset_fd, const std::string& path, uint64_t rights, bool must_be_dir) {
  ScopedFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) {
      LogDebug("sandbox: {} does not exist; no rule added for it", path);
      return OkStatus();
    }
    return Err("sandbox: opening {} for a Landlock rule: {}", path, std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return Err("sandbox: fstat {}: {}", path, std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (must_be_dir) {
      return Err("sandbox: write directory {} is not a directory", path);
    }
    // The kernel rejects directory-only rights on a file.
    rights &= kFsFileRights;
  }
  PathBeneathAttr attr{};
  attr.allowed_access = rights;
  attr.parent_fd = fd.get();
  if (::syscall(__NR_landlock_add_rule, ruleset_fd, kRulePathBeneath, &attr, 0) != 0) {
    return Err("sandbox: landlock_add_rule for {}: {}", path, std::strerror(errno));
  }
  return OkStatus();
}

// AddPortRule grants `rights` on TCP `port`.
Status AddPortRule(int ruleset_fd, uint16_t port, uint64_t rights) {
  NetPortAttr attr{};
  attr.allowed_access = rights;
  attr.port = port;
  if (::syscall(__NR_landlock_add_rule, ruleset_fd, kRuleNetPort, &attr, 0) != 0) {
    return Err("sandbox: landlock_add_rule for TCP port {}: {}", port, std::strerror(errno));
  }
  return OkStatus();
}

}  // namespace

int LandlockAbi() {
  long abi = ::syscall(__NR_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  if (abi < 0) {
    // ENOSYS (not built) or EOPNOTSUPP (disabled at boot).
    abi = 0;
  }
  int cap = g_abi_cap.load();
  if (cap >= 0 && abi > cap) {
    abi = cap;
  }
  return static_cast<int>(abi);
}

void SetLandlockAbiCapForTesting(int max_abi) { g_abi_cap.store(max_abi); }

Status ApplyLandlock(const LandlockRules& rules, int abi) {
  if (abi < 1) {
    return Err("sandbox: Landlock is not available");
  }
  RulesetAttr attr{};
  size_t attr_size = sizeof(attr.handled_access_fs);
  attr.handled_access_fs = HandledFs(abi);
  if (abi >= 4) {
    // Handling both rights denies every TCP connect and bind not granted
    // by a port rule below.
    attr.handled_access_net = kNetBindTcp | kNetConnectTcp;
    attr_size = offsetof(RulesetAttr, scoped);
  }
  if (abi >= 6) {
    // A compromised role may not signal, or connect to abstract Unix sockets
    // of, processes outside its own sandbox.
    attr.scoped = kScopeAbstractUnixSocket | (rules.scope_signals ? kScopeSignal : 0);
    attr_size = sizeof(attr);
  }
  long ruleset = ::syscall(__NR_landlock_create_ruleset, &attr, attr_size, 0);
  if (ruleset < 0) {
    return Err("sandbox: landlock_create_ruleset (ABI {}): {}", abi, std::strerror(errno));
  }
  ScopedFd ruleset_fd(static_cast<int>(ruleset));

  uint64_t read_rights = kFsReadFile | kFsReadDir;
  for (const std::string& path : rules.read_paths) {
    BH_TRY(AddPathRule(ruleset_fd.get(), path, read_rights, /*must_be_dir=*/false));
  }
  for (const std::string& dir : rules.write_dirs) {
    BH_TRY(AddPathRule(ruleset_fd.get(), dir, WriteRights(abi), /*must_be_dir=*/true));
  }
  if (abi >= 4) {
    for (uint16_t port : rules.connect_ports) {
      BH_TRY(AddPortRule(ruleset_fd.get(), port, kNetConnectTcp));
    }
    for (uint16_t port : rules.bind_ports) {
      BH_TRY(AddPortRule(ruleset_fd.get(), port, kNetBindTcp));
    }
  }
  if (::syscall(__NR_landlock_restrict_self, ruleset_fd.get(), 0) != 0) {
    return Err("sandbox: landlock_restrict_self: {}", std::strerror(errno));
  }
  return OkStatus();
}

}  // namespace bulkhead::sandbox
