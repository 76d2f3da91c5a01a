#include "manager/doctor.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "crypto/key.h"
#include "jose/jwk.h"
#include "manager/issue_plan.h"
#include "manager/issue_run.h"
#include "manager/settings.h"
#include "manager/versions.h"
#include "store/account_store.h"
#include "store/cert_store.h"
#include "util/text.h"

namespace bulkhead::manager {
namespace {

namespace fs = std::filesystem;


std::string Mode(const FileFacts& f) { return fmt::format("{:04o}", f.mode & 07777); }

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) {
      out += sep;
    }
    out += p;
  }
  return out;
}

// Verdict collects problems of one check; the worst status wins.
struct Verdict {
  CheckStatus status = CheckStatus::kPass;
  std::vector<std::string> problems;
  std::vector<std::string> fixes;

  void Add(CheckStatus s, std::string problem, std::string fix) {
    if (static_cast<int>(s) > static_cast<int>(status)) {
      status = s;
    }
    problems.push_back(std::move(problem));
    if (!fix.empty() && std::find(fixes.begin(), fixes.end(), fix) == fixes.end()) {
      fixes.push_back(std::move(fix));
    }
  }

  CheckResult Finish(std::string check, std::string ok_detail) && {
    if (problems.empty()) {
      return CheckResult{std::move(check), CheckStatus::kPass, std::move(ok_detail), ""};
    }
    return CheckResult{std::move(check), status, Join(problems, "; "), Join(fixes, "; ")};
  }
};

// StatFacts fills `out` from stat(2) (following symlinks); false if absent.
bool StatFacts(const std::string& path, FileFacts* out) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return false;
  }
  *out = FileFacts{st.st_mode, st.st_uid, st.st_gid};
  return true;
}

// EffectiveAccess asks the kernel, for the effective ids, so that ACLs and
// read-only mounts are taken into account.
bool EffectiveAccess(const std::string& path, int mode) {
  return ::faccessat(AT_FDCWD, path.c_str(), mode, AT_EACCESS) == 0;
}

