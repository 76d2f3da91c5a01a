// http-01 challenge publishers (RFC 8555 section 8.3).
#ifndef BULKHEAD_CHALLENGE_HTTP01_H_
#define BULKHEAD_CHALLENGE_HTTP01_H_

#include <memory>
#include <string>
#include <string_view>

#include "util/fs.h"
#include "util/result.h"

namespace bulkhead::challenge {

// Publisher makes a key authorization available for one token and takes it
// away again. Contract: Publish refuses a token that is not base64url (it
// becomes a file name); Remove of an unknown token is not an error; the
// destructor removes everything still published, so tokens never outlive the
// run, also on failure.
class Publisher {
 public:
  virtual ~Publisher() = default;
  // ChallengeType returns the ACME challenge type answered: "http-01" or
  // "dns-01" (see challenge/dns01.h).
  virtual std::string ChallengeType() const { return "http-01"; }
  virtual Status Publish(std::string_view token, std::string_view key_authorization) = 0;
  // PublishFor is Publish for the authorization of `identifier` (the DNS
  // name, "*." kept for a wildcard). dns-01 needs the name; http-01
  // publishers ignore it.
  virtual Status PublishFor(std::string_view identifier, std::string_view token,
                            std::string_view key_authorization) {
    (void)identifier;
    return Publish(token, key_authorization);
  }
  virtual Status Remove(std::string_view token) = 0;
  // WaitReady returns once everything published can be seen by the CA, or
  // an error naming what lags; callers answer no challenge before it
  // succeeds. Immediate for http-01.
  virtual Status WaitReady() { return OkStatus(); }
  // Describe names the mechanism for messages ("webroot /var/www").
  virtual std::string Describe() const = 0;
};

// NewDirectoryPublisher writes <dir>/<token> files (mode 0644, atomically).
// With `webroot` true, <dir> is <root>/.well-known/acme-challenge and is
// created if missing (0755); otherwise `root` itself must exist. <dir> is
// opened once, with no symlink anywhere on its path (util/nofollow.h), and
// every later write, rename and removal is relative to that descriptor, so
// a symlink planted on the path is refused (an error naming it) instead of
// sending the writes elsewhere. Callers pass a path whose symlinks they
// have resolved and checked (manager: ResolveTrustedDir).
Result<std::unique_ptr<Publisher>> NewDirectoryPublisher(const std::string& root, bool webroot);

// SweepStaleTokens removes token files that an earlier, killed run left in
// `dir`: regular files whose name is a base64url token and whose content is
// exactly "<name>.<thumbprint>", i.e. published for this account, and that
// were last modified more than `min_age_seconds` ago (so a concurrent run's
// live tokens are safe). Nothing else is touched; `dir` is opened without
// following any symlink and its files are read and removed through that
// descriptor. Returns how many were removed; a missing `dir` is 0.
Result<int> SweepStaleTokens(const std::string& dir, std::string_view thumbprint,
                             int64_t min_age_seconds);

// NewStandalonePublisher listens on `addr_port` ("0.0.0.0:80", "[::1]:8080",
// "127.0.0.1:5002") and answers GET /.well-known/acme-challenge/<token> with
// the key authorization (text/plain), 404 otherwise, until destroyed. Reads
// at most 8 KiB of request per connection with a 10 s timeout.
Result<std::unique_ptr<Publisher>> NewStandalonePublisher(const std::string& addr_port);

// ListenStandalone binds and listens on `addr_port` (as above) and returns
// the listening socket; the error names the address and the likely cause.
// The challenge role calls it before entering its sandbox ("open, then
// sandbox"), so a port below 1024 is bound while the process still may,
// and the role then runs without any capability, as the unprivileged user.
Result<ScopedFd> ListenStandalone(const std::string& addr_port);

// NewStandalonePublisher serves on `listener`, a socket from
// ListenStandalone for `addr_port` (used in messages).
Result<std::unique_ptr<Publisher>> NewStandalonePublisher(ScopedFd listener,
                                                          const std::string& addr_port);

}  // namespace bulkhead::challenge

#endif  // BULKHEAD_CHALLENGE_HTTP01_H_
