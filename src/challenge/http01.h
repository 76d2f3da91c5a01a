// http-01 challenge publishers (RFC 8555 section 8.3). They serve a token
// as soon as Publish returns, so their WaitReady returns OK at once.
#ifndef BULKHEAD_CHALLENGE_HTTP01_H_
#define BULKHEAD_CHALLENGE_HTTP01_H_

#include <memory>
#include <string>
#include <string_view>

#include "challenge/publisher.h"
#include "util/fs.h"
#include "util/result.h"

namespace bulkhead::challenge {

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
