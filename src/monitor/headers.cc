#include "monitor/headers.h"

#include <fmt/format.h>

#include <array>
#include <limits>

#include "util/text.h"

namespace bulkhead::monitor {
namespace {

bool IsLws(char c) { return c == ' ' || c == '\t'; }

// IsTokenChar: RFC 2616 token characters (no CTLs, no separators).
bool IsTokenChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 32 || u >= 127) {
    return false;
  }
  return std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

std::optional<std::string> Header(const std::map<std::string, std::string>& headers,
                                  const char* name) {
  auto it = headers.find(name);
  if (it == headers.end()) {
    return std::nullopt;
  }
  return it->second;
}

// ParseDirectiveValue reads a token or a quoted-string at value[*pos] into
// *out; false if there is neither (or the quote is not closed).
bool ParseDirectiveValue(std::string_view value, size_t* pos, std::string* out) {
  size_t i = *pos;
  if (i < value.size() && value[i] == '"') {
    for (++i; i < value.size(); ++i) {
      if (value[i] == '\\' && i + 1 < value.size()) {
        out->push_back(value[++i]);
      } else if (value[i] == '"') {
        *pos = i + 1;
        return true;
      } else {
        out->push_back(value[i]);
      }
    }
    return false;
  }
  while (i < value.size() && IsTokenChar(value[i])) {
    out->push_back(value[i++]);
  }
  *pos = i;
  return !out->empty();
}

// ParseDeltaSeconds reads 1*DIGIT, saturating instead of overflowing.
std::optional<int64_t> ParseDeltaSeconds(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    int digit = c - '0';
    n = n > (kMax - digit) / 10 ? kMax : n * 10 + digit;
  }
  return n;
}

// The weaknesses JudgeCsp looks for in one policy, as bits.
enum CspWeakness : unsigned {
  kCspUnrestricted = 1,
  kCspWildcard = 2,
  kCspUnsafeInline = 4,
  kCspUnsafeEval = 8,
};

struct CspPolicyWeakness {
  unsigned bits = 0;
  std::string directive;  // The directive governing scripts ("" if none).
};

bool IsAsciiWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

std::vector<std::string_view> SplitWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsAsciiWhitespace(s[i])) {
      ++i;
    }
    size_t start = i;
    while (i < s.size() && !IsAsciiWhitespace(s[i])) {
      ++i;
    }
    if (i > start) {
      out.push_back(s.substr(start, i - start));
    }
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos
                                                                  : end - start));
    if (end == std::string_view::npos) {
      return out;
    }
    start = end + 1;
  }
}

// JudgeCspPolicy finds the weaknesses of one serialized policy (CSP3
// "parse a serialized CSP": the first occurrence of a directive counts).
CspPolicyWeakness JudgeCspPolicy(std::string_view policy) {
  std::map<std::string, std::vector<std::string>> directives;
  for (std::string_view token : Split(policy, ';')) {
    std::vector<std::string_view> words = SplitWhitespace(token);
    if (words.empty()) {
      continue;
    }
    std::string name = AsciiLower(words[0]);
    if (directives.contains(name)) {
      continue;
    }
    std::vector<std::string>& sources = directives[name];
    for (size_t i = 1; i < words.size(); ++i) {
      sources.push_back(AsciiLower(words[i]));
    }
  }
  CspPolicyWeakness w;
  auto it = directives.find("script-src");
  if (it == directives.end()) {
    it = directives.find("default-src");
  }
  if (it == directives.end()) {
    w.bits = kCspUnrestricted;
    return w;
  }
  w.directive = it->first;
  bool wildcard = false, strict_dynamic = false, nonce_or_hash = false;
  for (const std::string& s : it->second) {
    wildcard = wildcard || s == "*";
    strict_dynamic = strict_dynamic || s == "'strict-dynamic'";
    nonce_or_hash = nonce_or_hash || s.starts_with("'nonce-") || s.starts_with("'sha256-") ||
                    s.starts_with("'sha384-") || s.starts_with("'sha512-");
    if (s == "'unsafe-inline'") {
      w.bits |= kCspUnsafeInline;
    }
    if (s == "'unsafe-eval'") {
      w.bits |= kCspUnsafeEval;
    }
  }
  if (wildcard && !strict_dynamic) {
    w.bits |= kCspWildcard;
  }
  if (nonce_or_hash) {
    w.bits &= ~static_cast<unsigned>(kCspUnsafeInline);
  }
  return w;
}

