#include "manager/challenge_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/nofollow.h"

namespace bulkhead::manager {
namespace {

std::string_view What(ChallengeMethod m) {
  switch (m) {
    case ChallengeMethod::kWebroot:
      return "webroot";
    case ChallengeMethod::kDnsDrop:
      return "dns-01 drop directory";
    default:
      return "challenge directory";
  }
}

// GiveChallengeDir hands the open acme-challenge directory to `who` if
// nobody but root and the webroot's owner can have arranged the path to it;
// otherwise it says what to do instead.
Status GiveChallengeDir(const ResolvedDir& webroot, const ResolvedDir& well_known,
                        const ResolvedDir& dir, const sandbox::RunAs& who) {
  const uid_t owner = webroot.st.st_uid;
  for (const ResolvedDir* d : {&webroot, &well_known, &dir}) {
    std::string why;
    if (d->st.st_uid != 0 && d->st.st_uid != owner) {
      why = fmt::format("{} belongs to uid {}, neither root nor the webroot's owner", d->path,
                        d->st.st_uid);
    } else if ((d->st.st_mode & 022) != 0) {
      why = fmt::format("{} is writable by group or others (mode {:o})", d->path,
                        d->st.st_mode & 07777);
    }
    if (!why.empty()) {
      return Err("not giving {} to user {}: {}; give it to the roles' user yourself (e.g. "
                 "`install -d -o {} -g {} -m 0755 {}`)",
                 dir.path, who.user, why, who.user, who.group, dir.path);
    }
  }
  if (::fchown(dir.fd.get(), who.uid, who.gid) != 0) {
    return Err("giving {} to {}: {}", dir.path, who.user, std::strerror(errno));
  }
  return OkStatus();
}

// Missing is the error for a directory method's target that does not exist.
// A mistyped webroot must not silently become a new, unserved directory.
Error Missing(const CertSettings& s) {
  if (s.method == ChallengeMethod::kWebroot) {
    return ErrCode(ErrorCode::kUsage,
                   "webroot {} does not exist; give the directory your web server serves "
                   "(bulkhead creates only .well-known/acme-challenge under it)",
                   s.challenge_target);
  }
  return ErrCode(ErrorCode::kUsage, "{} {} does not exist", What(s.method), s.challenge_target);
}

bool HasDirectory(ChallengeMethod m) {
  return m == ChallengeMethod::kWebroot || m == ChallengeMethod::kChallengeDir ||
         m == ChallengeMethod::kDnsDrop;
}

}  // namespace

Status CheckChallengeTarget(const CertSettings& s) {
  if (!HasDirectory(s.method)) {
    return OkStatus();
  }
  struct stat st;
  if (::stat(s.challenge_target.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return Missing(s);
    }
    return OkStatus();
  }
  if (!S_ISDIR(st.st_mode)) {
    return ErrCode(ErrorCode::kUsage, "{} {} is not a directory", What(s.method),
                   s.challenge_target);
  }
  return OkStatus();
}

Result<ChallengePaths> PrepareChallengeDir(const CertSettings& s,
                                           const std::optional<sandbox::RunAs>& who) {
  ChallengePaths out;
  if (!HasDirectory(s.method)) {
    return out;
  }
  const std::string_view what = What(s.method);
  auto target = ResolveTrustedDir(s.challenge_target);
  if (!target.ok()) {
    if (target.error().code == ErrorCode::kNotFound) {
      return Missing(s);
    }
    return target.error().Wrap(what);
  }
  out.target = target->path;
  if (s.method != ChallengeMethod::kWebroot) {
    out.write_dir = target->path;
    if (who) {
      BH_TRY(sandbox::CheckAccessibleBy(out.write_dir, *who, W_OK, what));
    }
    return out;
  }
  BH_ASSIGN(ResolvedDir well_known, ResolveTrustedDirAt(*target, ".well-known", 0755));
  BH_ASSIGN(ResolvedDir dir, ResolveTrustedDirAt(well_known, "acme-challenge", 0755));
  out.write_dir = dir.path;
  if (who) {
    if (!sandbox::AccessibleBy(dir.st, *who, W_OK | X_OK)) {
      BH_TRY(GiveChallengeDir(*target, well_known, dir, *who));
    }
    BH_TRY(sandbox::CheckAccessibleBy(out.write_dir, *who, W_OK, "challenge directory"));
  }
  return out;
}

}  // namespace bulkhead::manager
