// HTTP/1.1 request parsing and response writing for `bulkhead serve`.
// Deliberately small: one request per connection (the server always answers
// "Connection: close"), no chunked request bodies, strict size caps, so a
// hostile client costs a bounded amount of memory and time.
#ifndef BULKHEAD_SERVE_HTTP_H_
#define BULKHEAD_SERVE_HTTP_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::serve {

// HttpLimits caps one request. The defaults fit the JSON API comfortably.
struct HttpLimits {
  size_t max_request_line = 4096;  // Method, target and version.
  size_t max_header_bytes = 16384; // All header lines together.
  size_t max_headers = 64;
  size_t max_body = 65536;
};

// HttpRequest is a parsed request. Header names are lower-cased; a repeated
// header keeps its first value (we need none that may repeat).
struct HttpRequest {
  std::string method;
  std::string target;  // As sent: "/api/endpoints?x=1".
  std::string path;    // Target before '?', percent-decoded.
  std::string query;   // After '?', raw.
  std::map<std::string, std::string> headers;
  std::string body;

  // Header returns the value of lower-case `name`, or "" if absent.
  std::string Header(std::string_view name) const;
};

// RequestParser consumes bytes as they arrive.
class RequestParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  explicit RequestParser(HttpLimits limits = {}) : limits_(limits) {}

  // Feed appends `data` and parses as far as possible. After kDone, request()
  // is complete (bytes past the body are ignored: no pipelining). After
  // kError, error_status() is the status to answer with (400, 405, 411, 413,
  // 414, 431, 501, 505) and error_reason() says why.
  State Feed(std::string_view data);

  const HttpRequest& request() const { return request_; }
  int error_status() const { return error_status_; }
  const std::string& error_reason() const { return error_reason_; }

 private:
  State Fail(int status, std::string reason);
  State ParseHead(size_t head_end);

  HttpLimits limits_;
  std::string buf_;
  bool head_done_ = false;
  size_t body_start_ = 0;
  size_t content_length_ = 0;
  HttpRequest request_;
  int error_status_ = 0;
  std::string error_reason_;
  State state_ = State::kNeedMore;
};

// HttpResponse is what a handler returns.
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Extra.
};

// StatusText returns the reason phrase for `status` ("Not Found").
std::string_view StatusText(int status);

// SerializeResponse renders status line, headers (Content-Length,
// Connection: close, and defensive headers for browsers) and body. A HEAD
// request gets the headers only.
std::string SerializeResponse(const HttpResponse& response, bool head_only);

// PercentDecode decodes %XX escapes; false on a malformed escape or an
// encoded NUL.
bool PercentDecode(std::string_view in, std::string* out);

// QueryParam returns the decoded value of `name` in a query string
// ("a=1&b=2"), or "" if absent or malformed.
std::string QueryParam(std::string_view query, std::string_view name);

}  // namespace bulkhead::serve

#endif  // BULKHEAD_SERVE_HTTP_H_