constexpr std::array<std::string_view, 4> kStrictReferrerPolicies = {
    "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"};
constexpr std::array<std::string_view, 4> kLaxReferrerPolicies = {
    "unsafe-url", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin"};

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& set, std::string_view s) {
  for (std::string_view v : set) {
    if (v == s) {
      return true;
    }
  }
  return false;
}

nlohmann::json VerdictJson(const HeaderVerdict& v) {
  return {{"present", v.present},
          {"value", v.present ? nlohmann::json(v.value) : nlohmann::json(nullptr)},
          {"ok", v.ok},
          {"findings", v.findings}};
}

}  // namespace

Hsts ParseHsts(std::string_view value) {
  Hsts out;
  bool seen_max_age = false;
  std::map<std::string, bool> seen;
  size_t i = 0;
  while (true) {
    while (i < value.size() && IsLws(value[i])) {
      ++i;
    }
    if (i == value.size()) {
      break;
    }
    if (value[i] == ';') {
      ++i;  // An empty directive is allowed.
      continue;
    }
    size_t start = i;
    while (i < value.size() && IsTokenChar(value[i])) {
      ++i;
    }
    if (i == start) {
      out.error = fmt::format("unexpected character '{}'", value[i]);
      return out;
    }
    std::string name = AsciiLower(value.substr(start, i - start));
    while (i < value.size() && IsLws(value[i])) {
      ++i;
    }
    bool has_value = false;
    std::string directive_value;
    if (i < value.size() && value[i] == '=') {
      ++i;
      while (i < value.size() && IsLws(value[i])) {
        ++i;
      }
      if (!ParseDirectiveValue(value, &i, &directive_value)) {
        out.error = fmt::format("directive {} has no valid value", name);
        return out;
      }
      has_value = true;
      while (i < value.size() && IsLws(value[i])) {
        ++i;
      }
    }
    if (i < value.size() && value[i] != ';') {
      out.error = fmt::format("unexpected character '{}' after directive {}", value[i], name);
      return out;
    }
    if (!seen.emplace(name, true).second) {
      // RFC 6797 6.1: every directive at most once, else the header is invalid.
      out.error = fmt::format("directive {} repeated", name);
      return out;
    }
    if (name == "max-age") {
      std::optional<int64_t> age = has_value ? ParseDeltaSeconds(directive_value) : std::nullopt;
      if (!age) {
        out.error = "max-age is not a number of seconds";
        return out;
      }
      out.max_age = *age;
      seen_max_age = true;
    } else if (name == "includesubdomains" || name == "preload") {
      if (has_value) {
        out.error = fmt::format("directive {} takes no value", name);
        return out;
      }
      (name == "preload" ? out.preload : out.include_subdomains) = true;
    }
  }
  if (!seen_max_age) {
    out.error = "max-age missing";
  }
  return out;
}

HstsVerdict JudgeHsts(const std::optional<std::string>& value) {
  HstsVerdict v;
  if (!value) {
    v.findings.push_back("HSTS missing");
    return v;
  }
  v.present = true;
  v.value = *value;
  Hsts h = ParseHsts(*value);
  if (!h.error.empty()) {
    v.findings.push_back(fmt::format("HSTS invalid, browsers ignore it: {}", h.error));
    return v;
  }
  v.max_age = h.max_age;
  v.include_subdomains = h.include_subdomains;
  v.preload = h.preload;
  v.preload_eligible = h.preload && h.include_subdomains && h.max_age >= kHstsMinMaxAge;
  if (h.max_age == 0) {
    v.findings.push_back("HSTS disabled (max-age=0)");
  } else if (h.max_age < kHstsMinMaxAge) {
    v.findings.push_back(fmt::format("HSTS max-age={} is below one year ({})", h.max_age,
                                     kHstsMinMaxAge));
  }
  v.ok = v.findings.empty();
  return v;
}