// Entries returns the names in `dir`, sorted; empty if it cannot be read.
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    out.push_back(it->path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool IsDirectory(const std::string& path) {
  FileFacts f;
  return StatFacts(path, &f) && S_ISDIR(f.mode);
}

// AncestorChain stats every directory from "/" down to `dir`; it stops at
// the first one missing (so the last entry is `dir` only if it exists).
std::vector<std::pair<std::string, FileFacts>> AncestorChain(const std::string& dir) {
  std::vector<std::pair<std::string, FileFacts>> chain;
  fs::path p = fs::path(dir).lexically_normal();
  fs::path cur;
  for (const fs::path& part : p) {
    if (part.empty()) {
      continue;
    }
    cur /= part;
    FileFacts f;
    if (!StatFacts(cur.string(), &f)) {
      break;
    }
    chain.emplace_back(cur.string(), f);
  }
  return chain;
}

// ---- gathering -----------------------------------------------------------

// ReadOnlyFs reports whether `path` lies on a read-only mount (for
// instance systemd's ReadOnlyPaths=), which stops every user.
bool ReadOnlyFs(const std::string& path) {
  struct statvfs vfs;
  return ::statvfs(path.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0;
}

// Renewer is the user issue/renew's roles run as, the "renewing user".
struct Renewer {
  UserIdentity id;
  bool is_doctor = true;  // It is the user running doctor (no --user).
};

// RenewerFor returns the --user identity when given, else doctor's own.
Renewer RenewerFor(const std::optional<sandbox::RunAs>& run_as) {
  Renewer r;
  if (run_as) {
    r.is_doctor = false;
    r.id.name = run_as->user;
    r.id.uid = run_as->uid;
    r.id.gids = run_as->groups;
    r.id.gids.push_back(run_as->gid);
    return r;
  }
  r.id.uid = ::geteuid();
  struct passwd* pw = ::getpwuid(r.id.uid);
  r.id.name = pw != nullptr ? std::string(pw->pw_name) : fmt::format("uid {}", r.id.uid);
  r.id.gids.push_back(::getegid());
  int n = ::getgroups(0, nullptr);
  if (n > 0) {
    std::vector<gid_t> groups(static_cast<size_t>(n));
    n = ::getgroups(n, groups.data());
    groups.resize(n > 0 ? static_cast<size_t>(n) : 0);
    r.id.gids.insert(r.id.gids.end(), groups.begin(), groups.end());
  }
  return r;
}

// JudgeWritable fills a WritablePath for `path`, as the renewing user sees it.
WritablePath JudgeWritable(const std::string& path, const FileFacts& facts, const Renewer& who) {
  const int want = S_ISDIR(facts.mode) ? W_OK | X_OK : W_OK;
  bool may = RenewerMayWrite(facts, who.is_doctor ? nullptr : &who.id, ::geteuid() == 0,
                             who.is_doctor && EffectiveAccess(path, want), ReadOnlyFs(path));
  return WritablePath{path, facts, may};
}

// AccountThumbprint reads account.json's thumbprint and computes the one of
// account.key. The key is held only here: its PEM is a Secret and the
// parsed key is freed (and cleansed by OpenSSL) on return.
KeyThumbprint AccountThumbprint(const std::string& dir) {
  store::AccountStore account(dir);
  KeyThumbprint t;
  auto info = account.LoadInfo();
  if (info.ok() && info->contains("thumbprint") && (*info)["thumbprint"].is_string()) {
    t.recorded = (*info)["thumbprint"].get<std::string>();
  }
  if (!EffectiveAccess(account.KeyPath(), R_OK)) {
    t.read_error = std::strerror(errno);
    return t;
  }
  Result<Secret> pem = account.ReadKey();
  if (!pem.ok()) {
    t.read_error = pem.error().message;
    return t;
  }
  Result<std::string> thumbprint = [&]() -> Result<std::string> {
    BH_ASSIGN(crypto::PrivateKey key, crypto::PrivateKey::FromPem(pem->view()));
    BH_ASSIGN(nlohmann::json jwk, jose::PublicJwk(key));
    return jose::Thumbprint(jwk);
  }();
  if (thumbprint.ok()) {
    t.found = *thumbprint;
  } else {
    t.parse_error = thumbprint.error().message;
  }
  return t;
}

// AccountTreeDirs lists accounts/, accounts/<ca> and accounts/<ca>/<name>
// for every account directory, as far as they exist.
std::vector<std::pair<std::string, FileFacts>> AccountTreeDirs(const std::string& state_dir) {
  std::vector<std::pair<std::string, FileFacts>> dirs;
  auto add = [&](const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      dirs.emplace_back(path, FileFacts{st.st_mode, st.st_uid, st.st_gid});
      return true;
    }
    return false;
  };
  std::string root = state_dir + "/accounts";
  if (!add(root)) {
    return dirs;
  }
  for (const std::string& ca : Entries(root)) {
    if (!add(root + "/" + ca)) {
      continue;
    }
    for (const std::string& name : Entries(root + "/" + ca)) {
      add(root + "/" + ca + "/" + name);
    }
  }
  return dirs;
}

void CheckAccounts(const std::string& state_dir, const Renewer& renewer,
                   std::vector<CheckResult>* out) {
  std::string root = state_dir + "/accounts";
  bool any = false;
  for (const std::string& ca : Entries(root)) {
    for (const std::string& name : Entries(root + "/" + ca)) {
      std::string dir = root + "/" + ca + "/" + name;
      std::string path = dir + "/account.key";
      FileFacts facts;
      if (!StatFacts(path, &facts)) {
        continue;
      }
      any = true;
      std::string label = ca + "/" + name;
      RunnerAccess runner;
      runner.is_root = ::geteuid() == 0;
      runner.may_read = EffectiveAccess(path, R_OK);
      runner.may_write = EffectiveAccess(path, W_OK);
      if (!renewer.is_doctor) {
        // Doctor (root) reads the key as the signer does before it drops
        // to --user; writing is up to the --user identity.
        runner.is_root = false;
        runner.may_write = JudgeWritable(path, facts, renewer).renewer_may_write;
      }
      out->push_back(EvaluateAccountKey(label, path, facts, runner));

      std::vector<WritablePath> dirs;
      for (const std::string& d : {root, root + "/" + ca, dir}) {
        FileFacts f;
        if (StatFacts(d, &f)) {
          dirs.push_back(JudgeWritable(d, f, renewer));
        }
      }
      out->push_back(EvaluateAccountDirs(label, renewer.id, dirs));
      if (S_ISREG(facts.mode)) {
        out->push_back(EvaluateAccountThumbprint(label, path, AccountThumbprint(dir)));
      }
    }
  }
  if (!any) {
    out->push_back(CheckResult{"account key", CheckStatus::kWarn,
                               fmt::format("no account key under {}/*/*/account.key", root),
                               "run `bulkhead account register`"});
  }
}

void CheckChallenge(const CertSettings& s, const UserIdentity* web, std::vector<CheckResult>* out) {
  std::string check = "challenge dir " + s.name;
  if (s.method == ChallengeMethod::kStandalone) {
    out->push_back(CheckResult{
        check, CheckStatus::kInfo,
        fmt::format("standalone on {}: no directory; the challenge role binds only that port",
                    s.challenge_target),
        ""});
    return;
  }
  std::string dir = s.method == ChallengeMethod::kWebroot
                        ? s.challenge_target + "/.well-known/acme-challenge"
                        : s.challenge_target;
  if (!IsDirectory(dir)) {
    bool created = s.method == ChallengeMethod::kWebroot && IsDirectory(s.challenge_target);
    out->push_back(CheckResult{
        check, created ? CheckStatus::kWarn : CheckStatus::kFail,
        created ? fmt::format("{} does not exist yet (renew creates it, mode 0755)", dir)
                : fmt::format("{} does not exist or is not a directory", dir),
        fmt::format("mkdir -p {} and make it writable by the user running renew", dir)});
    return;
  }
  out->push_back(EvaluateChallengeDir(s.name, dir, EffectiveAccess(dir, W_OK | X_OK), web,
                                      AncestorChain(dir)));
}

// CertTreeDirs lists <state>, <state>/certs, each certificate directory and
// the directories inside it (versions, pending), as far as they exist.
std::vector<std::pair<std::string, FileFacts>> CertTreeDirs(const std::string& state_dir,
                                                            const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, FileFacts>> dirs;
  auto add = [&](const std::string& path) {
    struct stat st;
    // lstat: the `live` symlink is not a directory of its own.
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      dirs.emplace_back(path, FileFacts{st.st_mode, st.st_uid, st.st_gid});
    }
  };
  add(state_dir);
  add(state_dir + "/certs");
  for (const std::string& name : names) {
    std::string cert = state_dir + "/certs/" + name;
    add(cert);
    for (const std::string& entry : Entries(cert)) {
      add(cert + "/" + entry);
    }
  }
  return dirs;
}

