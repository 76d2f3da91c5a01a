// The http-01 pre-flight self-check: before the CA is told to validate, fetch
// http://NAME/.well-known/acme-challenge/TOKEN the way the CA would and
// compare the body with the key authorization. A web server that does not
// serve the token then costs nothing at the CA: no challenge is answered, so
// no authorization fails (failed authorizations count against rate limits).
//
// How the fetch mirrors the CA (RFC 8555 section 8.3, RFC 8738, and what
// Let's Encrypt documents):
//   - plain HTTP to NAME on port 80, or on `port` where the CA validates
//     elsewhere (test CAs); an IP identifier is fetched at the IP itself;
//   - NAME resolved through the system resolver (getaddrinfo, so /etc/hosts
//     counts) or through `resolver` (A and AAAA, CNAMEs followed by it);
//   - redirects followed up to kMaxRedirects, only to http: or https: URLs on
//     port 80, 443 or `port`; https is not verified (the CA does not verify
//     either: the challenge exists to bootstrap a certificate);
//   - only status 200 counts; trailing whitespace of the body is ignored.
// Every fetch is capped (kMaxBody bytes, per-hop and per-identifier time) and
// uses its own curl handle with no proxy, no cookies and no shared state.
#ifndef BULKHEAD_CHALLENGE_PREFLIGHT_H_
#define BULKHEAD_CHALLENGE_PREFLIGHT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "challenge/publisher.h"
#include "dns/query.h"
#include "util/result.h"

namespace bulkhead::challenge {

// kMaxRedirects: the CA follows a few redirects (Let's Encrypt: 10).
inline constexpr int kMaxPreflightRedirects = 10;
// kMaxPreflightBody caps what is read of one response body; a key
// authorization is under 100 bytes, anything far longer is wrong anyway.
inline constexpr size_t kMaxPreflightBody = 8 * 1024;
// kMaxShownBody is how much of a wrong body an error message shows.
inline constexpr size_t kMaxShownBody = 80;

// PreflightOptions says where the CA validates and how names resolve.
struct PreflightOptions {
  uint16_t port = 80;                 // Port of the first request.
  std::optional<dns::Server> resolver;  // Unset: the system resolver.
  std::chrono::milliseconds hop_timeout{10000};         // One request.
  std::chrono::milliseconds connect_timeout{5000};      // One connection.
  std::chrono::milliseconds identifier_timeout{20000};  // All hops of one name.
  // A check skipped for want of an answer goes to the log at info level
  // instead of as a warning (renew --cron: only failures and changes print).
  bool quiet_skips = false;
};

// Served is what one pre-flight fetch ended with.
struct Served {
  std::string url;        // The last URL fetched.
  int redirects = 0;      // How many redirects led there.
  long status = 0;        // HTTP status of the last response.
  std::string body;       // At most kMaxPreflightBody bytes of it.
  bool truncated = false;  // The body was longer than the cap.
};

// ChallengeUrl returns http://IDENTIFIER[:PORT]/.well-known/acme-challenge/
// TOKEN (the port left out when 80; an IPv6 identifier in brackets).
std::string ChallengeUrl(std::string_view identifier, std::string_view token, uint16_t port);

// EscapeForMessage returns at most `max` bytes of `body` in double quotes,
// printable ASCII kept, quotes, backslashes and everything else as \n, \r,
// \t or \xNN, with "..." when cut.
std::string EscapeForMessage(std::string_view body, size_t max = kMaxShownBody);

// CheckServed returns OK when `served` is what the CA accepts for
// `key_authorization` (status 200, the body equal to it after trailing
// whitespace is dropped), or an error naming the URL and showing what was
// served instead (status and escaped first bytes).
Status CheckServed(const Served& served, std::string_view key_authorization);

// CheckRedirect returns OK when the CA would follow a redirect to the
// absolute URL `location` (http or https, port 80, 443 or `preflight_port`),
// or an error saying why not.
Status CheckRedirect(std::string_view location, uint16_t preflight_port);

// FetchChallenge fetches the challenge URL for `identifier` (a DNS name or
// an IP literal) and `token` as described above. Returns what was served
// last, or an error naming the URL: kTransient when no answer could be had
// (name does not resolve, connection refused, timeout), kFailure for a
// redirect the CA would not follow or too many redirects.
Result<Served> FetchChallenge(std::string_view identifier, std::string_view token,
                              const PreflightOptions& options);

// Preflight fetches and checks one token: OK, or an error (from
// FetchChallenge or CheckServed) that says nothing was answered at the CA.
// When no answer can be had at all (FetchChallenge's kTransient errors: the
// name does not resolve here, connection refused or timed out) it warns and
// returns OK: this host may not see itself the way the CA does. An answer
// that is wrong (status, body, a redirect the CA would not follow) fails.
Status Preflight(std::string_view identifier, std::string_view token,
                 std::string_view key_authorization, const PreflightOptions& options);

// NewPreflightPublisher wraps an http-01 publisher: Publish and Remove go
// to `inner`, and WaitReady checks every token published with an identifier
// with Preflight, returning the first failure. Tokens published without an
// identifier are not checked.
std::unique_ptr<Publisher> NewPreflightPublisher(std::unique_ptr<Publisher> inner,
                                                 PreflightOptions options);

}  // namespace bulkhead::challenge

#endif  // BULKHEAD_CHALLENGE_PREFLIGHT_H_
