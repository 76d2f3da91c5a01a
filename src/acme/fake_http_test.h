// Test-only helper for client_test.cc and issuance_test.cc: a scripted
// HttpClient. Header-only so that it is never linked into the library.
//
// Why a test double here, where the project otherwise tests against real
// peers: these tests exercise the client's reaction to each malformed or
// unexpected answer a CA could give (bad JSON at one particular step, a
// missing Location or Replay-Nonce, a URL of another origin, a badNonce
// storm, a Retry-After while polling). No real CA (Pebble included) can be
// made to produce each of these on demand, so the answers are scripted. The
// protocol against a real CA stays covered by the Pebble integration tests.
#ifndef BULKHEAD_ACME_FAKE_HTTP_TEST_H_
#define BULKHEAD_ACME_FAKE_HTTP_TEST_H_

#include <nlohmann/json.hpp>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "acme/http.h"
#include "util/base64url.h"
#include "util/result.h"

namespace bulkhead::acme::testing {

// kCa is the origin of the scripted CA; kDir..kRenewal are its directory URLs.
inline constexpr const char* kCa = "https://ca.test";
inline const std::string kDir = std::string(kCa) + "/dir";
inline const std::string kNonceUrl = std::string(kCa) + "/nonce";
inline const std::string kNewAccount = std::string(kCa) + "/new-acct";
inline const std::string kNewOrder = std::string(kCa) + "/new-order";
inline const std::string kRevoke = std::string(kCa) + "/revoke";
inline const std::string kKeyChange = std::string(kCa) + "/key-change";
inline const std::string kRenewal = std::string(kCa) + "/renewal-info";
inline const std::string kAcctUrl = std::string(kCa) + "/acct/1";

// DirectoryJson is a complete directory of the scripted CA.
inline std::string DirectoryJson() {
  return nlohmann::json{{"newNonce", kNonceUrl},   {"newAccount", kNewAccount},
                        {"newOrder", kNewOrder},   {"revokeCert", kRevoke},
                        {"keyChange", kKeyChange}, {"renewalInfo", kRenewal}}
      .dump();
}

// Resp builds a response; `content_type` empty sends none.
inline HttpResponse Resp(long status, std::string body, std::string content_type = "",
                         std::multimap<std::string, std::string> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  if (!content_type.empty()) {
    r.headers.emplace("content-type", std::move(content_type));
  }
  return r;
}

// Json builds a JSON response with optional extra headers.
inline HttpResponse Json(long status, const nlohmann::json& body,
                         std::multimap<std::string, std::string> headers = {}) {
  return Resp(status, body.dump(), "application/json", std::move(headers));
}

// ProblemResp builds an RFC 7807 answer of ACME error `short_type`.
inline HttpResponse ProblemResp(long status, const std::string& short_type,
                                std::multimap<std::string, std::string> headers = {}) {
  nlohmann::json p = {{"type", "urn:ietf:params:acme:error:" + short_type},
                      {"detail", "scripted " + short_type}};
  return Resp(status, p.dump(), "application/problem+json", std::move(headers));
}

// FakeCall is one request the client made.
struct FakeCall {
  std::string method;
  std::string url;
  std::string body;
};

// FakeHttp answers each "METHOD url" from a queue of scripted answers; when
// the queue is empty, the request's sticky answer (Always) is used. A HEAD
// of the nonce URL without a script gets 200 with a fresh Replay-Nonce.
// Anything else unscripted fails with a kFailure error naming the request,
// so a test sees an unexpected request instead of a hang.
class FakeHttp : public HttpClient {
 public:
  // On queues `answer` for the next `method` request of `url`.
  void On(const std::string& method, const std::string& url, Result<HttpResponse> answer) {
    queued_[method + " " + url].push_back(std::move(answer));
  }
  // Always answers every otherwise unscripted `method` request of `url`.
  void Always(const std::string& method, const std::string& url, Result<HttpResponse> answer) {
    sticky_.insert_or_assign(method + " " + url, std::move(answer));
  }

  Result<HttpResponse> Get(const std::string& url) override { return Answer("GET", url, ""); }
  Result<HttpResponse> Head(const std::string& url) override { return Answer("HEAD", url, ""); }
  Result<HttpResponse> Post(const std::string& url, std::string_view body,
                            std::string_view content_type) override {
    last_content_type = std::string(content_type);
    return Answer("POST", url, std::string(body));
  }

  // Count returns how many `method` requests of `url` were made.
  int Count(const std::string& method, const std::string& url) const {
    int n = 0;
    for (const FakeCall& c : calls) {
      n += (c.method == method && c.url == url) ? 1 : 0;
    }
    return n;
  }
  // Posts returns the bodies POSTed to `url`, in order.
  std::vector<std::string> Posts(const std::string& url) const {
    std::vector<std::string> out;
    for (const FakeCall& c : calls) {
      if (c.method == "POST" && c.url == url) {
        out.push_back(c.body);
      }
    }
    return out;
  }

  std::vector<FakeCall> calls;
  std::string last_content_type;
  int nonces_issued = 0;

 private:
  Result<HttpResponse> Answer(const std::string& method, const std::string& url,
                              std::string body) {
    calls.push_back({method, url, std::move(body)});
    std::string key = method + " " + url;
    auto q = queued_.find(key);
    if (q != queued_.end() && !q->second.empty()) {
      Result<HttpResponse> r = std::move(q->second.front());
      q->second.pop_front();
      return r;
    }
    auto s = sticky_.find(key);
    if (s != sticky_.end()) {
      return s->second;
    }
    if (method == "HEAD" && url == kNonceUrl) {
      return Resp(200, "", "", {{"replay-nonce", "auto-nonce-" + std::to_string(++nonces_issued)}});
    }
    return Err("unscripted request {} {}", method, url);
  }

  std::map<std::string, std::deque<Result<HttpResponse>>> queued_;
  std::map<std::string, Result<HttpResponse>> sticky_;
};

// JwsProtected decodes the protected header of a flattened JWS body.
inline nlohmann::json JwsProtected(const std::string& jws_body) {
  auto jws = nlohmann::json::parse(jws_body);
  auto raw = Base64UrlDecode(jws.at("protected").get<std::string>());
  return raw.ok() ? nlohmann::json::parse(*raw) : nlohmann::json();
}

// JwsPayload decodes the payload of a flattened JWS body ("" for
// POST-as-GET).
inline std::string JwsPayload(const std::string& jws_body) {
  auto jws = nlohmann::json::parse(jws_body);
  auto raw = Base64UrlDecode(jws.at("payload").get<std::string>());
  return raw.ok() ? *raw : std::string("<undecodable>");
}

}  // namespace bulkhead::acme::testing

#endif  // BULKHEAD_ACME_FAKE_HTTP_TEST_H_
