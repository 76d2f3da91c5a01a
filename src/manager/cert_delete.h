// Ending the management of a certificate (`bulkhead delete`): its directory
// leaves <state>/certs in one rename(2), under its lock, into an archive
// (or is removed with --purge); nothing is removed by surprise.
//
// An archive mirrors the state directory, so that moving its entries back
// restores the certificate as it was:
//   <state>/archive/<name>-<YYYYMMDDTHHMMSSZ>/certs/<name>/
//   <state>/archive/<name>-<YYYYMMDDTHHMMSSZ>/root-settings/<name>.json
//                                          (root's record, when there is one)
#ifndef BULKHEAD_MANAGER_CERT_DELETE_H_
#define BULKHEAD_MANAGER_CERT_DELETE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::manager {

// DeleteMode says what becomes of the certificate directory.
enum class DeleteMode {
  kArchive,  // Moved under <state>/archive (the default: nothing is lost).
  kPurge,    // Removed, with root's record.
};

// DeleteOutcome is what DeleteCertificate did.
struct DeleteOutcome {
  std::string archive_dir;  // <state>/archive/<name>-<time>; "" after a purge.
  bool record_moved = false;  // Root's record went with it (or was removed).
};

// ArchiveDirName returns "<name>-<YYYYMMDDTHHMMSSZ>" for `now` (Unix
// seconds, UTC), with "-<n>" appended for n = `attempt` > 1 so that two
// deletions within one second do not collide. Never fails.
std::string ArchiveDirName(std::string_view name, int64_t now, int attempt = 1);

// CheckDeletable fails with ErrorCode::kUsage when `name` is not a valid
// certificate name or <certs>/<name> is not a directory (an unknown
// certificate), naming the directory; other lstat errors are kFailure.
Status CheckDeletable(const store::CertStore& certs, std::string_view name);

// DeleteCertificate takes the certificate's lock without waiting (a run
// holding it is an error naming the lock file), calls `confirm` while
// holding it (an error from `confirm` cancels with nothing changed), then
// moves <certs>/<name> in one rename(2) into a new archive directory under
// <state_dir>/archive (0700), and root's record with it. With kPurge the
// directory is first renamed to a hidden name under <state_dir>/archive and
// then removed, so it disappears from <certs> at once even if the removal
// is interrupted; root's record is removed. Fails, naming the path, when
// any step fails; if the certificate directory was moved but root's record
// could not be, the error says where both are.
Result<DeleteOutcome> DeleteCertificate(const std::string& state_dir,
                                        const store::CertStore& certs, const std::string& name,
                                        DeleteMode mode, int64_t now,
                                        const std::function<Status()>& confirm);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_CERT_DELETE_H_
