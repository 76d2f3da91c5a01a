#include "monitor/headers.h"

#include <gtest/gtest.h>

namespace bulkhead::monitor {
namespace {

bool HasFinding(const HeaderVerdict& v, std::string_view part) {
  for (const std::string& f : v.findings) {
    if (f.find(part) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(HstsParseTest, PlainQuotedAndCase) {
  Hsts h = ParseHsts("max-age=31536000; includeSubDomains; preload");
  EXPECT_EQ(h.error, "");
  EXPECT_EQ(h.max_age, 31536000);
  EXPECT_TRUE(h.include_subdomains);
  EXPECT_TRUE(h.preload);

  h = ParseHsts("MAX-AGE=\"63072000\" ; INCLUDESUBDOMAINS");
  EXPECT_EQ(h.error, "");
  EXPECT_EQ(h.max_age, 63072000);
  EXPECT_TRUE(h.include_subdomains);
  EXPECT_FALSE(h.preload);

  // Empty directives, blanks around '=' and unknown directives are allowed.
  h = ParseHsts(" ;max-age = 10 ;; report-uri=\"https://r.test/a;b\"; ");
  EXPECT_EQ(h.error, "");
  EXPECT_EQ(h.max_age, 10);
}

TEST(HstsParseTest, InvalidValues) {
  EXPECT_EQ(ParseHsts("max-age=1; max-age=2").error, "directive max-age repeated");
  EXPECT_EQ(ParseHsts("max-age=1; Max-Age=\"2\"").error, "directive max-age repeated");
  EXPECT_EQ(ParseHsts("max-age=1; includeSubDomains; INCLUDESUBDOMAINS").error,
            "directive includesubdomains repeated");
  EXPECT_EQ(ParseHsts("includeSubDomains").error, "max-age missing");
  EXPECT_EQ(ParseHsts("").error, "max-age missing");
  EXPECT_EQ(ParseHsts("max-age=-1").error, "max-age is not a number of seconds");
  EXPECT_EQ(ParseHsts("max-age=1e6").error, "max-age is not a number of seconds");
  EXPECT_EQ(ParseHsts("max-age=\"\"").error, "max-age is not a number of seconds");
  EXPECT_EQ(ParseHsts("max-age").error, "max-age is not a number of seconds");
  EXPECT_NE(ParseHsts("max-age=\"100").error, "");  // Unclosed quote.
  EXPECT_NE(ParseHsts("max-age=100 300").error, "");
  EXPECT_NE(ParseHsts("max-age=100, includeSubDomains").error, "");
  EXPECT_EQ(ParseHsts("max-age=100; includeSubDomains=yes").error,
            "directive includesubdomains takes no value");
}

TEST(HstsParseTest, HugeMaxAgeSaturates) {
  Hsts h = ParseHsts("max-age=99999999999999999999999999");
  EXPECT_EQ(h.error, "");
  EXPECT_EQ(h.max_age, std::numeric_limits<int64_t>::max());
}

TEST(HstsJudgeTest, OneYearBoundary) {
  HstsVerdict below = JudgeHsts("max-age=31535999; includeSubDomains; preload");
  EXPECT_FALSE(below.ok);
  EXPECT_TRUE(HasFinding(below, "HSTS max-age=31535999 is below one year (31536000)"));
  EXPECT_FALSE(below.preload_eligible);
  EXPECT_TRUE(below.preload);

  HstsVerdict at = JudgeHsts("max-age=31536000; includeSubDomains; preload");
  EXPECT_TRUE(at.ok);
  EXPECT_TRUE(at.findings.empty());
  EXPECT_TRUE(at.preload_eligible);
  EXPECT_EQ(at.max_age, 31536000);
}

TEST(HstsJudgeTest, MissingDisabledInvalidAndPreloadFacts) {
  HstsVerdict missing = JudgeHsts(std::nullopt);
  EXPECT_FALSE(missing.present);
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.findings, std::vector<std::string>{"HSTS missing"});

  HstsVerdict off = JudgeHsts("max-age=0");
  EXPECT_EQ(off.findings, std::vector<std::string>{"HSTS disabled (max-age=0)"});

  HstsVerdict dup = JudgeHsts("max-age=63072000; max-age=63072000");
  EXPECT_FALSE(dup.ok);
  EXPECT_FALSE(dup.max_age.has_value());
  EXPECT_TRUE(HasFinding(dup, "HSTS invalid, browsers ignore it: directive max-age repeated"));

  // preload without includeSubDomains: a fact, not a finding.
  HstsVerdict no_sub = JudgeHsts("max-age=63072000; preload");
  EXPECT_TRUE(no_sub.ok);
  EXPECT_TRUE(no_sub.preload);
  EXPECT_FALSE(no_sub.preload_eligible);
  HstsVerdict no_preload = JudgeHsts("max-age=63072000; includeSubDomains");
  EXPECT_TRUE(no_preload.ok);
  EXPECT_FALSE(no_preload.preload_eligible);
}

TEST(CspJudgeTest, StrictPolicies) {
  EXPECT_TRUE(JudgeCsp("default-src 'self'").ok);
  EXPECT_TRUE(JudgeCsp("default-src 'none'; script-src 'self' https://cdn.test; object-src 'none'").ok);
  // Nonces or hashes make browsers ignore 'unsafe-inline'; 'strict-dynamic'
  // makes them ignore host sources including '*'.
  EXPECT_TRUE(JudgeCsp("script-src 'nonce-r4nd0m' 'strict-dynamic' 'unsafe-inline' * https:").ok);
  EXPECT_TRUE(JudgeCsp("script-src 'sha256-abc=' 'unsafe-inline'").ok);
  // script-src takes over from default-src for scripts.
  EXPECT_TRUE(JudgeCsp("default-src *; script-src 'self'").ok);
}

TEST(CspJudgeTest, WeakPolicies) {
  HeaderVerdict missing = JudgeCsp(std::nullopt);
  EXPECT_EQ(missing.findings, std::vector<std::string>{"CSP missing"});

  HeaderVerdict weak = JudgeCsp("default-src *; script-src 'self' 'unsafe-inline'");
  EXPECT_FALSE(weak.ok);
  EXPECT_EQ(weak.findings,
            std::vector<std::string>{"CSP script-src allows inline scripts ('unsafe-inline')"});

  HeaderVerdict star = JudgeCsp("DEFAULT-SRC * 'UNSAFE-EVAL'");
  EXPECT_EQ(star.findings,
            (std::vector<std::string>{"CSP trivially permissive: default-src allows scripts from "
                                      "any host (*)",
                                      "CSP default-src allows eval ('unsafe-eval')"}));

  HeaderVerdict unrestricted = JudgeCsp("img-src 'self'; frame-ancestors 'none'");
  EXPECT_TRUE(HasFinding(unrestricted, "no script-src or default-src"));
  EXPECT_TRUE(HasFinding(JudgeCsp(""), "no script-src or default-src"));

  // The first occurrence of a directive counts.
  HeaderVerdict repeated = JudgeCsp("script-src 'self' 'unsafe-inline'; script-src 'self'");
  EXPECT_TRUE(HasFinding(repeated, "'unsafe-inline'"));
  EXPECT_TRUE(JudgeCsp("Script-Src 'self'; script-src *").ok);
}

TEST(CspJudgeTest, SeveralPoliciesAllEnforced) {
  // A weakness counts only if every policy has it: the second policy
  // forbids what the first allows.
  EXPECT_TRUE(JudgeCsp("default-src *, script-src 'self'").ok);
  HeaderVerdict both = JudgeCsp("script-src 'unsafe-eval' 'self', default-src 'self' 'unsafe-eval'");
  EXPECT_EQ(both.findings, std::vector<std::string>{"CSP script-src allows eval ('unsafe-eval')"});
}

TEST(ReferrerPolicyJudgeTest, StrictLaxAndLists) {
  for (const char* ok : {"no-referrer", "same-origin", "strict-origin",
                         "strict-origin-when-cross-origin", "Strict-Origin-When-Cross-Origin"}) {
    EXPECT_TRUE(JudgeReferrerPolicy(std::string(ok)).ok) << ok;
  }
  for (const char* lax :
       {"unsafe-url", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin"}) {
    HeaderVerdict v = JudgeReferrerPolicy(std::string(lax));
    EXPECT_FALSE(v.ok) << lax;
    EXPECT_TRUE(HasFinding(v, std::string("Referrer-Policy ") + lax + " is not strict")) << lax;
  }
  // The last recognised token wins; unknown tokens are skipped.
  EXPECT_TRUE(JudgeReferrerPolicy("unsafe-url, strict-origin-when-cross-origin").ok);
  EXPECT_FALSE(JudgeReferrerPolicy("no-referrer,unsafe-url").ok);
  EXPECT_TRUE(JudgeReferrerPolicy("no-referrer, future-policy").ok);
  EXPECT_TRUE(HasFinding(JudgeReferrerPolicy("future-policy"), "no recognised policy"));
  EXPECT_TRUE(HasFinding(JudgeReferrerPolicy(""), "no recognised policy"));
  EXPECT_EQ(JudgeReferrerPolicy(std::nullopt).findings,
            std::vector<std::string>{"Referrer-Policy missing"});
}

TEST(HeadersJudgeTest, AllThreeAndJson) {
  std::map<std::string, std::string> good = {
      {"strict-transport-security", "max-age=63072000; includeSubDomains; preload"},
      {"content-security-policy", "default-src 'self'"},
      {"referrer-policy", "strict-origin-when-cross-origin"}};
  HeadersVerdict v = JudgeHeaders(good);
  EXPECT_TRUE(v.ok);
  EXPECT_TRUE(v.Findings().empty());
  EXPECT_EQ(HeadersSummary(v),
            "HSTS max-age=63072000 includeSubDomains preload, CSP ok, Referrer-Policy ok");
  nlohmann::json j = HeadersToJson(v);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["strict_transport_security"]["max_age"], 63072000);
  EXPECT_EQ(j["strict_transport_security"]["preload_eligible"], true);
  EXPECT_EQ(j["content_security_policy"]["value"], "default-src 'self'");
  EXPECT_EQ(j["referrer_policy"]["findings"], nlohmann::json::array());

  HeadersVerdict none = JudgeHeaders({});
  EXPECT_FALSE(none.ok);
  EXPECT_EQ(none.Findings(),
            (std::vector<std::string>{"HSTS missing", "CSP missing", "Referrer-Policy missing"}));
  EXPECT_EQ(HeadersSummary(none), "HSTS missing, CSP missing, Referrer-Policy missing");
  nlohmann::json n = HeadersToJson(none);
  EXPECT_EQ(n["strict_transport_security"]["value"], nullptr);
  EXPECT_EQ(n["strict_transport_security"]["max_age"], nullptr);
  EXPECT_EQ(n["strict_transport_security"]["present"], false);
}

}  // namespace
}  // namespace bulkhead::monitor
