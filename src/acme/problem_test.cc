#include "acme/problem.h"

#include <gtest/gtest.h>

#include <string>

namespace bulkhead::acme {
namespace {

TEST(ProblemTest, ParsesAllMembers) {
  Problem p = ParseProblem(R"({
    "type": "urn:ietf:params:acme:error:malformed",
    "detail": "Some of the identifiers requested were rejected",
    "status": 400,
    "subproblems": [
      {"type": "urn:ietf:params:acme:error:malformed",
       "detail": "Invalid underscore in DNS name \"_example.org\"",
       "identifier": {"type": "dns", "value": "_example.org"}},
      {"type": "urn:ietf:params:acme:error:rejectedIdentifier",
       "detail": "This CA will not issue for \"example.net\"",
       "identifier": {"type": "dns", "value": "example.net"}}
    ]
  })",
                           400);
  EXPECT_EQ(p.type, "urn:ietf:params:acme:error:malformed");
  EXPECT_EQ(p.ShortType(), "malformed");
  EXPECT_TRUE(p.Is("malformed"));
  EXPECT_FALSE(p.Is("badNonce"));
  EXPECT_EQ(p.detail, "Some of the identifiers requested were rejected");
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.identifier, "");
  ASSERT_EQ(p.subproblems.size(), 2u);
  EXPECT_EQ(p.subproblems[0].identifier, "dns:_example.org");
  EXPECT_EQ(p.subproblems[1].identifier, "dns:example.net");
  EXPECT_EQ(p.subproblems[1].ShortType(), "rejectedIdentifier");
  EXPECT_EQ(p.subproblems[1].status, 0);
}

TEST(ProblemTest, MessageNamesEverySubproblem) {
  Problem p = ParseProblem(R"({
    "type": "urn:ietf:params:acme:error:rejectedIdentifier",
    "detail": "Error creating new order",
    "identifier": {"type": "dns", "value": "top.example"},
    "subproblems": [
      {"type": "urn:ietf:params:acme:error:caa", "detail": "CAA forbids issuance",
       "identifier": {"type": "dns", "value": "a.example"}},
      {"type": "urn:ietf:params:acme:error:dns", "detail": "NXDOMAIN",
       "identifier": {"type": "dns", "value": "b.example"}}
    ]
  })",
                           403);
  std::string m = p.Message();
  EXPECT_EQ(m,
            "dns:top.example: rejectedIdentifier: Error creating new order\n"
            "  dns:a.example: caa: CAA forbids issuance\n"
            "  dns:b.example: dns: NXDOMAIN");
}

TEST(ProblemTest, NonAcmeTypeKeptWhole) {
  Problem p = ParseProblem(R"({"type":"about:blank","detail":"nope"})", 404);
  EXPECT_EQ(p.ShortType(), "about:blank");
  EXPECT_EQ(p.status, 404);  // Taken from the response when the document has none.
  EXPECT_EQ(p.Message(), "about:blank: nope");
}

TEST(ProblemTest, HtmlBodyGivesClearProblem) {
  std::string html = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\x1b[31m" +
                     std::string(500, 'x') + "</body></html>";
  Problem p = ParseProblem(html, 502);
  EXPECT_EQ(p.status, 502);
  EXPECT_EQ(p.type, "");
  EXPECT_NE(p.detail.find("not a problem document"), std::string::npos) << p.detail;
  EXPECT_NE(p.detail.find("502 Bad Gateway"), std::string::npos) << p.detail;
  // No control characters survive, and the excerpt is bounded.
  for (char c : p.detail) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << p.detail;
  }
  EXPECT_LT(p.detail.size(), 400u);
  EXPECT_NE(p.Message().find("HTTP 502"), std::string::npos) << p.Message();
}

TEST(ProblemTest, EmptyBody) {
  Problem p = ParseProblem("", 500);
  EXPECT_EQ(p.status, 500);
  EXPECT_NE(p.detail.find("HTTP 500"), std::string::npos);
}

TEST(ProblemTest, JsonThatIsNotAnObject) {
  Problem p = ParseProblem(R"(["urn:ietf:params:acme:error:badNonce"])", 400);
  EXPECT_EQ(p.type, "");
  EXPECT_NE(p.detail.find("not a problem document"), std::string::npos);
}