// PrivateKeys lists privkey.pem in every directory of the certificate:
// versions, pending/ and next/ (a DANE rollover's next key).
std::vector<std::pair<std::string, FileFacts>> PrivateKeys(const std::string& cert_dir) {
  std::vector<std::pair<std::string, FileFacts>> keys;
  for (const std::string& entry : Entries(cert_dir)) {
    std::string sub = cert_dir + "/" + entry;
    struct stat st;
    if (::lstat(sub.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      continue;
    }
    std::string key = sub + "/privkey.pem";
    if (::lstat(key.c_str(), &st) == 0) {
      keys.emplace_back(key, FileFacts{st.st_mode, st.st_uid, st.st_gid});
    }
  }
  return keys;
}

// RoleLine builds a role's line: PASS if every layer it relies on is
// there, WARN naming the missing ones.
CheckResult RoleLine(std::string_view role, std::string detail,
                     const std::vector<std::pair<bool, std::string>>& layers) {
  std::vector<std::string> missing;
  for (const auto& [present, what] : layers) {
    if (!present) {
      missing.push_back(what);
    }
  }
  if (missing.empty()) {
    return CheckResult{fmt::format("role {}", role), CheckStatus::kPass, std::move(detail), ""};
  }
  return CheckResult{
      fmt::format("role {}", role), CheckStatus::kWarn,
      fmt::format("{} (not enforced on this kernel: {})", detail, Join(missing, ", ")),
      "run on a kernel with the missing feature (see the sandbox gap lines)"};
}

}  // namespace

std::string_view CheckStatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kPass:
      return "PASS";
    case CheckStatus::kInfo:
      return "INFO";
    case CheckStatus::kWarn:
      return "WARN";
    case CheckStatus::kFail:
      return "FAIL";
  }
  return "FAIL";
}

Result<UserIdentity> LookupUser(const std::string& name) {
  auto entry = sandbox::LookupUserEntry(name);
  if (!entry.ok()) {
    return entry.error().Wrap("--web-user");
  }
  UserIdentity id;
  id.name = name;
  id.uid = entry->uid;
  id.gids = std::move(entry->groups);
  return id;
}

bool ModeAllows(const FileFacts& file, const UserIdentity& who, int want) {
  return sandbox::ModeAllows(file.mode, file.uid, file.gid, who.uid, who.gids, want);
}

