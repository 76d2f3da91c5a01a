#include "serve/http.h"

#include <string>

#include <gtest/gtest.h>

namespace bulkhead::serve {
namespace {

using State = RequestParser::State;

TEST(HttpParserTest, ParsesSimpleGetInPieces) {
  RequestParser p;
  EXPECT_EQ(p.Feed("GET /api/end%70oints?x=1&y=a%20b HTTP/1.1\r\nHo"), State::kNeedMore);
  EXPECT_EQ(p.Feed("st: x\r\nAuthorization: Bearer t\r\n\r\n"), State::kDone);
  EXPECT_EQ(p.request().method, "GET");
  EXPECT_EQ(p.request().path, "/api/endpoints");
  EXPECT_EQ(p.request().query, "x=1&y=a%20b");
  EXPECT_EQ(p.request().Header("authorization"), "Bearer t");
  EXPECT_EQ(QueryParam(p.request().query, "y"), "a b");
  EXPECT_EQ(QueryParam(p.request().query, "z"), "");
}

TEST(HttpParserTest, ReadsBodyByContentLength) {
  RequestParser p;
  EXPECT_EQ(p.Feed("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"), State::kNeedMore);
  EXPECT_EQ(p.Feed("cdeEXTRA"), State::kDone);
  EXPECT_EQ(p.request().body, "abcde");
}

int ErrorOf(std::string_view input, HttpLimits limits = {}) {
  RequestParser p(limits);
  if (p.Feed(input) != State::kError) {
    return 0;
  }
  return p.error_status();
}

TEST(HttpParserTest, EnforcesLimits) {
  HttpLimits small;
  small.max_request_line = 64;
  small.max_header_bytes = 128;
  small.max_headers = 3;
  small.max_body = 10;
  EXPECT_EQ(ErrorOf("GET /" + std::string(100, 'a'), small), 414);
  EXPECT_EQ(ErrorOf("GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", small), 414);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nA: " + std::string(200, 'b'), small), 431);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", small), 431);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", small), 413);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", small),
            413);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", small), 0);
}

TEST(HttpParserTest, RejectsMalformedRequests) {
  EXPECT_EQ(ErrorOf("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(ErrorOf("GET  / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET http://x/ HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("G(T / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /%zz HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /%00 HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET /%4 HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nNoColon\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\n folded: x\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\n\r\n"), 411);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"), 400);
  EXPECT_EQ(ErrorOf("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), 400);
}

TEST(HttpParserTest, StopsAfterDoneOrError) {
  RequestParser p;
  EXPECT_EQ(p.Feed("BAD\r\n\r\n"), State::kError);
  EXPECT_EQ(p.Feed("GET / HTTP/1.1\r\n\r\n"), State::kError);
}

TEST(HttpResponseTest, SerializesWithLengthAndCloses) {
  HttpResponse r;
  r.status = 404;
  r.body = "{}";
  std::string s = SerializeResponse(r, false);
  EXPECT_EQ(s.rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_NE(s.find("Content-Length: 2\r\n"), std::string::npos);
  EXPECT_NE(s.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(s.find("X-Content-Type-Options: nosniff"), std::string::npos);
  EXPECT_EQ(s.substr(s.size() - 6), "\r\n\r\n{}");
  std::string head = SerializeResponse(r, true);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
}

}  // namespace
}  // namespace bulkhead::serve
