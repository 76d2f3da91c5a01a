// libcurl transport to the CA and the small HTTP helpers the ACME code needs
// (Link, Retry-After, URL resolution).
#include "acme/http.h"

#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <limits>
#include <mutex>

#include "util/curl_ptr.h"
#include "util/text.h"

namespace bulkhead::acme {
namespace {

// kMaxHeaderBytes caps all response header lines of one request together; a
// CA never needs more than a few KiB, and the cap bounds memory a hostile or
// broken server can make us spend.
constexpr size_t kMaxHeaderBytes = 64 * 1024;

// kCaCacheSeconds keeps the parsed trust store in memory: reading the system
// store costs ~20 ms per request otherwise. A day still lets a long-running
// process notice trust store updates.
constexpr long kCaCacheSeconds = 24 * 60 * 60;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && IsSpace(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && AsciiLower(s.substr(0, prefix.size())) == prefix;
}

// ---- URLs ----------------------------------------------------------------

// UrlParts is an RFC 3986 split of a URI reference; views into the input.
struct UrlParts {
  std::string_view scheme;     // Without ':'; empty for a relative reference.
  bool has_authority = false;  // "//" was present.
  std::string_view authority;
  std::string_view path;
  std::string_view query;     // Including the leading '?', or empty.
  std::string_view fragment;  // Including the leading '#', or empty.
};

bool IsSchemeChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

UrlParts SplitUrl(std::string_view s) {
  UrlParts p;
  size_t colon = s.find_first_of(":/?#");
  if (colon != std::string_view::npos && colon > 0 && s[colon] == ':') {
    bool valid = true;
    for (size_t i = 0; i < colon; ++i) {
      valid = valid && IsSchemeChar(s[i], i == 0);
    }
    if (valid) {
      p.scheme = s.substr(0, colon);
      s.remove_prefix(colon + 1);
    }
  }
  if (s.substr(0, 2) == "//") {
    s.remove_prefix(2);
    size_t end = s.find_first_of("/?#");
    p.has_authority = true;
    p.authority = s.substr(0, end);
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
  size_t hash = s.find('#');
  if (hash != std::string_view::npos) {
    p.fragment = s.substr(hash);
    s = s.substr(0, hash);
  }
  size_t q = s.find('?');
  if (q != std::string_view::npos) {
    p.query = s.substr(q);
    s = s.substr(0, q);
  }
  p.path = s;
  return p;
}

// RemoveDotSegments implements RFC 3986 section 5.2.4 so that "../x"
// references resolve the way a browser (and the CA) would.
std::string RemoveDotSegments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.substr(0, 3) == "../") {
      in.remove_prefix(3);
    } else if (in.substr(0, 2) == "./") {
      in.remove_prefix(2);
    } else if (in.substr(0, 3) == "/./") {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.substr(0, 4) == "/../" || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      size_t last = out.rfind('/');
      out.erase(last == std::string::npos ? 0 : last);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t next = in.find('/', in.front() == '/' ? 1 : 0);
      if (next == std::string_view::npos) {
        next = in.size();
      }
      out.append(in.substr(0, next));
      in.remove_prefix(next);
    }
  }
  return out;
}

std::string Prefix(const UrlParts& b) {
  std::string out = std::string(b.scheme) + ":";
  if (b.has_authority) {
    out += "//";
    out += b.authority;
  }
  return out;
}

// ---- curl ----------------------------------------------------------------


// GlobalInit runs curl_global_init once per process; it is not thread-safe
// itself, hence call_once.
CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

// Transfer accumulates one response; the callbacks abort (by returning a
// short count) when a cap would be exceeded and record why.
struct Transfer {
  HttpResponse response;
  size_t max_body = 0;
  size_t header_bytes = 0;
  bool body_too_large = false;
  bool headers_too_large = false;
  std::string last_header;  // For obs-fold continuation lines.
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = size * nmemb;
  if (n > t->max_body - t->response.body.size()) {
    t->body_too_large = true;
    return 0;
  }
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  size_t n = size * nmemb;
  t->header_bytes += n;
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_too_large = true;
    return 0;
  }
  std::string_view line(data, n);
  if (StartsWithNoCase(line, "http/")) {
    // A new status line starts a new response (after a 1xx interim one);
    // only the final response's headers count.
    t->response.headers.clear();
    t->last_header.clear();
    return n;
  }
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    // Obsolete line folding: the line continues the previous header value.
    std::string_view more = Trim(line);
    if (!t->last_header.empty() && !more.empty()) {
      auto range = t->response.headers.equal_range(t->last_header);
      if (range.first != range.second) {
        auto last = std::prev(range.second);
        last->second += " ";
        last->second += more;
      }
    }
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return n;  // The blank line ending the block, or junk we ignore.
  }
  std::string name = AsciiLower(Trim(line.substr(0, colon)));
  t->response.headers.emplace(name, std::string(Trim(line.substr(colon + 1))));
  t->last_header = std::move(name);
  return n;
}

