// HTTPS transport to the CA: libcurl with one reused connection, verified TLS
// always, timeouts, and a size cap on every response.
#ifndef BULKHEAD_ACME_HTTP_H_
#define BULKHEAD_ACME_HTTP_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bulkhead::acme {

// HttpResponse is one complete response. Header names are lower-cased;
// repeated headers keep every value in order.
struct HttpResponse {
  long status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;

  // Header returns the first value of header `name` (lower-case), or "".
  std::string Header(std::string_view name) const;

  // Links returns the targets of every Link header entry with rel=`rel`
  // (RFC 8288), resolved against `base_url` when relative.
  std::vector<std::string> Links(std::string_view rel, std::string_view base_url) const;

  // RetryAfterSeconds parses Retry-After (delta-seconds or HTTP-date) and
  // returns the wait in seconds from `now_unix`, or -1 if absent/invalid.
  long RetryAfterSeconds(long now_unix) const;
};

// HttpOptions configures an HttpClient.
struct HttpOptions {
  std::string ca_bundle;            // PEM file of trusted roots; "" = system store.
  long connect_timeout_ms = 10000;  // TCP+TLS connect.
  long request_timeout_ms = 30000;  // Whole request.
  size_t max_response_bytes = 1 << 20;  // Larger bodies fail with a clear error.
  std::string user_agent = "bulkhead";
  // libcurl CURLOPT_RESOLVE entries, "HOST:PORT:ADDR[,ADDR]" (IPv6 in
  // brackets): the addresses of HOST:PORT, resolved by the caller, so the
  // client never looks that name up itself (the net role cannot).
  std::vector<std::string> resolve;
};

// HttpClient is the transport contract the ACME protocol code uses. One
// instance talks to one CA; implementations keep the connection alive.
// Errors: a connection/timeout failure returns ErrorCode::kTransient naming
// the URL; any HTTP status is a successful Result (callers judge status).
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> Get(const std::string& url) = 0;
  virtual Result<HttpResponse> Head(const std::string& url) = 0;
  virtual Result<HttpResponse> Post(const std::string& url, std::string_view body,
                                    std::string_view content_type) = 0;
};

// NewCurlHttpClient returns the libcurl implementation (HTTP/2 when offered,
// TLS verification always on, trust loaded once). Fails if `ca_bundle` is set
// but unreadable.
Result<std::unique_ptr<HttpClient>> NewCurlHttpClient(const HttpOptions& options);

// ResponseTooLarge returns the error for an answer from `url` whose body
// exceeds `limit` bytes. The read stops at the cap, so a CA sending 512 MiB
// costs no more than one sending 1 MiB and one byte.
Error ResponseTooLarge(std::string_view url, size_t limit);

// IsResponseTooLarge says whether `e`, as an HttpClient returned it, is
// ResponseTooLarge: the CA answered, but more than the cap. Never fails.
bool IsResponseTooLarge(const Error& e);

// ParseLinkHeader splits one Link header value into (target, rel) pairs;
// malformed entries are skipped.
std::vector<std::pair<std::string, std::string>> ParseLinkHeader(std::string_view value);

// ResolveUrl resolves `ref` against absolute `base` (absolute URLs, absolute
// paths and relative paths; enough for CA responses).
std::string ResolveUrl(std::string_view base, std::string_view ref);

// UrlOrigin returns "scheme://host[:port]" of an absolute URL, or "".
std::string UrlOrigin(std::string_view url);

}  // namespace bulkhead::acme

#endif  // BULKHEAD_ACME_HTTP_H_
