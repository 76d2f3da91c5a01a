// Rules for a file integrity checker (AIDE, mtree) over bulkhead's state
// directory: the account keys and account files must never change, the
// certificates may (a renewal adds a version directory and moves `live`),
// and modes and owners are checked everywhere. An intrusion detection run
// after a renewal then reports nothing, and a replaced account key (the
// way to take over the account without touching a certificate) is
// reported. `bulkhead doctor --ids-policy` prints them.
#ifndef BULKHEAD_MANAGER_IDS_POLICY_H_
#define BULKHEAD_MANAGER_IDS_POLICY_H_

#include <string>
#include <string_view>

#include "util/result.h"

namespace bulkhead::manager {

// IdsFormat is the checker the rules are written for.
enum class IdsFormat {
  kAide,   // aide.conf(5) groups and restricted rules, for /etc/aide/aide.conf.d.
  kMtree,  // An mtree(5) specification of the tree as it is now.
};

// ParseIdsFormat accepts "aide" or "mtree"; anything else is kUsage.
Result<IdsFormat> ParseIdsFormat(std::string_view name);

// AidePolicy returns aide.conf rules for the state directory `state_dir`
// (absolute, no trailing slash): everything under accounts/ (keys, account
// files and directories) with content hashes, owner, group, mode and type
// and no file allowed to appear or vanish; root-settings/ the same, except
// that a new certificate's record may appear; each certificate's version
// directories with content hashes (a stored version never changes) and new
// or pruned versions allowed; the rest of certs/ and the state directory's
// other files (settings.json, live, ledger, pending orders) with owner,
// group, mode and type only. Fails (kUsage) for a path that is not
// absolute or holds a control character.
Result<std::string> AidePolicy(const std::string& state_dir);

// MtreePolicy returns an mtree(5) specification of `state_dir` as it is
// now, for `mtree -p STATE_DIR -f SPEC`: every file under accounts/ and
// root-settings/ with type, mode, owner, group, size and sha256digest;
// certs/ and each certificate directory with type, mode and owner and the
// `ignore` keyword (their contents change with every renewal; mtree cannot
// say "new entries allowed"); the state directory's other files with type,
// mode and owner and the `optional` keyword. Symlinks are recorded as
// links, never followed. Fails if the directory cannot be read, naming the
// path.
Result<std::string> MtreePolicy(const std::string& state_dir);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_IDS_POLICY_H_