CheckResult EvaluateAccountKey(std::string_view label, std::string_view path,
                               const FileFacts& facts, const RunnerAccess& runner) {
  std::string check = fmt::format("account key {}", label);
  std::string chmod = fmt::format("chmod 0400 {}", path);
  if (!S_ISREG(facts.mode)) {
    return CheckResult{check, CheckStatus::kFail, fmt::format("{} is not a regular file", path),
                       "put the account key back as a regular file, mode 0400"};
  }
  Verdict v;
  const mode_t perm = facts.mode & 07777;
  if ((perm & 0077) != 0) {
    v.Add(CheckStatus::kFail,
          fmt::format("{} is mode {}: group or others may {}", path, Mode(facts),
                      (perm & 0022) != 0 ? "write it" : "read it"),
          chmod);
  }
  // Root passes every permission check, so for root the mode bits are what
  // says whether the key is meant to be written; a read-only mount still
  // protects it (access(2) reports EROFS even to root).
  bool writable = runner.is_root ? (perm & 0222) != 0 && runner.may_write : runner.may_write;
  if (writable) {
    v.Add(CheckStatus::kFail,
          fmt::format("{} is writable by the user running renew (mode {}, owner uid {})", path,
                      Mode(facts), facts.uid),
          chmod);
  }
  if (!runner.is_root && !runner.may_read) {
    v.Add(CheckStatus::kFail,
          fmt::format("{} is not readable by the user running renew: the signer cannot load it",
                      path),
          fmt::format("chown the key to the user that runs renew, then {}", chmod));
  }
  return std::move(v).Finish(
      check, fmt::format("{}: mode {}, owner uid {}, read-only for the user running renew", path,
                         Mode(facts), facts.uid));
}

bool RenewerMayWrite(const FileFacts& facts, const UserIdentity* other, bool doctor_is_root,
                     bool doctor_may_write, bool read_only_fs) {
  if (read_only_fs) {
    return false;
  }
  if (other != nullptr) {
    return ModeAllows(facts, *other, S_ISDIR(facts.mode) ? W_OK | X_OK : W_OK);
  }
  if (doctor_is_root) {
    // As for the account key: root passes every permission check, so the
    // write bits say whether the directory is meant to be written.
    return (facts.mode & 0222) != 0 && doctor_may_write;
  }
  return doctor_may_write;
}

CheckResult EvaluateAccountDirs(std::string_view label, const UserIdentity& renewer,
                                const std::vector<WritablePath>& dirs) {
  Verdict v;
  std::string accounts;
  // The owner (and root) loses its write bit; anyone else's comes from the
  // group or other bits.
  std::vector<std::string> own, others;
  for (const WritablePath& d : dirs) {
    if (accounts.empty()) {
      accounts = d.path;  // The first is <state>/accounts.
    }
    if (!d.renewer_may_write) {
      continue;
    }
    v.Add(CheckStatus::kFail,
          fmt::format("{} is writable by {} (mode {}, owner uid {}, group gid {})", d.path,
                      renewer.name, Mode(d.facts), d.facts.uid, d.facts.gid),
          "");
    (renewer.uid == 0 || renewer.uid == d.facts.uid ? own : others).push_back(d.path);
  }
  if (v.status != CheckStatus::kPass) {
    v.problems.push_back(fmt::format(
        "{} runs renew's roles: it could put another account.key (and account.json) there, and "
        "renew would sign with that key unnoticed",
        renewer.name));
    if (!own.empty()) {
      v.fixes.push_back("chmod a-w " + Join(own, " "));
    }
    if (!others.empty()) {
      v.fixes.push_back("chmod go-w " + Join(others, " "));
    }
    v.fixes.push_back(fmt::format(
        "or make {} read-only for renew (systemd: ReadOnlyPaths={}, as in "
        "bulkhead-renew.service), or start renew as root with --user USER so that the account "
        "directories stay root's",
        accounts, accounts));
  }
  return std::move(v).Finish(
      fmt::format("account dir {}", label),
      fmt::format("{} may not write {} or the directories below it down to the key ({} checked)",
                  renewer.name, accounts.empty() ? std::string("accounts/") : accounts,
                  dirs.size()));
}

