// The outcome of the last renewal attempt of each certificate, kept in
// <state>/renewal-status.json so that `renew --metrics-file` (and anything
// else that watches renewals) can report "last attempt, and did it work"
// even for runs that had nothing to do.
#ifndef BULKHEAD_MANAGER_RENEWAL_STATUS_H_
#define BULKHEAD_MANAGER_RENEWAL_STATUS_H_

#include <cstdint>
#include <map>
#include <string>

#include "util/result.h"

namespace bulkhead::manager {

// RenewalAttempt is one certificate's last attempt.
struct RenewalAttempt {
  int64_t at = 0;            // Unix seconds.
  bool ok = false;
  int64_t last_success = 0;  // Unix seconds of the last attempt that worked; 0: none.
  std::string error;         // The failure, first line, at most 300 bytes.
};

// RenewalStatusPath is <state>/renewal-status.json.
std::string RenewalStatusPath(const std::string& state_dir);

// LoadRenewalStatus reads the file (at most 1 MiB, not following a
// symlink); a missing file is an empty map. Entries that are not well
// formed are skipped, so one bad entry does not hide the others. Fails
// only if the file cannot be read or is not a JSON object.
Result<std::map<std::string, RenewalAttempt>> LoadRenewalStatus(const std::string& state_dir);

// RecordRenewalAttempt sets `name`'s entry (keeping its last success when
// this attempt failed) and rewrites the file atomically (0644: holds no
// secret, and metrics collectors read it).
Status RecordRenewalAttempt(const std::string& state_dir, const std::string& name, int64_t at,
                            bool ok, std::string_view error);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_RENEWAL_STATUS_H_
