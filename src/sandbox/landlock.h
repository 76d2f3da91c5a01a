// Landlock (Linux >= 5.13): unprivileged, stackable access control on paths,
// TCP ports (ABI >= 4) and IPC scopes (ABI >= 6). Internal to the sandbox
// module; callers use sandbox::Enter.
#ifndef BULKHEAD_SANDBOX_LANDLOCK_H_
#define BULKHEAD_SANDBOX_LANDLOCK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.h"

namespace bulkhead::sandbox {

// LandlockRules is what one Landlock domain allows; everything else of the
// kinds the ABI knows is denied.
struct LandlockRules {
  std::vector<std::string> read_paths;     // Read files / list directories.
  std::vector<std::string> write_dirs;     // Full read/write below these.
  std::vector<uint16_t> connect_ports;     // TCP connect (ABI >= 4).
  std::vector<uint16_t> bind_ports;        // TCP bind (ABI >= 4).
  // Deny signals to processes outside the domain (ABI >= 6). Off only for
  // reload-watch, whose job is to signal the server.
  bool scope_signals = true;
};

// LandlockAbi returns the Landlock ABI version of the running kernel (capped
// by SetLandlockAbiCapForTesting), or 0 if Landlock is unavailable.
int LandlockAbi();

// ApplyLandlock restricts the calling thread (and its future threads and
// children) to `rules`, using the features of `abi` (>= 1). It requires
// PR_SET_NO_NEW_PRIVS. Paths that do not exist are skipped. It returns an
// error naming the failing call or path (then nothing was restricted unless
// the error says landlock_restrict_self failed).
Status ApplyLandlock(const LandlockRules& rules, int abi);

// SetLandlockAbiCapForTesting makes LandlockAbi report at most `max_abi`
// (0 disables Landlock, a negative value removes the cap), so tests can
// pretend to run on an older kernel.
void SetLandlockAbiCapForTesting(int max_abi);

}  // namespace bulkhead::sandbox

#endif  // BULKHEAD_SANDBOX_LANDLOCK_H_