// IsTransient says whether a curl failure is worth retrying later: the
// network or the peer misbehaved, as opposed to a verification failure or
// a bad URL, which will fail the same way next time.
bool IsTransient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_AGAIN:
      return true;
    default:
      return false;
  }
}

// UntrustedHint is what to add to a failure to verify the CA's certificate
// chain: how to trust a private CA's root (a name mismatch, which no bundle
// fixes, gets nothing: curl reports it under another code).
std::string UntrustedHint(CURLcode code, const std::string& ca_bundle) {
  if (code != CURLE_PEER_FAILED_VERIFICATION) {
    return "";
  }
  if (ca_bundle.empty()) {
    return " (the CA's certificate does not chain to a root trusted here; for a private CA, "
           "give its root with --ca-bundle PEM or BULKHEAD_CA_BUNDLE)";
  }
  return fmt::format(" (the CA's certificate does not chain to a root in --ca-bundle {})",
                     ca_bundle);
}

// CurlHttpClient reuses one easy handle so that the connection, the TLS
// session and the parsed trust store survive between requests. Requests are
// serialised by a mutex because an easy handle is single-threaded.
class CurlHttpClient : public HttpClient {
 public:
  CurlHttpClient(CurlPtr curl, HttpOptions options)
      : curl_(std::move(curl)), options_(std::move(options)) {}

