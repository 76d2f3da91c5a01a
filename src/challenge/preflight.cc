// The http-01 pre-flight self-check (see preflight.h for what it mirrors).
#include "challenge/preflight.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "util/curl_ptr.h"
#include "util/log.h"

namespace bulkhead::challenge {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// kMaxHeaderBytes caps the response header lines of one request.
constexpr size_t kMaxHeaderBytes = 32 * 1024;

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlPtr = std::unique_ptr<CURLU, UrlDeleter>;

struct CurlString {
  char* s = nullptr;
  ~CurlString() { curl_free(s); }
};

// Sink collects one response within the caps; the callbacks stop the
// transfer (short count) once a cap is reached.
struct Sink {
  std::string body;
  bool truncated = false;
  size_t header_bytes = 0;
  bool headers_too_large = false;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* s = static_cast<Sink*>(userdata);
  size_t n = size * nmemb;
  size_t room = kMaxPreflightBody - s->body.size();
  if (n > room) {
    s->body.append(data, room);
    s->truncated = true;
    return 0;
  }
  s->body.append(data, n);
  return n;
}

size_t OnHeader(char* /*data*/, size_t size, size_t nmemb, void* userdata) {
  auto* s = static_cast<Sink*>(userdata);
  size_t n = size * nmemb;
  s->header_bytes += n;
  if (s->header_bytes > kMaxHeaderBytes) {
    s->headers_too_large = true;
    return 0;
  }
  return n;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// RdataAddress turns the RDATA of an A or AAAA record into text.
std::string RdataAddress(const dns::Record& r) {
  char text[INET6_ADDRSTRLEN] = {};
  if (r.type == dns::kTypeA && r.rdata.size() == 4) {
    ::inet_ntop(AF_INET, r.rdata.data(), text, sizeof(text));
  } else if (r.type == dns::kTypeAaaa && r.rdata.size() == 16) {
    ::inet_ntop(AF_INET6, r.rdata.data(), text, sizeof(text));
  }
  return text;
}

// Resolve returns the addresses of `host` (a name; IP literals never get
// here) through the configured resolver or the system's.
Result<std::vector<std::string>> Resolve(const std::string& host, const PreflightOptions& o) {
  std::vector<std::string> out;
  if (o.resolver) {
    dns::QueryOptions q;
    q.timeout = std::min(o.connect_timeout, milliseconds(5000));
    bool nxdomain = false;
    for (uint16_t type : {dns::kTypeAaaa, dns::kTypeA}) {
      BH_ASSIGN(dns::Response r, dns::Query(*o.resolver, host, type, q));
      nxdomain = nxdomain || r.rcode == dns::kRcodeNxDomain;
      for (const dns::Record& rec : r.answer) {
        std::string a = RdataAddress(rec);
        if (!a.empty() && std::find(out.begin(), out.end(), a) == out.end()) {
          out.push_back(a);
        }
      }
    }
    if (out.empty()) {
      return ErrCode(ErrorCode::kTransient, "{} has no A or AAAA record at {}{}", host,
                     o.resolver->ToString(),
                 nxdomain ? " (NXDOMAIN)" : "");
    }
    return out;
  }
  struct addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return ErrCode(ErrorCode::kTransient, "{} does not resolve: {}", host, ::gai_strerror(rc));
  }
  for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* src = ai->ai_family == AF_INET6
                          ? static_cast<const void*>(
                                &reinterpret_cast<struct sockaddr_in6*>(ai->ai_addr)->sin6_addr)
                          : static_cast<const void*>(
                                &reinterpret_cast<struct sockaddr_in*>(ai->ai_addr)->sin_addr);
    if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
        ::inet_ntop(ai->ai_family, src, text, sizeof(text)) != nullptr &&
        std::find(out.begin(), out.end(), text) == out.end()) {
      out.push_back(text);
    }
  }
  ::freeaddrinfo(res);
  if (out.empty()) {
    return ErrCode(ErrorCode::kTransient, "{} has no IPv4 or IPv6 address", host);
  }
  return out;
}

// UrlTarget is the part of a URL a request goes to.
struct UrlTarget {
  std::string scheme;
  std::string host;  // Without IPv6 brackets.
  long port = 0;
};

