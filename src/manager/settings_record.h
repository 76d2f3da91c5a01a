// Root's own record of each certificate's settings.
//
// Run as root with `--user`, the store role writes `settings.json` as that
// user, in a certificate directory that user owns. What `renew` reads there
// decides where root acts next (the webroot it prepares, the hook it
// starts, the files it reads), so root does not take it on trust: the
// parent keeps a copy of the settings of every successful run in
// <state>/root-settings/<name>.json, a directory only root may write, and
// as root refuses settings from the certificate directory that differ from
// it. `issue` run as root is how settings change: its settings come from
// the command line and become the record once the run succeeds.
#ifndef BULKHEAD_MANAGER_SETTINGS_RECORD_H_
#define BULKHEAD_MANAGER_SETTINGS_RECORD_H_

#include <string>

#include "manager/settings.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::manager {

// SettingsRecordPath returns <state>/root-settings/<name>.json.
std::string SettingsRecordPath(const std::string& state_dir, const std::string& name);

// SaveSettingsRecord writes `s` (what settings.json holds: ToJson()) as
// root's record, atomically, creating <state>/root-settings (0700) if
// needed. Only when running as root; otherwise it does nothing. A record
// that already holds exactly these settings is not rewritten. Fails
// naming the file, or the directory if it belongs to another user or others
// may write it.
Status SaveSettingsRecord(const std::string& state_dir, const CertSettings& s);

// CheckSettingsRecord, when running as root, accepts `loaded` (read from the
// certificate directory of `certs`) only if it equals root's record. The
// error lists what differs (at most a few fields, values shown escaped and
// cut short) and says how to accept a change: run `issue` as root. Without
// a record, settings that only root could have written (settings.json and
// its directory owned by root, writable by no one else) are adopted as the
// record (a state directory from before records existed); others are
// refused the same way. Not running as root: always OK.
Status CheckSettingsRecord(const std::string& state_dir, const store::CertStore& certs,
                           const CertSettings& loaded);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_SETTINGS_RECORD_H_