  // Init sets the options that stay the same for every request.
  Status Init() {
    CURL* c = curl_.get();
    bool ok = true;
    auto set = [&ok](CURLcode rc) { ok = ok && rc == CURLE_OK; };
    errbuf_[0] = '\0';
    set(curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf_));
    set(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L));
    set(curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https"));
    set(curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https"));
    set(curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L));
    set(curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS)));
    set(curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L));
    set(curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L));
    set(curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)));
    set(curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, kCaCacheSeconds));
    if (!options_.ca_bundle.empty()) {
      set(curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_bundle.c_str()));
      // Only the given roots are trusted (e.g. a test CA), not the system
      // directory as well.
      set(curl_easy_setopt(c, CURLOPT_CAPATH, nullptr));
    }
    for (const std::string& entry : options_.resolve) {
      curl_slist* more = curl_slist_append(resolve_.get(), entry.c_str());
      if (more == nullptr) {
        return Err("configuring libcurl: out of memory for the CA's addresses");
      }
      if (resolve_ == nullptr) {
        resolve_.reset(more);
      }
    }
    if (resolve_ != nullptr) {
      // The caller resolved these hosts (the net role cannot); libcurl
      // takes the addresses from its cache and never looks them up.
      set(curl_easy_setopt(c, CURLOPT_RESOLVE, resolve_.get()));
    }
    set(curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms));
    set(curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, options_.request_timeout_ms));
    set(curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str()));
    set(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody));
    set(curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader));
    // curl rejects a Content-Length above this before reading the body.
    set(curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                         static_cast<curl_off_t>(std::min<size_t>(
                             options_.max_response_bytes,
                             static_cast<size_t>(std::numeric_limits<curl_off_t>::max())))));
    if (!ok) {
      return Err("configuring libcurl failed (libcurl too old or built without TLS?)");
    }
    return OkStatus();
  }

  Result<HttpResponse> Get(const std::string& url) override {
    return Perform("GET", url, /*body=*/nullptr, "");
  }

  Result<HttpResponse> Head(const std::string& url) override {
    return Perform("HEAD", url, /*body=*/nullptr, "");
  }

  Result<HttpResponse> Post(const std::string& url, std::string_view body,
                            std::string_view content_type) override {
    return Perform("POST", url, &body, content_type);
  }

 private:
  Result<HttpResponse> Perform(std::string_view method, const std::string& url,
                               const std::string_view* body, std::string_view content_type) {
    if (!StartsWithNoCase(url, "https://")) {
      return Err("refusing {} {}: only https:// URLs are allowed", method, url);
    }
    if (content_type.find_first_of("\r\n") != std::string_view::npos) {
      return Err("refusing {} {}: content type contains a line break", method, url);
    }
    std::lock_guard<std::mutex> lock(mu_);
    CURL* c = curl_.get();
    Transfer t;
    t.max_body = options_.max_response_bytes;

    // "Expect:" with no value stops curl from sending Expect: 100-continue,
    // which would cost a round trip on every POST.
    SlistPtr headers(curl_slist_append(nullptr, "Expect:"));
    if (headers == nullptr) {
      return Err("{} {}: out of memory building headers", method, url);
    }
    if (body != nullptr) {
      std::string ct = "Content-Type: " + std::string(content_type);
      curl_slist* more = curl_slist_append(headers.get(), ct.c_str());
      if (more == nullptr) {
        return Err("{} {}: out of memory building headers", method, url);
      }
    }

    bool ok = true;
    auto set = [&ok](CURLcode rc) { ok = ok && rc == CURLE_OK; };
    set(curl_easy_setopt(c, CURLOPT_URL, url.c_str()));
    set(curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get()));
    set(curl_easy_setopt(c, CURLOPT_WRITEDATA, &t));
    set(curl_easy_setopt(c, CURLOPT_HEADERDATA, &t));
    // HTTPGET resets any earlier POST/NOBODY state on the reused handle.
    set(curl_easy_setopt(c, CURLOPT_HTTPGET, 1L));
    if (method == "HEAD") {
      set(curl_easy_setopt(c, CURLOPT_NOBODY, 1L));
    } else if (body != nullptr) {
      set(curl_easy_setopt(c, CURLOPT_POST, 1L));
      set(curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size())));
      // An empty view may have a null data(); curl would then read the body
      // from stdin, so point at a real empty string instead.
      set(curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->empty() ? "" : body->data()));
    }
    if (!ok) {
      return Err("{} {}: configuring libcurl failed", method, url);
    }
    errbuf_[0] = '\0';
    CURLcode rc = curl_easy_perform(c);
    // Do not leave pointers to this frame's objects in the handle.
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, nullptr);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, nullptr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, nullptr);

    if (t.body_too_large || rc == CURLE_FILESIZE_EXCEEDED) {
      return ResponseTooLarge(url, options_.max_response_bytes);
    }
    if (t.headers_too_large) {
      return Err("response headers from {} exceed the limit of {} bytes", url, kMaxHeaderBytes);
    }
    if (rc != CURLE_OK) {
      std::string why = errbuf_[0] != '\0' ? std::string(errbuf_) : curl_easy_strerror(rc);
      Error e = Err("{} {}: {}{}", method, url, why, UntrustedHint(rc, options_.ca_bundle));
      if (IsTransient(rc)) {
        e.code = ErrorCode::kTransient;
      }
      return e;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    t.response.status = status;
    return std::move(t.response);
  }

  std::mutex mu_;
  // Declared before curl_ so that it outlives the handle that points to it.
  SlistPtr resolve_;
  CurlPtr curl_;
  HttpOptions options_;
  char errbuf_[CURL_ERROR_SIZE];
};

// kTooLargeMarker is the part of every ResponseTooLarge message that
// IsResponseTooLarge looks for; the Error carries no other mark.
constexpr std::string_view kTooLargeMarker = " exceeds the limit of ";

// CheckReadableFile fails unless `path` is a regular file this process can
// read, so that a wrong --ca-bundle is reported up front by name instead of as
// a TLS failure on the first request.
Status CheckReadableFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Err("CA bundle {}: {}", path, std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Err("CA bundle {}: not a regular file", path);
  }
  if (access(path.c_str(), R_OK) != 0) {
    return Err("CA bundle {}: {}", path, std::strerror(errno));
  }
  return OkStatus();
}

