// `bulkhead doctor`: audits a deployment against the compartment invariants
// (docs/COMPARTMENTS.md) and says, per check, what is wrong and how to fix it.
//
// The permission logic is split in two: pure evaluators that take stat-like
// facts and a user's identity (unit-tested with synthetic data, since tests
// cannot change uid), and RunDoctor, which gathers the facts from the file
// system and the kernel and feeds them to the evaluators.
#ifndef BULKHEAD_MANAGER_DOCTOR_H_
#define BULKHEAD_MANAGER_DOCTOR_H_

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manager/settings.h"
#include "sandbox/sandbox.h"
#include "util/result.h"

namespace bulkhead::manager {

// CheckStatus is the verdict of one check. Only kFail makes doctor exit 1.
enum class CheckStatus {
  kPass,  // The invariant holds.
  kInfo,  // Nothing to judge; the line explains (e.g. what a role may do).
  kWarn,  // Weaker than it should be, but not a broken invariant.
  kFail,  // An invariant is broken.
};

// CheckStatusName returns "PASS", "INFO", "WARN" or "FAIL".
std::string_view CheckStatusName(CheckStatus status);

// CheckResult is one line of doctor's report.
struct CheckResult {
  std::string check;  // What was checked ("account key 127.0.0.1_14000/default").
  CheckStatus status = CheckStatus::kPass;
  std::string detail;  // What was found.
  std::string fix;     // How to repair it; empty when nothing needs doing.
};

// FileFacts is the part of struct stat the evaluators look at.
struct FileFacts {
  mode_t mode = 0;  // Type and permission bits (st_mode).
  uid_t uid = 0;
  gid_t gid = 0;
};

// UserIdentity is a user as the kernel's permission check sees it.
struct UserIdentity {
  std::string name;
  uid_t uid = 0;
  std::vector<gid_t> gids;  // Primary and supplementary groups.
};

// LookupUser returns the uid and groups of `name` (getpwnam, getgrouplist).
// An unknown user is a kUsage error.
Result<UserIdentity> LookupUser(const std::string& name);

// ModeAllows returns whether the permission bits of `file` grant `who` every
// access in `want` (a mask of R_OK, W_OK, X_OK), as the kernel decides it
// without ACLs or capabilities: the owner class if the uid matches, else the
// group class if any of the user's groups matches, else the other class.
// uid 0 may read and write anything and execute/search if any x bit is set.
bool ModeAllows(const FileFacts& file, const UserIdentity& who, int want);

// RunnerAccess is what the user running doctor (the one that runs renew)
// may do with a file, as access(2) reports it (so ACLs and read-only mounts
// count). `is_root` says the runner is uid 0, who bypasses permission bits.
struct RunnerAccess {
  bool is_root = false;
  bool may_read = false;
  bool may_write = false;
};

// EvaluateAccountKey judges one account key: a regular file, no group or
// other bits (0400/0600 at most), readable by the runner (the signer must
// read it) and not writable by the runner. For root, whom permission bits
// do not stop, "writable" means a write bit is set and the file system is
// writable. `label` names the key in the check.
CheckResult EvaluateAccountKey(std::string_view label, std::string_view path,
                               const FileFacts& facts, const RunnerAccess& runner);

// WritablePath is a file or directory with whether the renewing user (who
// issue/renew's roles run as) may write it; for a directory, write and
// search, i.e. create, rename and remove entries in it.
struct WritablePath {
  std::string path;
  FileFacts facts;
  bool renewer_may_write = false;
};

// RenewerMayWrite decides WritablePath::renewer_may_write. `other` is the
// renewing user when it is not the user running doctor (--user, judged by
// mode bits against its uid and groups; nullptr otherwise). Else
// `doctor_may_write` is access(2)'s answer for doctor itself (so ACLs and
// read-only mounts count); for root (`doctor_is_root`), whom permission
// bits do not stop, a write bit must be set as well, as for the account
// key. A read-only file system (`read_only_fs`) stops every user.
bool RenewerMayWrite(const FileFacts& facts, const UserIdentity* other, bool doctor_is_root,
                     bool doctor_may_write, bool read_only_fs);

// EvaluateAccountDirs judges the directories one account key lives in:
// <state>/accounts, accounts/<ca> and accounts/<ca>/<name>. FAIL for each
// one the renewing user `renewer` may write: a compromised role
// that escaped its sandbox could put its own key there, and renew would
// sign with it without a word. `label` names the account in the check.
CheckResult EvaluateAccountDirs(std::string_view label, const UserIdentity& renewer,
                                const std::vector<WritablePath>& dirs);

// KeyThumbprint is what doctor found out about one account key's identity.
struct KeyThumbprint {
  std::string recorded;     // account.json's "thumbprint"; empty if none.
  std::string found;        // RFC 7638 thumbprint of account.key's key.
  std::string read_error;   // Set when doctor could not read account.key.
  std::string parse_error;  // Set when account.key holds no usable key.
};

// EvaluateAccountThumbprint judges whether account.key (`key_path`) is
// still the key account.json recorded when the account was registered or
// rolled over: FAIL on a mismatch (someone replaced the key) or an
// unusable key, WARN when doctor could not read the key or nothing was
// recorded, PASS when both thumbprints are equal.
CheckResult EvaluateAccountThumbprint(std::string_view label, std::string_view key_path,
                                      const KeyThumbprint& t);

// EvaluateStateDirs judges who else may write bulkhead's state: FAIL for
// each directory in `dirs` (the state directory, accounts/ and certs/ and
// every directory below them that doctor looks at) whose other-write bit
// is set, since every local user could then swap keys, certificates or
// settings; and for each directory in `ancestors` (from "/" down to the
// state directory's parent) that every user may write without the sticky
// bit, since anyone could then replace the whole state directory. Holds
// with or without --web-user.
CheckResult EvaluateStateDirs(const std::vector<std::pair<std::string, FileFacts>>& ancestors,
                              const std::vector<std::pair<std::string, FileFacts>>& dirs);

// ChallengeRoleLine describes, for one certificate's settings, which
// connections its challenge role may open (as PlanIssue's policy
// grants them), as an INFO line "challenge role <name>".
CheckResult ChallengeRoleLine(const CertSettings& settings);

// EvaluateChallengeDir judges the challenge directory of one certificate.
// `runner_may_write` is access(W_OK|X_OK) for the runner (the challenge
// role writes tokens there). With a web user (`web` non-null), `chain` holds
// the facts of the directory's ancestors from "/" down to and including the
// directory itself: the web user must be able to search every one of them
// (to open the token files) and must not be able to write the directory.
CheckResult EvaluateChallengeDir(std::string_view label, std::string_view dir,
                                 bool runner_may_write, const UserIdentity* web,
                                 const std::vector<std::pair<std::string, FileFacts>>& chain);

// EvaluateCertDirs judges the directories from <state> down to each
// certificate's directory: none may be writable (and searchable) by the web
// user, who could otherwise swap keys or certificates. `dirs` pairs each
// path with its facts.
CheckResult EvaluateCertDirs(const UserIdentity& web,
                             const std::vector<std::pair<std::string, FileFacts>>& dirs);

// EvaluatePrivateKeys judges the privkey.pem files of one certificate:
// FAIL if any is readable or writable by others, WARN for bits beyond 0640
// (group write, execute), PASS otherwise (also when there are none).
CheckResult EvaluatePrivateKeys(std::string_view label,
                                const std::vector<std::pair<std::string, FileFacts>>& keys);

// KernelChecks turns a sandbox report into lines: Landlock, seccomp, one
// WARN per gap, and one line per role saying what it will be denied.
std::vector<CheckResult> KernelChecks(const sandbox::Report& report);

// DoctorOptions selects what RunDoctor audits.
struct DoctorOptions {
  std::string state_dir;
  std::string web_user;   // Empty: skip the web user's checks.
  std::string cert_name;  // Empty: every managed certificate.
  // Who issue/renew's roles would run as (sandbox::DefaultRunAs of --user),
  // and whether doctor runs as root.
  std::optional<sandbox::RunAs> run_as;
  bool is_root = false;
};

// EvaluateRoleUser judges which user the roles run as: root roles are a
// WARN (a sandbox escape would be root), an unprivileged user a PASS.
CheckResult EvaluateRoleUser(bool is_root, const std::optional<sandbox::RunAs>& run_as);

// RunDoctor gathers the facts for `options` and returns every check's
// result. It fails (kUsage) only if the options are unusable: an unknown
// web user or an unmanaged --cert-name; problems found are results.
Result<std::vector<CheckResult>> RunDoctor(const DoctorOptions& options);

// FormatCheck returns "STATUS  check: detail; fix: how" (without "; fix:"
// when there is nothing to fix).
std::string FormatCheck(const CheckResult& result);

// ChecksToJson returns an array of {check, status, detail, fix}.
nlohmann::json ChecksToJson(const std::vector<CheckResult>& results);

// AnyFailed reports whether any result is kFail.
bool AnyFailed(const std::vector<CheckResult>& results);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_DOCTOR_H_