Result<UrlTarget> ParseTarget(std::string_view url) {
  UrlPtr u(curl_url());
  if (u == nullptr) {
    return Err("out of memory");
  }
  std::string text(url);
  if (curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return Err("{} is not a valid URL", EscapeForMessage(url));
  }
  CurlString scheme, host, port;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &scheme.s, 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_HOST, &host.s, 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_PORT, &port.s, CURLU_DEFAULT_PORT) != CURLUE_OK) {
    return Err("{}: no scheme, host or port", EscapeForMessage(url));
  }
  UrlTarget t;
  t.scheme = scheme.s;
  t.host = host.s;
  if (t.host.size() >= 2 && t.host.front() == '[' && t.host.back() == ']') {
    t.host = t.host.substr(1, t.host.size() - 2);
  }
  t.port = std::atol(port.s);
  return t;
}

// Hop is the outcome of one request.
struct Hop {
  long status = 0;
  std::string body;
  bool truncated = false;
  std::string redirect_url;  // Absolute, when the answer was a redirect.
};

// FetchOnce makes one GET request to `url`, connecting only to the
// addresses resolved here, within `timeout`.
Result<Hop> FetchOnce(const std::string& url, const PreflightOptions& o, milliseconds timeout) {
  BH_ASSIGN(UrlTarget t, ParseTarget(url));
  SlistPtr resolve;
  if (!IsIpLiteral(t.host)) {
    BH_ASSIGN(std::vector<std::string> addrs, Resolve(t.host, o));
    std::string entry = fmt::format("{}:{}:", t.host, t.port);
    for (size_t i = 0; i < addrs.size(); ++i) {
      bool v6 = addrs[i].find(':') != std::string::npos;
      entry += fmt::format("{}{}{}{}", i == 0 ? "" : ",", v6 ? "[" : "", addrs[i], v6 ? "]" : "");
    }
    resolve.reset(curl_slist_append(nullptr, entry.c_str()));
    if (resolve == nullptr) {
      return Err("out of memory");
    }
  }
  CurlPtr c(curl_easy_init());
  if (c == nullptr) {
    return Err("curl_easy_init failed");
  }
  Sink sink;
  char errbuf[CURL_ERROR_SIZE] = {};
  CURL* h = c.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  // The CA never goes through our proxy; nor do we (env proxies ignored).
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "bulkhead-preflight");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(o.connect_timeout, timeout).count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  // The CA does not verify https on a redirect: http-01 bootstraps trust.
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  if (resolve != nullptr) {
    curl_easy_setopt(h, CURLOPT_RESOLVE, resolve.get());
  }
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && sink.truncated)) {
    if (sink.headers_too_large) {
      return Err("{}: response headers larger than {} bytes", url, kMaxHeaderBytes);
    }
    // No answer at all (refused, unreachable, timed out): kTransient, which
    // Preflight treats as "could not check", not as a failure.
    return ErrCode(ErrorCode::kTransient, "{}: {}", url,
                   errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
  }
  Hop hop;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &hop.status);
  hop.body = std::move(sink.body);
  hop.truncated = sink.truncated;
  char* location = nullptr;
  if (hop.status >= 300 && hop.status < 400 &&
      curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location != nullptr) {
    hop.redirect_url = location;
  }
  return hop;
}

bool IsTrailingSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// PreflightPublisher checks what it published before the CA is asked.
class PreflightPublisher final : public Publisher {
 public:
  PreflightPublisher(std::unique_ptr<Publisher> inner, PreflightOptions options)
      : inner_(std::move(inner)), options_(std::move(options)) {}

  std::string_view ChallengeType() const override { return inner_->ChallengeType(); }

  Status Publish(const Challenge& challenge) override {
    BH_TRY(inner_->Publish(challenge));
    Forget(challenge.token);
    if (!challenge.identifier.empty()) {
      tokens_.push_back(challenge);
    }
    return OkStatus();
  }

  Status Remove(const Challenge& challenge) override {
    Forget(challenge.token);
    return inner_->Remove(challenge);
  }

  Status WaitReady() override {
    BH_TRY(inner_->WaitReady());
    for (const Challenge& t : tokens_) {
      BH_TRY(Preflight(t.identifier, t.token, t.key_authorization, options_));
    }
    return OkStatus();
  }

  std::string Describe() const override { return inner_->Describe(); }

 private:
  void Forget(std::string_view token) {
    tokens_.erase(std::remove_if(tokens_.begin(), tokens_.end(),
                                 [&](const Challenge& t) { return t.token == token; }),
                  tokens_.end());
  }

  std::unique_ptr<Publisher> inner_;
  PreflightOptions options_;
  std::vector<Challenge> tokens_;
};

}  // namespace

std::string ChallengeUrl(std::string_view identifier, std::string_view token, uint16_t port) {
  bool v6 = identifier.find(':') != std::string_view::npos;
  std::string host = v6 ? fmt::format("[{}]", identifier) : std::string(identifier);
  std::string port_part = port == 80 ? "" : fmt::format(":{}", port);
  return fmt::format("http://{}{}/.well-known/acme-challenge/{}", host, port_part, token);
}