CheckResult EvaluateAccountThumbprint(std::string_view label, std::string_view key_path,
                                      const KeyThumbprint& t) {
  std::string check = fmt::format("account thumbprint {}", label);
  std::string dir = fs::path(key_path).parent_path().string();
  std::string restore = fmt::format(
      "restore it from account.key backups (account.key.old-* in {}) or run `bulkhead account "
      "register`",
      dir);
  if (!t.read_error.empty()) {
    return CheckResult{check, CheckStatus::kWarn,
                       fmt::format("cannot read {} to compare it with account.json: {}", key_path,
                                   t.read_error),
                       "run doctor as the user that owns the account key (root with --user)"};
  }
  if (!t.parse_error.empty()) {
    return CheckResult{check, CheckStatus::kFail,
                       fmt::format("{} holds no usable account key ({}): someone replaced or "
                                   "damaged account.key",
                                   key_path, t.parse_error),
                       restore};
  }
  if (t.recorded.empty()) {
    return CheckResult{
        check, CheckStatus::kWarn,
        fmt::format("account.json in {} records no thumbprint to compare account.key with", dir),
        "run `bulkhead account show`, which records the thumbprint of the key it finds"};
  }
  if (t.recorded != t.found) {
    // account.json is not trusted input: print it harmlessly.
    return CheckResult{check, CheckStatus::kFail,
                       fmt::format("the account key does not match the one registered "
                                   "(thumbprint {} recorded, {} found): someone replaced "
                                   "account.key",
                                   PrintableExcerpt(t.recorded, 64), t.found),
                       restore};
  }
  return CheckResult{check, CheckStatus::kPass,
                     fmt::format("{} is the key account.json records (thumbprint {})", key_path,
                                 t.found),
                     ""};
}

CheckResult EvaluateStateDirs(const std::vector<std::pair<std::string, FileFacts>>& ancestors,
                              const std::vector<std::pair<std::string, FileFacts>>& dirs) {
  Verdict v;
  for (const auto& [path, facts] : ancestors) {
    // A sticky directory (like /tmp) lets no one rename another's entry.
    if ((facts.mode & S_IWOTH) != 0 && (facts.mode & S_ISVTX) == 0) {
      v.Add(CheckStatus::kFail,
            fmt::format("{} is mode {}: every user may write it, and so replace the state "
                        "directory inside it",
                        path, Mode(facts)),
            fmt::format("chmod o-w {}", path));
    }
  }
  for (const auto& [path, facts] : dirs) {
    if ((facts.mode & S_IWOTH) != 0) {
      v.Add(CheckStatus::kFail,
            fmt::format("{} is mode {}: every user may write it, and so swap keys, "
                        "certificates or settings in it",
                        path, Mode(facts)),
            fmt::format("chmod o-w {}", path));
    }
  }
  std::string root = dirs.empty() ? std::string("the state directory") : dirs.front().first;
  return std::move(v).Finish(
      "state dir", fmt::format("no other user may write {} or a directory below it ({} checked), "
                               "or replace it",
                               root, dirs.size()));
}

CheckResult ChallengeRoleLine(const CertSettings& s) {
  std::vector<uint16_t> ports = ChallengeConnectPorts(s);
  std::vector<std::string> port_names;
  for (uint16_t p : ports) {
    port_names.push_back(std::to_string(p));
  }
  std::string tcp = Join(port_names, ", ");
  std::string detail;
  switch (s.method) {
    case ChallengeMethod::kWebroot:
    case ChallengeMethod::kChallengeDir:
    case ChallengeMethod::kStandalone:
      detail = s.method == ChallengeMethod::kStandalone
                   ? fmt::format("http-01, listens on {}", s.challenge_target)
                   : "http-01, writes token files";
      if (!s.preflight.enabled) {
        detail += "; no pre-flight check, so it opens no connection";
      } else {
        detail += fmt::format(
            "; its pre-flight check fetches each token the way the CA will: it resolves the "
            "names itself ({}) and may open TCP connections to ports {} on any address (the "
            "pre-flight port {}, redirects to 80 and 443, DNS over TCP)",
            s.preflight.resolver.empty() ? std::string("system resolver")
                                         : "resolver " + s.preflight.resolver,
            tcp, s.preflight.port);
      }
      break;
    case ChallengeMethod::kDnsDrop:
    case ChallengeMethod::kDnsRfc2136:
    case ChallengeMethod::kDnsHook:
      detail = fmt::format(
          "dns-01 ({}); it resolves names and checks propagation itself ({}): UDP to any "
          "address, TCP to ports {}",
          ChallengeMethodName(s.method),
          s.dns.resolver.empty() ? std::string("system resolver, then the zone's servers")
                                 : "resolver " + s.dns.resolver,
          tcp);
      if (s.method == ChallengeMethod::kDnsRfc2136) {
        detail += fmt::format("; sends the RFC 2136 update to {}", s.challenge_target);
      }
      break;
  }
  return CheckResult{"challenge role " + s.name, CheckStatus::kInfo, detail, ""};
}

