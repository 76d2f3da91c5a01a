// Judging the security headers an HTTPS server sends: Strict-Transport-
// Security (RFC 6797), Content-Security-Policy (CSP Level 3) and
// Referrer-Policy. Pure functions over header values, so that every rule
// is unit-tested without a server; the probe role only carries the values.
#ifndef BULKHEAD_MONITOR_HEADERS_H_
#define BULKHEAD_MONITOR_HEADERS_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::monitor {

// kHstsMinMaxAge is one year in seconds: below it HSTS protects too short a
// window between visits, and browsers' preload lists refuse it.
inline constexpr int64_t kHstsMinMaxAge = 31536000;

// HeaderVerdict is what one header says: whether it was sent, its value,
// and every finding (one line each); ok means no finding.
struct HeaderVerdict {
  bool present = false;
  std::string value;
  bool ok = false;
  std::vector<std::string> findings;
};

// Hsts is a parsed Strict-Transport-Security value. `error` is non-empty
// when the value is invalid (RFC 6797 6.1: browsers then ignore the
// header), and the other fields are then meaningless.
struct Hsts {
  std::string error;
  int64_t max_age = 0;  // Saturates at INT64_MAX for absurdly long values.
  bool include_subdomains = false;
  bool preload = false;
};

// ParseHsts parses a Strict-Transport-Security value per RFC 6797 6.1:
// directives split by ';', names case-insensitive, values a token or a
// quoted-string, every directive at most once, max-age required and made of
// digits, includeSubDomains and preload without a value; unknown
// directives are ignored. Never fails: an invalid value sets `error`.
Hsts ParseHsts(std::string_view value);

// HstsVerdict is the Strict-Transport-Security judgement plus its facts.
struct HstsVerdict : HeaderVerdict {
  std::optional<int64_t> max_age;  // Absent when missing or invalid.
  bool include_subdomains = false;
  bool preload = false;
  // Could the host be on the browsers' preload list: max-age of at least
  // a year, includeSubDomains and preload. A fact, not a finding.
  bool preload_eligible = false;
};

// JudgeHsts judges Strict-Transport-Security (nullopt: not sent).
// Findings: missing, invalid, max-age=0 ("HSTS disabled"), max-age below
// kHstsMinMaxAge.
HstsVerdict JudgeHsts(const std::optional<std::string>& value);

// JudgeCsp judges Content-Security-Policy (nullopt: not sent). For each
// policy (policies are separated by ','), the directive governing scripts
// is script-src, else default-src. Findings:
//  - missing header;
//  - neither script-src nor default-src: scripts are not restricted;
//  - '*' in that directive, unless 'strict-dynamic' is there too (which
//    makes browsers ignore host sources);
//  - 'unsafe-inline' in it, unless a nonce or hash source is there too
//    (which makes browsers ignore 'unsafe-inline');
//  - 'unsafe-eval' in it.
// A browser enforces every policy, so with several policies a weakness is
// reported only when each policy has it. Directive names and keywords are
// case-insensitive; a repeated directive is ignored (the first counts).
HeaderVerdict JudgeCsp(const std::optional<std::string>& value);

// JudgeReferrerPolicy judges Referrer-Policy (nullopt: not sent). The
// value is a comma list whose last recognised token wins (tokens compared
// case-insensitively, unknown ones skipped). OK only for no-referrer,
// same-origin, strict-origin and strict-origin-when-cross-origin; a
// missing header, one without a recognised token, or any other policy
// (unsafe-url, no-referrer-when-downgrade, origin, origin-when-cross-origin)
// is a finding.
HeaderVerdict JudgeReferrerPolicy(const std::optional<std::string>& value);

// HeadersVerdict judges the three headers; ok when all three are ok.
struct HeadersVerdict {
  HstsVerdict hsts;
  HeaderVerdict csp;
  HeaderVerdict referrer_policy;
  bool ok = false;

  // Findings returns every finding of the three headers, in that order.
  std::vector<std::string> Findings() const;
};

// JudgeHeaders judges the headers in `headers` (names lower-case, as the
// probe reports them).
HeadersVerdict JudgeHeaders(const std::map<std::string, std::string>& headers);

// HeadersToJson describes the verdict: {"ok", "strict_transport_security":
// {present, value, ok, findings, max_age, include_subdomains, preload,
// preload_eligible}, "content_security_policy": {...}, "referrer_policy":
// {...}}; an absent value is null.
nlohmann::json HeadersToJson(const HeadersVerdict& verdict);

// HeadersSummary is one line for people, e.g. "HSTS max-age=63072000
// includeSubDomains preload, CSP ok, Referrer-Policy no-referrer".
std::string HeadersSummary(const HeadersVerdict& verdict);

}  // namespace bulkhead::monitor

#endif  // BULKHEAD_MONITOR_HEADERS_H_