TEST(ProblemTest, MissingMembers) {
  Problem p = ParseProblem("{}", 400);
  EXPECT_EQ(p.type, "");
  EXPECT_EQ(p.detail, "");
  EXPECT_EQ(p.identifier, "");
  EXPECT_EQ(p.status, 400);
  EXPECT_TRUE(p.subproblems.empty());
  EXPECT_EQ(p.Message(), "HTTP 400");

  Problem none = ParseProblem("{}", 0);
  EXPECT_EQ(none.Message(), "unspecified problem");
}

TEST(ProblemTest, WrongTypesNeverThrow) {
  Problem p;
  ASSERT_NO_THROW(p = ParseProblem(R"({
    "type": 7, "detail": 42, "status": "400",
    "identifier": {"type": 1, "value": ["x"]},
    "subproblems": [1, "two", null, {"detail": {"nested": true}, "identifier": "dns:x"}]
  })",
                                   400));
  EXPECT_EQ(p.type, "");
  EXPECT_EQ(p.detail, "");
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.identifier, "");
  ASSERT_EQ(p.subproblems.size(), 1u);
  EXPECT_EQ(p.subproblems[0].detail, "");
  EXPECT_EQ(p.subproblems[0].identifier, "");

  Problem q;
  ASSERT_NO_THROW(q = ParseProblem(R"({"subproblems": {"a": 1}, "status": 1e300})", 503));
  EXPECT_TRUE(q.subproblems.empty());
  EXPECT_EQ(q.status, 503);
}

TEST(ProblemTest, ControlCharactersInDetailAreNeutralised) {
  Problem p = ParseProblem(
      R"({"type":"urn:ietf:params:acme:error:malformed","detail":"line1\nbulkhead: error: forged\u001b[2J"})",
      400);
  EXPECT_EQ(p.detail.find('\n'), std::string::npos);
  EXPECT_EQ(p.detail.find('\x1b'), std::string::npos);
  EXPECT_NE(p.detail.find("line1 bulkhead"), std::string::npos) << p.detail;
}

TEST(ProblemErrorTest, RateLimitedIsTransientAndSaysWhenToRetry) {
  Problem p = ParseProblem(
      R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates"})", 429);
  Error e = ProblemError(p, "creating order for example.com", 3600);
  EXPECT_EQ(e.code, ErrorCode::kTransient);
  EXPECT_EQ(
      e.message.rfind("creating order for example.com: rateLimited: too many certificates", 0), 0u)
      << e.message;
  EXPECT_NE(e.message.find("retry after 3600 seconds"), std::string::npos) << e.message;
}

TEST(ProblemErrorTest, RetryHintStaysOnFirstLine) {
  Problem p = ParseProblem(R"({"type":"urn:ietf:params:acme:error:rateLimited","detail":"slow",
      "subproblems":[{"type":"urn:ietf:params:acme:error:rateLimited","detail":"sub",
      "identifier":{"type":"dns","value":"a.example"}}]})",
                           429);
  Error e = ProblemError(p, "", 60);
  size_t eol = e.message.find('\n');
  ASSERT_NE(eol, std::string::npos);
  EXPECT_LT(e.message.find("retry after 60 seconds"), eol) << e.message;
  EXPECT_NE(e.message.find("dns:a.example: rateLimited: sub"), std::string::npos);
}

TEST(ProblemErrorTest, Classification) {
  EXPECT_EQ(ProblemError(
                ParseProblem(R"({"type":"urn:ietf:params:acme:error:serverInternal"})", 500), "x")
                .code,
            ErrorCode::kTransient);
  EXPECT_EQ(ProblemError(ParseProblem("<html>bad gateway</html>", 502), "x").code,
            ErrorCode::kTransient);
  EXPECT_EQ(
      ProblemError(ParseProblem(R"({"type":"urn:ietf:params:acme:error:unauthorized"})", 403), "x")
          .code,
      ErrorCode::kFailure);
  Error no_retry = ProblemError(
      ParseProblem(R"({"type":"urn:ietf:params:acme:error:badCSR","detail":"bad key"})", 400),
      "finalizing order");
  EXPECT_EQ(no_retry.code, ErrorCode::kFailure);
  EXPECT_EQ(no_retry.message, "finalizing order: badCSR: bad key");
}

}  // namespace
}  // namespace bulkhead::acme