CheckResult EvaluateChallengeDir(std::string_view label, std::string_view dir,
                                 bool runner_may_write, const UserIdentity* web,
                                 const std::vector<std::pair<std::string, FileFacts>>& chain) {
  std::string check = fmt::format("challenge dir {}", label);
  Verdict v;
  if (!runner_may_write) {
    v.Add(CheckStatus::kFail,
          fmt::format("{} is not writable by the user running renew: tokens cannot be published",
                      dir),
          fmt::format("chown {} to the user that runs renew (mode 0755)", dir));
  }
  std::string ok = fmt::format("{} is writable by the user running renew", dir);
  if (web != nullptr) {
    ok += fmt::format("; {} can reach it but not write it", web->name);
    if (web->uid == 0) {
      v.Add(CheckStatus::kWarn,
            "the web user is root: no permission bit keeps it out of the challenge directory",
            "run the web server's workers as an unprivileged user");
    }
    for (size_t i = 0; i < chain.size(); ++i) {
      const auto& [path, facts] = chain[i];
      if (!ModeAllows(facts, *web, X_OK)) {
        v.Add(CheckStatus::kFail,
              fmt::format("{} cannot search {} (mode {}): it cannot serve the tokens", web->name,
                          path, Mode(facts)),
              fmt::format("chmod o+x {} (or give {} its group)", path, web->name));
      }
      bool is_dir = i + 1 == chain.size() && path == fs::path(dir).lexically_normal().string();
      if (ModeAllows(facts, *web, W_OK | X_OK) && web->uid != 0) {
        if (is_dir) {
          v.Add(CheckStatus::kFail,
                fmt::format("{} is writable by {} (mode {}, owner uid {}, group gid {})", path,
                            web->name, Mode(facts), facts.uid, facts.gid),
                fmt::format("chown {} to the user that runs renew and chmod 0755 it", path));
        } else if ((facts.mode & S_ISVTX) == 0) {
          // A writable ancestor lets the web user swap the directory itself.
          v.Add(CheckStatus::kWarn,
                fmt::format("{} is writable by {} (mode {}), which could replace the challenge "
                            "directory inside it",
                            path, web->name, Mode(facts)),
                fmt::format("chmod go-w {}", path));
        }
      }
    }
  }
  return std::move(v).Finish(check, ok);
}

CheckResult EvaluateCertDirs(const UserIdentity& web,
                             const std::vector<std::pair<std::string, FileFacts>>& dirs) {
  Verdict v;
  if (web.uid == 0) {
    v.Add(CheckStatus::kWarn,
          "the web user is root: no permission bit keeps it out of the certificate directory",
          "run the web server's workers as an unprivileged user");
  } else {
    for (const auto& [path, facts] : dirs) {
      if (ModeAllows(facts, web, W_OK | X_OK)) {
        v.Add(CheckStatus::kFail,
              fmt::format("{} is writable by {} (mode {}, owner uid {}, group gid {})", path,
                          web.name, Mode(facts), facts.uid, facts.gid),
              fmt::format("chmod go-w {} (owner: the user that runs renew)", path));
      }
    }
  }
  std::string root = dirs.empty() ? std::string("the state directory") : dirs.front().first;
  return std::move(v).Finish(
      "certificate dir", fmt::format("{} cannot write {} or any directory below it ({} checked)",
                                     web.name, root, dirs.size()));
}

CheckResult EvaluatePrivateKeys(std::string_view label,
                                const std::vector<std::pair<std::string, FileFacts>>& keys) {
  Verdict v;
  for (const auto& [path, facts] : keys) {
    const mode_t perm = facts.mode & 07777;
    if ((perm & 0007) != 0) {
      v.Add(CheckStatus::kFail,
            fmt::format("{} is mode {}: others may {}", path, Mode(facts),
                        (perm & 0002) != 0 ? "write it" : "read it"),
            fmt::format("chmod 0600 {}", path));
    } else if ((perm & ~mode_t{0640}) != 0) {
      v.Add(CheckStatus::kWarn,
            fmt::format("{} is mode {} (expected 0600 or 0640)", path, Mode(facts)),
            fmt::format("chmod 0600 {}", path));
    }
  }
  return std::move(v).Finish(
      fmt::format("private keys {}", label),
      keys.empty() ? std::string("no privkey.pem (issued from a CSR, or not issued yet)")
                   : fmt::format("{} privkey.pem file(s), none readable by others", keys.size()));
}