// ParseInt parses an all-digit field of an IMF-fixdate.
bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// ParseImfFixdate parses "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 section
// 5.6.7) by hand, so that the result does not depend on the C locale.
bool ParseImfFixdate(std::string_view s, time_t* out) {
  static constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // Fixed layout: "Www, DD Mmm YYYY HH:MM:SS GMT" is 29 characters.
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return false;
  }
  if (std::find(std::begin(kDays), std::end(kDays), s.substr(0, 3)) == std::end(kDays)) {
    return false;
  }
  auto month = std::find(std::begin(kMonths), std::end(kMonths), s.substr(8, 3));
  if (month == std::end(kMonths)) {
    return false;
  }
  int day = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!ParseInt(s.substr(5, 2), &day) || !ParseInt(s.substr(12, 4), &year) ||
      !ParseInt(s.substr(17, 2), &hour) || !ParseInt(s.substr(20, 2), &minute) ||
      !ParseInt(s.substr(23, 2), &second)) {
    return false;
  }
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(month - std::begin(kMonths));
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) {
    return false;
  }
  *out = t;
  return true;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  // lower_bound finds the first of equal keys, which a multimap keeps in
  // insertion order.
  auto it = headers.lower_bound(AsciiLower(name));
  if (it == headers.end() || it->first != AsciiLower(name)) {
    return "";
  }
  return it->second;
}

std::vector<std::string> HttpResponse::Links(std::string_view rel,
                                             std::string_view base_url) const {
  std::vector<std::string> out;
  std::string want = AsciiLower(rel);
  auto range = headers.equal_range("link");
  for (auto it = range.first; it != range.second; ++it) {
    for (const auto& [target, link_rel] : ParseLinkHeader(it->second)) {
      if (link_rel == want) {
        out.push_back(ResolveUrl(base_url, target));
      }
    }
  }
  return out;
}

long HttpResponse::RetryAfterSeconds(long now_unix) const {
  auto it = headers.find("retry-after");
  if (it == headers.end()) {
    return -1;
  }
  std::string_view v = Trim(it->second);
  if (!v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos) {
    long seconds = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (ec != std::errc() || ptr != v.data() + v.size()) {
      return -1;  // Out of range: not a wait anyone can honour.
    }
    return seconds;
  }
  time_t when = 0;
  if (!ParseImfFixdate(v, &when)) {
    return -1;
  }
  long wait = static_cast<long>(when) - now_unix;
  return wait < 0 ? 0 : wait;
}

Result<std::unique_ptr<HttpClient>> NewCurlHttpClient(const HttpOptions& options) {
  if (!options.ca_bundle.empty()) {
    BH_TRY(CheckReadableFile(options.ca_bundle));
  }
  CURLcode init = GlobalInit();
  if (init != CURLE_OK) {
    return Err("curl_global_init failed: {}", curl_easy_strerror(init));
  }
  CurlPtr curl(curl_easy_init());
  if (curl == nullptr) {
    return Err("curl_easy_init failed");
  }
  auto client = std::make_unique<CurlHttpClient>(std::move(curl), options);
  BH_TRY(client->Init());
  return std::unique_ptr<HttpClient>(std::move(client));
}

