// The sandbox each role process enters after it has opened what it needs and
// before it reads a byte from another role ("open, then sandbox, then parse").
//
// Enter stacks these kernel features, each of which narrows the process for
// the rest of its life and is inherited by its threads and children:
//   0. No capabilities at all (effective, permitted, inheritable, ambient,
//      bounding set), even when the process stays uid 0, and not dumpable
//      (no /proc/PID/mem, no ptrace by processes of the same user). No
//      exception: reload-watch's helper, forked before the sandbox, is what
//      signals a server of another user.
//   1. PR_SET_NO_NEW_PRIVS: no set-uid/file-capability gains (needed by 2+3).
//   2. Landlock: which paths may be read or written, which TCP ports may be
//      connected to or bound (ABI >= 4), and no signals or abstract Unix
//      sockets across the sandbox boundary (ABI >= 6).
//   3. seccomp: one system-call allowlist per role, which also decides which
//      sockets (family, type, protocol) a role may create; anything else
//      kills the process with a message naming the role and the call.
// What the kernel cannot enforce is reported, never silently skipped.
#ifndef BULKHEAD_SANDBOX_SANDBOX_H_
#define BULKHEAD_SANDBOX_SANDBOX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/identity.h"
#include "util/result.h"

namespace bulkhead::sandbox {

// Role selects the system-call allowlist (see docs/COMPARTMENTS.md).
// kReloadWatch is `bulkhead reload-watch` (docs/DEPLOY.md): it reads, stats
// and watches files, signals the server it serves (so its Landlock domain
// does not scope signals) and asks its probe role to check what it serves.
// kProbe parses what remote TLS servers send (`monitor`, `serve`'s checks,
// reload-watch --verify): TCP to the probed ports, UDP only to resolve names
// (Policy::resolve_names), no writes, no signals.
enum class Role { kSigner, kKeys, kNet, kChallenge, kStore, kReloadWatch, kProbe };

// RoleName returns the lower-case name of `role` ("signer", ...). The view
// points at a static, NUL-terminated string.
std::string_view RoleName(Role role);

// Policy says what one role process may touch after Enter.
struct Policy {
  Role role = Role::kSigner;
  // Files or directories (recursively) that may be read. Symlinks are
  // followed when the rule is made, so the rule covers the target.
  std::vector<std::string> read_paths;
  // Directories in which files, directories and symlinks may be created,
  // written, renamed and removed (and read).
  std::vector<std::string> write_dirs;
  // TCP ports that may be connected to (Landlock ABI >= 4); empty = none.
  std::vector<uint16_t> connect_ports;
  // TCP ports that may be bound (Landlock ABI >= 4); empty = none. A
  // non-empty list also allows the listening socket calls in seccomp.
  std::vector<uint16_t> bind_ports;
  // Whether the role may create UDP sockets (AF_INET/AF_INET6, SOCK_DGRAM,
  // protocol 0 or IPPROTO_UDP): only roles that send DNS queries (dns-01,
  // the http-01 pre-flight check, the DANE observer). Landlock cannot limit
  // UDP destinations, so every other role has no UDP socket at all.
  bool udp = false;
  // The already-open socket to the parent, or -1. sendmsg/recvmsg (which can
  // carry file descriptors) are allowed on this descriptor only; read and
  // write work on any open descriptor.
  int ipc_fd = -1;
  // Further channels with the same rights as ipc_fd (a role that hears from
  // two peers, e.g. the signer: net's requests and the parent's CSR).
  std::vector<int> extra_ipc_fds;
  // When set and the process is root, Enter first switches to this user
  // and group (DropPrivileges). Ignored when not root: the process already
  // runs unprivileged.
  std::optional<RunAs> run_as;
  // kProbe only: the role resolves host names itself (UDP sockets and the
  // resolver's files); without it, every address is given as a literal.
  bool resolve_names = false;
};

// Report says what is (or would be) enforced.
struct Report {
  int landlock_abi = 0;         // 0: Landlock unavailable.
  bool landlock_fs = false;     // Paths restricted (ABI >= 1).
  bool landlock_net = false;    // TCP connect/bind ports restricted (ABI >= 4).
  bool landlock_scope = false;  // Signals/abstract sockets scoped (ABI >= 6).
  bool seccomp = false;         // System-call allowlist with SIGSYS reports.
  // Human-readable: what no layer enforces on this kernel for the role. A
  // missing Landlock feature whose effect the seccomp allowlist already
  // prevents for the role (e.g. no socket() at all) is not a gap.
  std::vector<std::string> gaps;
};

// Probe reports what this kernel offers, without restricting anything. The
// gaps listed are those Enter would report for a role that uses TCP (net).
Report Probe();

// Enter empties the capability bounding set (when it may), switches to
// `policy.run_as` (when root), drops every remaining capability (also as
// uid 0), makes the process non-dumpable, then applies PR_SET_NO_NEW_PRIVS,
// Landlock and the role's seccomp allowlist, in that order, to the calling
// process. It must be called while the process has a single thread
// (Landlock binds only the calling thread); otherwise it fails before
// restricting anything. Paths in the policy that do
// not exist are skipped (a debug message), which only takes rights away.
//
// What the kernel cannot enforce is listed in Report::gaps; the caller prints
// the gaps once. With `require_full`, any gap makes Enter return an error
// after applying everything it could: the caller must then exit. An
// unexpected failure of a kernel call is always an error; after an error the
// process may be partly restricted and must exit.
Result<Report> Enter(const Policy& policy, bool require_full);

// NetSystemReadPaths returns the system files DNS resolution and TLS trust
// need (resolver and NSS configuration, the CA certificate store). Roles
// that resolve names themselves (dns-01, pre-flight, DANE) add these to
// their read_paths; Enter also lets the net role read the shared-library
// directories, because glibc loads NSS modules lazily at the first name
// lookup.
std::vector<std::string> NetSystemReadPaths();

// TlsTrustReadPaths returns only the TLS trust files of NetSystemReadPaths
// (the CA certificate store and OpenSSL's configuration): what a net role
// needs when its peer's addresses were resolved before it started.
std::vector<std::string> TlsTrustReadPaths();

// DropAllCapabilities empties the calling process's effective, permitted,
// inheritable and ambient capability sets, and its bounding set when the
// process may change it (CAP_SETPCAP), then checks that none is left in the
// first four. Capabilities in the mask `keep_effective` (bit N for
// capability N) that the process holds stay effective and permitted (Enter
// keeps none; tests use it). Enter calls it; exposed for tests.
// Returns an error naming the call that failed.
Status DropAllCapabilities(uint64_t keep_effective = 0);

}  // namespace bulkhead::sandbox

#endif  // BULKHEAD_SANDBOX_SANDBOX_H_