std::vector<CheckResult> KernelChecks(const sandbox::Report& report) {
  std::vector<CheckResult> out;
  const int abi = report.landlock_abi;
  if (abi <= 0) {
    out.push_back(CheckResult{"landlock", CheckStatus::kWarn,
                              "unavailable: file and port rules are not enforced",
                              "use Linux >= 5.13 with landlock in the kernel's lsm= list"});
  } else {
    std::vector<std::string> features = {"paths"};
    if (abi >= 2) {
      features.push_back("cross-directory renames");
    }
    if (abi >= 3) {
      features.push_back("truncate");
    }
    if (abi >= 4) {
      features.push_back("TCP connect/bind ports");
    }
    if (abi >= 5) {
      features.push_back("device ioctls");
    }
    if (abi >= 6) {
      features.push_back("signal and abstract-socket scopes");
    }
    std::string detail = fmt::format("ABI {}: {}", abi, Join(features, ", "));
    if (report.landlock_net) {
      out.push_back(CheckResult{"landlock", CheckStatus::kPass, detail, ""});
    } else {
      out.push_back(CheckResult{"landlock", CheckStatus::kWarn,
                                detail + "; TCP ports are not restricted (needs ABI 4)",
                                "use Linux >= 6.7 so the net role can reach only the CA's port"});
    }
  }
  out.push_back(report.seccomp
                    ? CheckResult{"seccomp", CheckStatus::kPass,
                                  "available: one system-call allowlist per role, SIGSYS reports",
                                  ""}
                    : CheckResult{"seccomp", CheckStatus::kWarn,
                                  "unavailable: system calls are not restricted",
                                  "use a kernel built with CONFIG_SECCOMP_FILTER"});
  for (const std::string& gap : report.gaps) {
    out.push_back(CheckResult{"sandbox gap", CheckStatus::kWarn, gap,
                              "a newer kernel closes it; --require-sandbox refuses to run "
                              "with a gap"});
  }
  const bool fs_rules = report.landlock_fs;
  const bool sc = report.seccomp;
  out.push_back(RoleLine(
      "signer",
      "reads the account key once before its sandbox, then may open no file, create no socket "
      "and exec nothing; it only signs what net asks",
      {{sc, "seccomp (no open, no socket)"}}));
  out.push_back(RoleLine("keys",
                         "may read only its certificate's directory and write only pending/; no "
                         "network; the domain key never leaves it",
                         {{fs_rules, "Landlock paths"}, {sc, "seccomp (no socket)"}}));
  out.push_back(RoleLine("net",
                         "may connect only to the CA's port; reads only resolver and TLS-trust "
                         "files, libraries and the CA bundle; no writes; no private keys",
                         {{fs_rules, "Landlock paths"},
                          {report.landlock_net, "Landlock TCP ports"},
                          {sc, "seccomp (no writing opens, no exec)"}}));
  out.push_back(RoleLine("challenge",
                         "may write only the challenge directory (standalone: bind only its "
                         "port; dns-01 drop: only its directory); no keys; connects only for "
                         "the http-01 pre-flight check (TCP to the pre-flight port, 80, 443 and "
                         "the resolver's port, resolving names itself) or for dns-01 (TCP to "
                         "port 53, the resolver's and the RFC 2136 server's port; UDP to any "
                         "address); see the \"challenge role <cert>\" lines",
                         {{fs_rules, "Landlock paths"},
                          {report.landlock_net, "Landlock TCP ports"},
                          {sc, "seccomp (no connect without pre-flight or dns-01)"}}));
  out.push_back(RoleLine("store",
                         "may write only its certificate's directory; links the new key from "
                         "pending/ without reading it; no network",
                         {{fs_rules, "Landlock paths"}, {sc, "seccomp (no socket)"}}));
  out.push_back(CheckResult{"role parent", CheckStatus::kInfo,
                            "not sandboxed: starts the roles, hands the CSR to net and reports "
                            "the result; holds no key and parses nothing the CA sends",
                            ""});
  return out;
}

namespace {

// LiveFilesCheck judges the files a server loads for `name`: cert.pem,
// fullchain.pem and privkey.pem of the live version parse and belong
// together (manager/versions.h).
CheckResult LiveFilesCheck(const store::CertStore& certs, const std::string& name) {
  std::string check = "live files " + name;
  Result<store::VersionList> versions = certs.Versions(name);
  if (!versions.ok() || versions->live == 0) {
    return CheckResult{check, CheckStatus::kInfo, "no live version yet", ""};
  }
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::vector<std::string> damage = LiveDamage(certs, name, versions->live, now);
  if (damage.empty()) {
    return CheckResult{check, CheckStatus::kPass,
                       fmt::format("version {}: cert.pem, fullchain.pem and privkey.pem parse and "
                                   "match",
                                   versions->live),
                       ""};
  }
  return CheckResult{check, CheckStatus::kFail,
                     fmt::format("version {}: {}", versions->live, fmt::join(damage, "; ")),
                     fmt::format("bulkhead renew --name {} (switches to the newest good version, "
                                 "or re-issues)",
                                 name)};
}

}  // namespace