HeaderVerdict JudgeCsp(const std::optional<std::string>& value) {
  HeaderVerdict v;
  if (!value) {
    v.findings.push_back("CSP missing");
    return v;
  }
  v.present = true;
  v.value = *value;
  std::vector<CspPolicyWeakness> policies;
  unsigned common = ~0u;
  for (std::string_view policy : Split(*value, ',')) {
    policies.push_back(JudgeCspPolicy(policy));
    common &= policies.back().bits;
  }
  // Names the directive of the first policy with `bit` (all have it).
  auto directive = [&policies](unsigned bit) {
    for (const CspPolicyWeakness& p : policies) {
      if ((p.bits & bit) != 0) {
        return p.directive;
      }
    }
    return std::string();
  };
  if ((common & kCspUnrestricted) != 0) {
    v.findings.push_back(
        "CSP trivially permissive: no script-src or default-src, scripts are not restricted");
  }
  if ((common & kCspWildcard) != 0) {
    v.findings.push_back(fmt::format(
        "CSP trivially permissive: {} allows scripts from any host (*)", directive(kCspWildcard)));
  }
  if ((common & kCspUnsafeInline) != 0) {
    v.findings.push_back(fmt::format("CSP {} allows inline scripts ('unsafe-inline')",
                                     directive(kCspUnsafeInline)));
  }
  if ((common & kCspUnsafeEval) != 0) {
    v.findings.push_back(
        fmt::format("CSP {} allows eval ('unsafe-eval')", directive(kCspUnsafeEval)));
  }
  v.ok = v.findings.empty();
  return v;
}

HeaderVerdict JudgeReferrerPolicy(const std::optional<std::string>& value) {
  HeaderVerdict v;
  if (!value) {
    v.findings.push_back("Referrer-Policy missing");
    return v;
  }
  v.present = true;
  v.value = *value;
  std::string policy;
  for (std::string_view token : Split(*value, ',')) {
    std::string t = AsciiLower(TrimBlanks(token));
    if (OneOf(kStrictReferrerPolicies, t) || OneOf(kLaxReferrerPolicies, t)) {
      policy = t;
    }
  }
  if (policy.empty()) {
    v.findings.push_back("Referrer-Policy has no recognised policy");
  } else if (!OneOf(kStrictReferrerPolicies, policy)) {
    v.findings.push_back(fmt::format(
        "Referrer-Policy {} is not strict (want no-referrer, same-origin, strict-origin or "
        "strict-origin-when-cross-origin)",
        policy));
  }
  v.ok = v.findings.empty();
  return v;
}

std::vector<std::string> HeadersVerdict::Findings() const {
  std::vector<std::string> out = hsts.findings;
  out.insert(out.end(), csp.findings.begin(), csp.findings.end());
  out.insert(out.end(), referrer_policy.findings.begin(), referrer_policy.findings.end());
  return out;
}

HeadersVerdict JudgeHeaders(const std::map<std::string, std::string>& headers) {
  HeadersVerdict v;
  v.hsts = JudgeHsts(Header(headers, "strict-transport-security"));
  v.csp = JudgeCsp(Header(headers, "content-security-policy"));
  v.referrer_policy = JudgeReferrerPolicy(Header(headers, "referrer-policy"));
  v.ok = v.hsts.ok && v.csp.ok && v.referrer_policy.ok;
  return v;
}

nlohmann::json HeadersToJson(const HeadersVerdict& v) {
  nlohmann::json hsts = VerdictJson(v.hsts);
  hsts["max_age"] = v.hsts.max_age ? nlohmann::json(*v.hsts.max_age) : nlohmann::json(nullptr);
  hsts["include_subdomains"] = v.hsts.include_subdomains;
  hsts["preload"] = v.hsts.preload;
  hsts["preload_eligible"] = v.hsts.preload_eligible;
  return {{"ok", v.ok},
          {"strict_transport_security", std::move(hsts)},
          {"content_security_policy", VerdictJson(v.csp)},
          {"referrer_policy", VerdictJson(v.referrer_policy)}};
}

std::string HeadersSummary(const HeadersVerdict& v) {
  std::string hsts = "HSTS ";
  if (v.hsts.max_age) {
    hsts += fmt::format("max-age={}", *v.hsts.max_age);
    if (v.hsts.include_subdomains) {
      hsts += " includeSubDomains";
    }
    if (v.hsts.preload) {
      hsts += v.hsts.preload_eligible ? " preload" : " preload (not preload-eligible)";
    }
  } else {
    hsts += v.hsts.present ? "invalid" : "missing";
  }
  auto brief = [](const HeaderVerdict& h) {
    return !h.present ? std::string("missing") : h.ok ? std::string("ok") : std::string("weak");
  };
  return fmt::format("{}, CSP {}, Referrer-Policy {}", hsts, brief(v.csp),
                     brief(v.referrer_policy));
}

}  // namespace bulkhead::monitor