std::string EscapeForMessage(std::string_view body, size_t max) {
  std::string out = "\"";
  for (char c : body.substr(0, max)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  out += "\"";
  if (body.size() > max) {
    out += "...";
  }
  return out;
}

Status CheckServed(const Served& served, std::string_view key_authorization) {
  std::string_view body = served.body;
  while (!body.empty() && IsTrailingSpace(body.back())) {
    body.remove_suffix(1);
  }
  if (served.status == 200 && !served.truncated && body == key_authorization) {
    return OkStatus();
  }
  std::string via =
      served.redirects == 0
          ? ""
          : fmt::format(" (after {} redirect{})", served.redirects, served.redirects == 1 ? "" : "s");
  std::string what =
      served.body.empty() ? "an empty body" : EscapeForMessage(served.body) +
                                                  (served.truncated ? " (over 8 KiB)" : "");
  if (served.status == 200) {
    return Err("{}{} served 200 with {} instead of the key authorization", served.url, via, what);
  }
  return Err("{}{} answered {} with {}, not 200 with the key authorization", served.url, via,
             served.status, what);
}

Status CheckRedirect(std::string_view location, uint16_t preflight_port) {
  BH_ASSIGN(UrlTarget t, ParseTarget(location));
  if (t.scheme != "http" && t.scheme != "https") {
    return Err("redirect to {}: the CA follows only http: and https: URLs",
               EscapeForMessage(location));
  }
  if (t.port != 80 && t.port != 443 && t.port != preflight_port) {
    return Err("redirect to {}: the CA follows redirects only to ports 80 and 443",
               EscapeForMessage(location));
  }
  return OkStatus();
}

Result<Served> FetchChallenge(std::string_view identifier, std::string_view token,
                              const PreflightOptions& options) {
  Served served;
  served.url = ChallengeUrl(identifier, token, options.port);
  Clock::time_point deadline = Clock::now() + options.identifier_timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left <= milliseconds(0)) {
      return ErrCode(ErrorCode::kTransient, "{}: no answer within {} s", served.url,
                 std::chrono::duration_cast<std::chrono::seconds>(options.identifier_timeout)
                     .count());
    }
    BH_ASSIGN(Hop hop, FetchOnce(served.url, options, std::min(left, options.hop_timeout)));
    if (hop.redirect_url.empty()) {
      served.status = hop.status;
      served.body = std::move(hop.body);
      served.truncated = hop.truncated;
      return served;
    }
    if (served.redirects == kMaxPreflightRedirects) {
      return Err("{}: more than {} redirects", served.url, kMaxPreflightRedirects);
    }
    Status allowed = CheckRedirect(hop.redirect_url, options.port);
    if (!allowed.ok()) {
      return allowed.error().Wrap(served.url);
    }
    LogDebug("pre-flight: {} redirects to {}", served.url, hop.redirect_url);
    served.url = std::move(hop.redirect_url);
    ++served.redirects;
  }
}

Status Preflight(std::string_view identifier, std::string_view token,
                 std::string_view key_authorization, const PreflightOptions& options) {
  auto fail = [&](const Error& e) {
    return Err(
        "pre-flight check for {} failed: {}; no challenge was answered, so no authorization "
        "failed at the CA (fix the web server, or skip the check with --no-preflight)",
        identifier, e.message);
  };
  auto served = FetchChallenge(identifier, token, options);
  if (!served.ok() && served.error().code == ErrorCode::kTransient) {
    // This host often cannot see itself the way the CA does (split DNS,
    // no hairpin NAT, a lab whose names only the CA resolves): without an
    // answer there is nothing to judge, so say so and let the CA decide.
    if (options.quiet_skips) {
      LogInfo("pre-flight check for {} skipped: {} (the CA may reach it another way)",
              identifier, served.error().message);
    } else {
      LogWarn("pre-flight check for {} skipped: {} (the CA may reach it another way)",
              identifier, served.error().message);
    }
    return OkStatus();
  }
  if (!served.ok()) {
    return fail(served.error());
  }
  Status st = CheckServed(*served, key_authorization);
  if (!st.ok()) {
    return fail(st.error());
  }
  LogInfo("pre-flight: {} serves the key authorization", served->url);
  return OkStatus();
}

std::unique_ptr<Publisher> NewPreflightPublisher(std::unique_ptr<Publisher> inner,
                                                 PreflightOptions options) {
  return std::make_unique<PreflightPublisher>(std::move(inner), std::move(options));
}

}  // namespace bulkhead::challenge