Result<std::vector<CheckResult>> RunDoctor(const DoctorOptions& options) {
  std::unique_ptr<UserIdentity> web;
  if (!options.web_user.empty()) {
    BH_ASSIGN(UserIdentity id, LookupUser(options.web_user));
    web = std::make_unique<UserIdentity>(std::move(id));
  }
  store::CertStore certs(options.state_dir + "/certs");
  std::vector<std::string> names;
  if (IsDirectory(certs.root())) {
    BH_ASSIGN(names, certs.List());
  }
  if (!options.cert_name.empty()) {
    if (std::find(names.begin(), names.end(), options.cert_name) == names.end()) {
      return ErrCode(ErrorCode::kUsage, "--cert-name {}: no such managed certificate in {}",
                     options.cert_name, certs.root());
    }
    names = {options.cert_name};
  }

  std::vector<CheckResult> out;
  const Renewer renewer = RenewerFor(options.run_as);
  CheckAccounts(options.state_dir, renewer, &out);
  for (const std::string& name : names) {
    auto json = certs.LoadSettings(name);
    Result<CertSettings> settings =
        json.ok() ? CertSettings::FromJson(*json, certs.CertDir(name) + "/settings.json")
                  : Result<CertSettings>(json.error());
    if (!settings.ok()) {
      std::string fix = fmt::format(
          "reissue with `bulkhead issue --name {} --force` and its -d names and challenge "
          "option, or stop managing it with `bulkhead delete --name {}`",
          name, name);
      out.push_back(CheckResult{"settings " + name, CheckStatus::kFail, settings.error().message,
                                std::move(fix)});
      continue;
    }
    CheckChallenge(*settings, web.get(), &out);
    out.push_back(ChallengeRoleLine(*settings));
  }
  {
    std::error_code ec;
    fs::path abs = fs::absolute(options.state_dir, ec);
    std::vector<std::pair<std::string, FileFacts>> ancestors =
        AncestorChain(ec ? options.state_dir : abs.parent_path().string());
    std::vector<std::pair<std::string, FileFacts>> dirs = CertTreeDirs(options.state_dir, names);
    std::vector<std::pair<std::string, FileFacts>> accounts = AccountTreeDirs(options.state_dir);
    dirs.insert(dirs.end(), accounts.begin(), accounts.end());
    out.push_back(EvaluateStateDirs(ancestors, dirs));
  }
  if (web != nullptr) {
    out.push_back(EvaluateCertDirs(*web, CertTreeDirs(options.state_dir, names)));
  } else {
    out.push_back(CheckResult{"certificate dir", CheckStatus::kInfo,
                              "web user not checked: pass --web-user USER to check what the web "
                              "server may read and write",
                              ""});
  }
  for (const std::string& name : names) {
    out.push_back(EvaluatePrivateKeys(name, PrivateKeys(certs.CertDir(name))));
    out.push_back(LiveFilesCheck(certs, name));
  }
  out.push_back(EvaluateRoleUser(options.is_root, options.run_as));
  std::vector<CheckResult> kernel = KernelChecks(sandbox::Probe());
  out.insert(out.end(), kernel.begin(), kernel.end());
  return out;
}

CheckResult EvaluateRoleUser(bool is_root, const std::optional<sandbox::RunAs>& run_as) {
  if (run_as) {
    return CheckResult{"role user", CheckStatus::kPass,
                       fmt::format("roles of issue/renew switch to {}:{} (uid {})", run_as->user,
                                   run_as->group, run_as->uid),
                       ""};
  }
  if (is_root) {
    return CheckResult{"role user", CheckStatus::kWarn,
                       "run as root, the roles of issue/renew stay root",
                       fmt::format("create a system user `{}` or pass --user USER",
                                   sandbox::kDefaultUser)};
  }
  return CheckResult{"role user", CheckStatus::kPass,
                     fmt::format("roles run as the invoking user (uid {})", ::geteuid()), ""};
}

std::string FormatCheck(const CheckResult& r) {
  std::string line = fmt::format("{}  {}: {}", CheckStatusName(r.status), r.check, r.detail);
  if (!r.fix.empty()) {
    line += "; fix: " + r.fix;
  }
  return line;
}

nlohmann::json ChecksToJson(const std::vector<CheckResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const CheckResult& r : results) {
    out.push_back({{"check", r.check},
                   {"status", std::string(CheckStatusName(r.status))},
                   {"detail", r.detail},
                   {"fix", r.fix}});
  }
  return out;
}

bool AnyFailed(const std::vector<CheckResult>& results) {
  return std::any_of(results.begin(), results.end(),
                     [](const CheckResult& r) { return r.status == CheckStatus::kFail; });
}

}  // namespace bulkhead::manager