// ParseLinkHeader reads `link-value *( "," link-value )` where link-value is
// `"<" URI-Reference ">" *( ";" link-param )` (RFC 8288 section 3). It returns
// one pair per relation type: rel="up index" gives two pairs. Relation types
// are lower-cased (they compare case-insensitively); only the first rel
// parameter of a link counts, as the RFC requires. Links without rel are
// dropped, since callers look links up by rel.
std::vector<std::pair<std::string, std::string>> ParseLinkHeader(std::string_view value) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = 0;
  const size_t n = value.size();
  auto skip_ws = [&] {
    while (i < n && (value[i] == ' ' || value[i] == '\t')) {
      ++i;
    }
  };
  // skip_entry moves past the next top-level comma, honouring quotes, to
  // recover from a malformed entry.
  auto skip_entry = [&] {
    bool quoted = false;
    while (i < n) {
      char c = value[i++];
      if (quoted && c == '\\' && i < n) {
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        return;
      }
    }
  };
  while (i < n) {
    skip_ws();
    if (i < n && value[i] == ',') {
      ++i;
      continue;
    }
    if (i >= n) {
      break;
    }
    if (value[i] != '<') {
      skip_entry();
      continue;
    }
    size_t close = value.find('>', i + 1);
    if (close == std::string_view::npos) {
      break;  // An unterminated target swallows the rest.
    }
    std::string target(Trim(value.substr(i + 1, close - i - 1)));
    i = close + 1;
    std::string rel;
    bool have_rel = false;
    bool malformed = false;
    while (true) {
      skip_ws();
      if (i >= n || value[i] == ',') {
        break;
      }
      if (value[i] != ';') {
        malformed = true;
        break;
      }
      ++i;
      skip_ws();
      size_t name_start = i;
      while (i < n && value[i] != '=' && value[i] != ';' && value[i] != ',' && value[i] != ' ' &&
             value[i] != '\t') {
        ++i;
      }
      std::string name = AsciiLower(value.substr(name_start, i - name_start));
      skip_ws();
      std::string param;
      if (i < n && value[i] == '=') {
        ++i;
        skip_ws();
        if (i < n && value[i] == '"') {
          ++i;
          bool closed = false;
          while (i < n) {
            char c = value[i++];
            if (c == '\\' && i < n) {
              param += value[i++];
            } else if (c == '"') {
              closed = true;
              break;
            } else {
              param += c;
            }
          }
          if (!closed) {
            malformed = true;
            break;
          }
        } else {
          size_t start = i;
          while (i < n && value[i] != ';' && value[i] != ',' && value[i] != ' ' &&
                 value[i] != '\t') {
            ++i;
          }
          param = std::string(value.substr(start, i - start));
        }
      }
      if (name == "rel" && !have_rel) {
        have_rel = true;
        rel = std::move(param);
      }
    }
    if (malformed) {
      skip_entry();
      continue;
    }
    std::string_view rels = rel;
    while (!rels.empty()) {
      size_t start = rels.find_first_not_of(" \t");
      if (start == std::string_view::npos) {
        break;
      }
      rels.remove_prefix(start);
      size_t end = rels.find_first_of(" \t");
      out.emplace_back(target, AsciiLower(rels.substr(0, end)));
      rels.remove_prefix(end == std::string_view::npos ? rels.size() : end);
    }
  }
  return out;
}

std::string ResolveUrl(std::string_view base, std::string_view ref) {
  UrlParts r = SplitUrl(ref);
  if (!r.scheme.empty()) {
    return std::string(ref);
  }
  UrlParts b = SplitUrl(base);
  if (b.scheme.empty()) {
    return std::string(ref);  // Nothing absolute to resolve against.
  }
  std::string tail = std::string(r.query) + std::string(r.fragment);
  if (r.has_authority) {
    return std::string(b.scheme) + ":" + std::string(ref);
  }
  if (r.path.empty()) {
    if (!r.query.empty()) {
      return Prefix(b) + std::string(b.path) + tail;
    }
    return Prefix(b) + std::string(b.path) + std::string(b.query) + tail;
  }
  if (r.path.front() == '/') {
    return Prefix(b) + RemoveDotSegments(r.path) + tail;
  }
  std::string merged;
  if (b.has_authority && b.path.empty()) {
    merged = "/" + std::string(r.path);
  } else {
    size_t slash = b.path.rfind('/');
    merged = std::string(b.path.substr(0, slash == std::string_view::npos ? 0 : slash + 1)) +
             std::string(r.path);
  }
  return Prefix(b) + RemoveDotSegments(merged) + tail;
}

std::string UrlOrigin(std::string_view url) {
  UrlParts p = SplitUrl(url);
  if (p.scheme.empty() || !p.has_authority) {
    return "";
  }
  std::string_view host_port = p.authority;
  size_t at = host_port.rfind('@');
  if (at != std::string_view::npos) {
    host_port.remove_prefix(at + 1);  // Userinfo is not part of the origin.
  }
  if (host_port.empty() || host_port.front() == ':') {
    return "";
  }
  return AsciiLower(p.scheme) + "://" + AsciiLower(host_port);
}

Error ResponseTooLarge(std::string_view url, size_t limit) {
  return Err("response from {}{}{} bytes", url, kTooLargeMarker, limit);
}

bool IsResponseTooLarge(const Error& e) {
  return e.message.rfind("response from ", 0) == 0 &&
         e.message.find(kTooLargeMarker) != std::string::npos;
}

}  // namespace bulkhead::acme
