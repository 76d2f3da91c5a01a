// Unit tests of the RFC 8555 client state machine: nonces, badNonce retry,
// transient retries, polling and Retry-After, origin checks, and the error
// path of every step.
//
// These tests talk to a scripted HttpClient (acme/fake_http_test.h) rather
// than a real CA: each test needs the CA to give one particular malformed or
// unexpected answer at one particular step, which no real peer (Pebble
// included) can be made to do on demand. The full protocol against a real
// CA is covered by the Pebble integration tests.
#include "acme/client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "acme/fake_http_test.h"
#include "crypto/key.h"
#include "jose/signer.h"

namespace bulkhead::acme {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using namespace bulkhead::acme::testing;  // NOLINT: test helpers.

const std::string kOrderUrl = std::string(kCa) + "/order/1";
const std::string kAuthzUrl = std::string(kCa) + "/authz/1";
const std::string kChallUrl = std::string(kCa) + "/chall/1";
const std::string kFinalizeUrl = std::string(kCa) + "/order/1/finalize";
const std::string kCertUrl = std::string(kCa) + "/cert/1";

// StatusOf drops the value of a Result, keeping its error.
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.ok() ? OkStatus() : Status(r.error());
}

// kPem is a self-signed certificate (valid until 2126): a default chain
// the client's download check accepts.
const std::string kPem =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBgzCCASmgAwIBAgIUOD7nPa4A14IYBRYQMnJ1Q9pfEuEwCgYIKoZIzj0EAwIw\n"
    "FjEUMBIGA1UEAwwLY2xpZW50IHRlc3QwIBcNMjYxMjA3MjE1NjUzWhgPMjEyNjEx\n"
    "MTMyMTU2NTNaMBYxFDASBgNVBAMMC2NsaWVudCB0ZXN0MFkwEwYHKoZIzj0CAQYI\n"
    "KoZIzj0DAQcDQgAEZszXO1kAbt2n2NCh5QdV1aUcONcOtaiulhWpt9ufewq1kTDl\n"
    "Fj//EgAUi+DAl5rlxVPUDTrTQZ2lKA4doyXJU6NTMFEwHQYDVR0OBBYEFL3UM2FL\n"
    "vvXJX46tL+yZKzo5WDjvMB8GA1UdIwQYMBaAFL3UM2FLvvXJX46tL+yZKzo5WDjv\n"
    "MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAOIbGyieA+HgK1so\n"
    "PBivS3WeQeDB5sIv8uDtDRPKmfQKAiANGz3fT36rd4ZoR5yHC4sy6ouYU4vhG1/M\n"
    "XSsBsh+6PQ==\n"
    "-----END CERTIFICATE-----\n";

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

json OrderJson(const std::string& status, const std::string& name = "a.example",
               const std::string& authz = kAuthzUrl, const std::string& finalize = kFinalizeUrl,
               const std::string& cert = "") {
  json o = {{"status", status},
            {"identifiers", json::array({{{"type", "dns"}, {"value", name}}})},
            {"authorizations", json::array({authz})},
            {"finalize", finalize}};
  if (!cert.empty()) {
    o["certificate"] = cert;
  }
  return o;
}

json AuthzJson(const std::string& status, const std::string& challenge_status = "pending") {
  return {{"status", status},
          {"identifier", {{"type", "dns"}, {"value", "a.example"}}},
          {"challenges", json::array({{{"type", "http-01"},
                                       {"url", kChallUrl},
                                       {"status", challenge_status},
                                       {"token", "tok-1"}}})}};
}

json AccountJson(const std::string& status = "valid") {
  return {{"status", status}, {"contact", json::array({"mailto:a@example.com"})}};
}

// ClientTest runs a Client against FakeHttp with waits shrunk to
// milliseconds, so no test sleeps for more than a few of them.
class ClientTest : public ::testing::Test {
 protected:
  ClientTest() {
    auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
    EXPECT_TRUE(key.ok());
    auto signer = jose::NewSignerFromKey(std::move(key).value());
    EXPECT_TRUE(signer.ok());
    signer_ = std::move(signer).value();
    options_.max_bad_nonce_retries = 3;
    options_.poll_first_interval = milliseconds(1);
    options_.poll_max_interval = milliseconds(2);
    options_.poll_timeout = milliseconds(2000);
    options_.max_retry_after = seconds(60);
    options_.max_transient_retries = 2;
    options_.retry_first_backoff = milliseconds(1);
    options_.retry_max_backoff = milliseconds(2);
  }

  // MakeClient builds the client over the current options_ and, with
  // `init`, reads the scripted directory.
  Client& MakeClient(bool init = true) {
    client_ = std::make_unique<Client>(http_, *signer_, kDir, options_);
    if (init) {
      http_.On("GET", kDir, Json(200, json::parse(DirectoryJson())));
      Status st = client_->Init();
      EXPECT_TRUE(st.ok()) << st.error().message;
    }
    return *client_;
  }

  // Ready is MakeClient plus a known account URL.
  Client& Ready() {
    Client& c = MakeClient();
    c.SetAccountUrl(kAcctUrl);
    return c;
  }

  FakeHttp http_;
  std::unique_ptr<jose::Signer> signer_;
  ClientOptions options_;
  std::unique_ptr<Client> client_;
};

// ---- Directory ------------------------------------------------------------

TEST_F(ClientTest, InitReadsTheDirectory) {
  Client& c = MakeClient();
  EXPECT_EQ(c.directory().new_order, kNewOrder);
  EXPECT_EQ(c.directory().renewal_info, kRenewal);
  EXPECT_EQ(http_.Count("GET", kDir), 1);
}

TEST_F(ClientTest, InitRefusesANonHttpsDirectoryWithoutARequest) {
  Client c(http_, *signer_, "http://ca.test/dir", options_);
  Status st = c.Init();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kUsage);
  EXPECT_TRUE(Contains(st.error().message, "https")) << st.error().message;
  EXPECT_TRUE(http_.calls.empty());
}

TEST_F(ClientTest, InitRejectsEachBadDirectoryAnswer) {
  struct Case {
    const char* name;
    HttpResponse answer;
    const char* want;
  };
  json other_origin = json::parse(DirectoryJson());
  other_origin["newOrder"] = "https://evil.test/new-order";
  json plain_http = json::parse(DirectoryJson());
  plain_http["newNonce"] = "http://ca.test/nonce";
  json no_order = json::parse(DirectoryJson());
  no_order.erase("newOrder");
  const Case cases[] = {
      {"not JSON", Resp(200, "{\"newNonce\":", "application/json"), "not valid JSON"},
      {"HTML", Resp(200, "<html></html>", "text/html"), "content type \"text/html\""},
      {"no content type", Resp(200, DirectoryJson()), "where JSON was expected"},
      {"array", Resp(200, "[1,2]", "application/json"), "not a JSON object"},
      {"missing newOrder", Json(200, no_order), "newOrder"},
      {"plain http URL", Json(200, plain_http), "non-https"},
      {"URL of another origin", Json(200, other_origin), "outside its own origin"},
      {"404 problem", ProblemResp(404, "malformed"), "fetching the ACME directory"},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    FakeHttp http;
    // Always: an unusable directory is fetched again, up to the bound.
    http.Always("GET", kDir, tc.answer);
    Client c(http, *signer_, kDir, options_);
    Status st = c.Init();
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(Contains(st.error().message, tc.want)) << st.error().message;
  }
}

TEST_F(ClientTest, InitRetriesTransientFailuresOnly) {
  http_.On("GET", kDir, ProblemResp(503, "serverInternal"));
  http_.On("GET", kDir, Err("connection reset") /* not transient: would not retry */);
  Client c(http_, *signer_, kDir, options_);
  // The second answer is a non-transient transport error: the client must
  // stop there rather than retry it.
  Status st = c.Init();
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.error().message, "connection reset")) << st.error().message;
  EXPECT_EQ(http_.Count("GET", kDir), 2);

  FakeHttp http2;
  http2.On("GET", kDir, ErrCode(ErrorCode::kTransient, "timed out"));
  http2.On("GET", kDir, ProblemResp(502, "serverInternal"));
  http2.On("GET", kDir, Json(200, json::parse(DirectoryJson())));
  Client c2(http2, *signer_, kDir, options_);
  Status st2 = c2.Init();
  EXPECT_TRUE(st2.ok()) << st2.error().message;
  EXPECT_EQ(http2.Count("GET", kDir), 3);
}

TEST_F(ClientTest, InitGivesUpAfterTheTransientRetryCap) {
  http_.Always("GET", kDir, ProblemResp(503, "serverInternal"));
  Client c(http_, *signer_, kDir, options_);
  Status st = c.Init();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kTransient);
  EXPECT_EQ(http_.Count("GET", kDir), options_.max_transient_retries + 1);
}

TEST_F(ClientTest, RetryAfterBeyondTheCapFailsAtOnce) {
  options_.max_retry_after = seconds(5);
  http_.Always("GET", kDir, ProblemResp(429, "rateLimited", {{"retry-after", "3600"}}));
  Client c(http_, *signer_, kDir, options_);
  Status st = c.Init();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kTransient);
  EXPECT_TRUE(Contains(st.error().message, "rateLimited")) << st.error().message;
  EXPECT_EQ(http_.Count("GET", kDir), 1);
}

// ---- Nonces ---------------------------------------------------------------

TEST_F(ClientTest, FirstRequestFetchesANonceLaterOnesReuseTheAnswers) {
  Client& c = Ready();
  http_.On("POST", kAcctUrl, Json(200, AccountJson(), {{"replay-nonce", "from-answer-1"}}));
  http_.On("POST", kAcctUrl, Json(200, AccountJson()));
  ASSERT_TRUE(c.FetchAccount().ok());
  ASSERT_TRUE(c.FetchAccount().ok());
  EXPECT_EQ(http_.Count("HEAD", kNonceUrl), 1);
  auto posts = http_.Posts(kAcctUrl);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(JwsProtected(posts[0])["nonce"], "auto-nonce-1");
  EXPECT_EQ(JwsProtected(posts[1])["nonce"], "from-answer-1");
  EXPECT_EQ(JwsProtected(posts[0])["kid"], kAcctUrl);
  EXPECT_EQ(JwsProtected(posts[0])["url"], kAcctUrl);
  EXPECT_FALSE(JwsProtected(posts[0]).contains("jwk"));
  EXPECT_EQ(http_.last_content_type, "application/jose+json");
}

TEST_F(ClientTest, AMalformedReplayNonceIsNotUsed) {
  Client& c = Ready();
  http_.On("POST", kAcctUrl, Json(200, AccountJson(), {{"replay-nonce", "bad nonce!"}}));
  http_.On("POST", kAcctUrl, Json(200, AccountJson()));
  ASSERT_TRUE(c.FetchAccount().ok());
  ASSERT_TRUE(c.FetchAccount().ok());
  // The bad nonce was dropped, so the second request fetched a fresh one.
  EXPECT_EQ(http_.Count("HEAD", kNonceUrl), 2);
  EXPECT_EQ(JwsProtected(http_.Posts(kAcctUrl)[1])["nonce"], "auto-nonce-2");
}

TEST_F(ClientTest, NonceEndpointWithoutReplayNonceGivesUpAfterTheCap) {
  Client& c = Ready();
  http_.Always("HEAD", kNonceUrl, Resp(200, ""));
  auto r = c.FetchAccount();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTransient);
  EXPECT_TRUE(Contains(r.error().message, "Replay-Nonce")) << r.error().message;
  EXPECT_EQ(http_.Count("HEAD", kNonceUrl), options_.max_transient_retries + 1);
  EXPECT_EQ(http_.Count("POST", kAcctUrl), 0);
}

TEST_F(ClientTest, NonceEndpointWithAnErrorStatusFails) {
  Client& c = Ready();
  http_.Always("HEAD", kNonceUrl, Resp(404, ""));
  auto r = c.FetchAccount();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "HTTP status 404")) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kAcctUrl), 0);
}

TEST_F(ClientTest, BadNonceIsRetriedWithTheNonceFromTheRejection) {
  Client& c = Ready();
  http_.On("POST", kAcctUrl, ProblemResp(400, "badNonce", {{"replay-nonce", "fresh-after-bad"}}));
  http_.On("POST", kAcctUrl, Json(200, AccountJson()));
  auto r = c.FetchAccount();
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto posts = http_.Posts(kAcctUrl);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(JwsProtected(posts[1])["nonce"], "fresh-after-bad");
  EXPECT_EQ(http_.Count("HEAD", kNonceUrl), 1);
}

TEST_F(ClientTest, BadNonceGivesUpAfterTheCap) {
  Client& c = Ready();
  http_.Always("POST", kAcctUrl, ProblemResp(400, "badNonce"));
  auto r = c.FetchAccount();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kFailure);
  EXPECT_TRUE(Contains(r.error().message, "badNonce")) << r.error().message;
  EXPECT_TRUE(Contains(r.error().message, "reading the account")) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kAcctUrl), options_.max_bad_nonce_retries + 1);
}

// ---- Signed requests in general ---------------------------------------------

TEST_F(ClientTest, KidRequestsNeedAnAccountUrl) {
  Client& c = MakeClient();
  auto r = c.NewOrder({{"dns", "a.example"}});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "no account URL")) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kNewOrder), 0);
}

TEST_F(ClientTest, ServerErrorsAndLostAnswersAreRetried) {
  Client& c = Ready();
  http_.On("POST", kAcctUrl, ProblemResp(500, "serverInternal"));
  http_.On("POST", kAcctUrl, ErrCode(ErrorCode::kTransient, "connection dropped"));
  http_.On("POST", kAcctUrl, Json(200, AccountJson()));
  auto r = c.FetchAccount();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kAcctUrl), 3);
  // Each attempt is signed with its own nonce.
  auto posts = http_.Posts(kAcctUrl);
  EXPECT_NE(JwsProtected(posts[0])["nonce"], JwsProtected(posts[1])["nonce"]);
  EXPECT_NE(JwsProtected(posts[1])["nonce"], JwsProtected(posts[2])["nonce"]);
}

TEST_F(ClientTest, ClientProblemsAreNotRetried) {
  Client& c = Ready();
  http_.Always("POST", kAcctUrl, ProblemResp(403, "unauthorized"));
  auto r = c.FetchAccount();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kFailure);
  EXPECT_TRUE(Contains(r.error().message, "unauthorized")) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kAcctUrl), 1);
}

TEST_F(ClientTest, RateLimitedWithARetryAfterPastTheDeadlineFailsAtOnce) {
  Client& c = Ready();
  c.SetDeadline(steady_clock::now() + seconds(5));
  http_.Always("POST", kAcctUrl, ProblemResp(429, "rateLimited", {{"retry-after", "30"}}));
  auto start = steady_clock::now();
  auto r = c.FetchAccount();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTransient);
  EXPECT_TRUE(Contains(r.error().message, "retry after 30 seconds")) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kAcctUrl), 1);
  EXPECT_LT(steady_clock::now() - start, seconds(1));
}

// ---- Accounts -------------------------------------------------------------

TEST_F(ClientTest, NewAccountEmbedsTheJwkAndLearnsTheAccountUrl) {
  Client& c = MakeClient();
  http_.On("POST", kNewAccount, Json(201, AccountJson(), {{"location", "/acct/7"}}));
  bool created = false;
  auto r = c.NewAccount({"mailto:a@example.com"}, true, nullptr, &created);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(created);
  EXPECT_EQ(c.account_url(), std::string(kCa) + "/acct/7");
  EXPECT_EQ(r->url, std::string(kCa) + "/acct/7");
  auto post = http_.Posts(kNewAccount).at(0);
  json hdr = JwsProtected(post);
  EXPECT_TRUE(hdr.contains("jwk"));
  EXPECT_FALSE(hdr.contains("kid"));
  json payload = json::parse(JwsPayload(post));
  EXPECT_EQ(payload["termsOfServiceAgreed"], true);
  EXPECT_EQ(payload["contact"][0], "mailto:a@example.com");
  EXPECT_FALSE(payload.contains("externalAccountBinding"));
}

TEST_F(ClientTest, NewAccountFoundExistingReportsNotCreated) {
  Client& c = MakeClient();
  http_.On("POST", kNewAccount, Json(200, AccountJson(), {{"location", kAcctUrl}}));
  bool created = true;
  auto r = c.NewAccount({}, false, json{{"protected", "x"}}, &created);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(created);
  json payload = json::parse(JwsPayload(http_.Posts(kNewAccount).at(0)));
  EXPECT_FALSE(payload.contains("termsOfServiceAgreed"));
  EXPECT_EQ(payload["externalAccountBinding"]["protected"], "x");
}

TEST_F(ClientTest, NewAccountRejectsBadAnswers) {
  struct Case {
    const char* name;
    HttpResponse answer;
    const char* want;
  };
  const Case cases[] = {
      {"no Location", Json(201, AccountJson()), "no Location header"},
      {"Location of another origin",
       Json(201, AccountJson(), {{"location", "https://evil.test/acct/1"}}),
       "outside its own origin"},
      {"not JSON", Resp(201, "{oops", "application/json", {{"location", kAcctUrl}}),
       "not valid JSON"},
      {"unknown status", Json(201, AccountJson("sleepy"), {{"location", kAcctUrl}}),
       "\"sleepy\""},
      {"problem", ProblemResp(400, "invalidContact"), "invalidContact"},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    Client& c = MakeClient();
    http_.On("POST", kNewAccount, tc.answer);
    auto r = c.NewAccount({}, true, nullptr, nullptr);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(Contains(r.error().message, tc.want)) << r.error().message;
    EXPECT_TRUE(c.account_url().empty()) << c.account_url();
  }
}

TEST_F(ClientTest, FindAccountMapsAccountDoesNotExistToNotFound) {
  Client& c = MakeClient();
  http_.On("POST", kNewAccount, ProblemResp(400, "accountDoesNotExist"));
  auto r = c.FindAccount();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  json payload = json::parse(JwsPayload(http_.Posts(kNewAccount).at(0)));
  EXPECT_EQ(payload["onlyReturnExisting"], true);
}

TEST_F(ClientTest, FindAccountLearnsTheAccountUrl) {
  Client& c = MakeClient();
  http_.On("POST", kNewAccount, Json(200, AccountJson(), {{"location", kAcctUrl}}));
  auto r = c.FindAccount();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(c.account_url(), kAcctUrl);
}

TEST_F(ClientTest, FindAccountWithoutLocationFails) {
  // Without a Location the newAccount URL itself would become the "kid" of
  // every later request.
  Client& c = MakeClient();
  http_.On("POST", kNewAccount, Json(200, AccountJson()));
  auto r = c.FindAccount();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "Location")) << r.error().message;
  EXPECT_TRUE(c.account_url().empty()) << c.account_url();
}

TEST_F(ClientTest, AccountUpdatesSendTheirPayloads) {
  Client& c = Ready();
  http_.On("POST", kAcctUrl, Json(200, AccountJson()));
  http_.On("POST", kAcctUrl, Json(200, AccountJson("deactivated")));
  ASSERT_TRUE(c.UpdateAccount({"mailto:b@example.com"}).ok());
  auto d = c.DeactivateAccount();
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->status, "deactivated");
  auto posts = http_.Posts(kAcctUrl);
  EXPECT_EQ(json::parse(JwsPayload(posts[0]))["contact"][0], "mailto:b@example.com");
  EXPECT_EQ(json::parse(JwsPayload(posts[1]))["status"], "deactivated");
}

TEST_F(ClientTest, ChangeKeyNestsAJwsSignedByTheNewKey) {
  Client& c = Ready();
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  ASSERT_TRUE(key.ok());
  auto next = jose::NewSignerFromKey(std::move(key).value());
  ASSERT_TRUE(next.ok());
  http_.On("POST", kKeyChange, Json(200, AccountJson()));
  Status st = c.ChangeKey([&](const jose::SignRequest& r) { return (*next)->Sign(r); });
  ASSERT_TRUE(st.ok()) << st.error().message;
  std::string outer = http_.Posts(kKeyChange).at(0);
  EXPECT_EQ(JwsProtected(outer)["kid"], kAcctUrl);
  std::string inner = JwsPayload(outer);
  json inner_hdr = JwsProtected(inner);
  EXPECT_EQ(inner_hdr["jwk"], (*next)->Jwk());
  EXPECT_FALSE(inner_hdr.contains("nonce"));
  json inner_payload = json::parse(JwsPayload(inner));
  EXPECT_EQ(inner_payload["account"], kAcctUrl);
  EXPECT_EQ(inner_payload["oldKey"], signer_->Jwk());
}

// ---- Orders ---------------------------------------------------------------

TEST_F(ClientTest, NewOrderSendsOptionsAndChecksTheAnswer) {
  Client& c = Ready();
  http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
  auto r = c.NewOrder({{"dns", "a.example"}}, {.profile = "short", .replaces = "aa.bb"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->url, kOrderUrl);
  EXPECT_EQ(r->authorizations, std::vector<std::string>{kAuthzUrl});
  json payload = json::parse(JwsPayload(http_.Posts(kNewOrder).at(0)));
  EXPECT_EQ(payload["profile"], "short");
  EXPECT_EQ(payload["replaces"], "aa.bb");
  EXPECT_EQ(payload["identifiers"][0]["value"], "a.example");
}

TEST_F(ClientTest, NewOrderRejectsBadAnswers) {
  struct Case {
    const char* name;
    HttpResponse answer;
    const char* want;
  };
  const std::multimap<std::string, std::string> loc = {{"location", kOrderUrl}};
  const Case cases[] = {
      {"no Location", Json(201, OrderJson("pending")), "no Location header"},
      {"Location of another origin",
       Json(201, OrderJson("pending"), {{"location", "https://evil.test/order/1"}}),
       "outside its own origin"},
      {"not JSON", Resp(201, "[", "application/json", loc), "not valid JSON"},
      {"wrong content type", Resp(201, OrderJson("pending").dump(), "text/plain", loc),
       "content type \"text/plain\""},
      {"unknown status", Json(201, OrderJson("almost"), loc), "\"almost\""},
      {"other identifiers", Json(201, OrderJson("pending", "b.example"), loc),
       "other identifiers"},
      {"authorization of another origin",
       Json(201, OrderJson("pending", "a.example", "https://evil.test/authz"), loc),
       "authorization URL outside"},
      {"finalize of another origin",
       Json(201, OrderJson("pending", "a.example", kAuthzUrl, "https://ca.test:8443/fin"), loc),
       "finalize URL outside"},
      {"valid without certificate", Json(201, OrderJson("valid"), loc), "certificate URL"},
      {"problem", ProblemResp(403, "rejectedIdentifier"), "creating the order"},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    Client& c = Ready();
    http_.On("POST", kNewOrder, tc.answer);
    auto r = c.NewOrder({{"dns", "a.example"}});
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(Contains(r.error().message, tc.want)) << r.error().message;
  }
}

// Every step that reads a JSON resource refuses a body that is not JSON and
// a content type that is not JSON, naming the step's URL.
TEST_F(ClientTest, EveryJsonStepRejectsBadJsonAndWrongContentType) {
  struct Step {
    const char* name;
    std::string url;
    std::function<Status(Client&)> run;
    bool read;  // An idempotent read: asked 1 + max_transient_retries times.
  };
  Order order;
  order.url = kOrderUrl;
  order.finalize = kFinalizeUrl;
  order.authorizations = {kAuthzUrl};
  const Step steps[] = {
      {"account", kAcctUrl, [](Client& c) { return StatusOf(c.FetchAccount()); }, false},
      {"order", kOrderUrl, [](Client& c) { return StatusOf(c.FetchOrder(kOrderUrl)); }, true},
      {"authorization", kAuthzUrl,
       [](Client& c) { return StatusOf(c.FetchAuthorization(kAuthzUrl)); }, true},
      {"authorization poll", kAuthzUrl,
       [](Client& c) { return StatusOf(c.PollAuthorization(kAuthzUrl)); }, true},
      {"order poll", kOrderUrl,
       [](Client& c) { return StatusOf(c.PollOrder(kOrderUrl, true)); }, true},
      {"finalize", kFinalizeUrl,
       [&order](Client& c) { return StatusOf(c.Finalize(order, "csr")); }, false},
  };
  for (const Step& step : steps) {
    for (bool bad_type : {false, true}) {
      SCOPED_TRACE(std::string(step.name) + (bad_type ? ": content type" : ": JSON"));
      Client& c = Ready();
      int asks = step.read ? 1 + options_.max_transient_retries : 1;
      for (int i = 0; i < asks; ++i) {
        http_.On("POST", step.url,
                 bad_type ? Resp(200, "{}", "text/html")
                          : Resp(200, "{\"status\":", "application/json"));
      }
      int before = http_.Count("POST", step.url);
      Status st = step.run(c);
      EXPECT_EQ(http_.Count("POST", step.url) - before, asks);
      ASSERT_FALSE(st.ok());
      EXPECT_TRUE(Contains(st.error().message, bad_type ? "content type" : "not valid JSON"))
          << st.error().message;
    }
  }
}

TEST_F(ClientTest, UnknownStatusValuesAreRejected) {
  Client& c = Ready();
  json bad_challenge = AuthzJson("pending", "thinking");
  // Each is a read the client repeats before it gives up.
  for (int i = 0; i <= options_.max_transient_retries; ++i) {
    http_.On("POST", kAuthzUrl, Json(200, AuthzJson("maybe")));
  }
  for (int i = 0; i <= options_.max_transient_retries; ++i) {
    http_.On("POST", kAuthzUrl, Json(200, bad_challenge));
    http_.On("POST", kOrderUrl, Json(200, OrderJson("done")));
  }
  auto a = c.FetchAuthorization(kAuthzUrl);
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(Contains(a.error().message, "\"maybe\"")) << a.error().message;
  auto b = c.FetchAuthorization(kAuthzUrl);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(Contains(b.error().message, "\"thinking\"")) << b.error().message;
  auto o = c.FetchOrder(kOrderUrl);
  ASSERT_FALSE(o.ok());
  EXPECT_TRUE(Contains(o.error().message, "\"done\"")) << o.error().message;
}

TEST_F(ClientTest, UrlsOfAnotherOriginAreNeverRequested) {
  Client& c = Ready();
  const std::string evil = "https://evil.test/x";
  EXPECT_FALSE(c.FetchOrder(evil).ok());
  EXPECT_FALSE(c.FetchAuthorization(evil).ok());
  EXPECT_FALSE(c.RespondToChallenge({"http-01", evil, "pending", "t", nullptr}).ok());
  EXPECT_FALSE(c.DownloadChains(evil, false).ok());
  // Same host, other scheme or port, is another origin too.
  EXPECT_FALSE(c.FetchOrder("https://ca.test:444/order/1").ok());
  Order order;
  order.url = kOrderUrl;
  order.finalize = "https://evil.test/finalize";
  auto f = c.Finalize(order, "csr");
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(Contains(f.error().message, "finalize URL outside")) << f.error().message;
  for (const FakeCall& call : http_.calls) {
    EXPECT_EQ(UrlOrigin(call.url), kCa) << call.method << " " << call.url;
  }
}

TEST_F(ClientTest, FetchedOrderNamingAnotherOriginIsRefused) {
  Client& c = Ready();
  http_.On("POST", kOrderUrl,
           Json(200, OrderJson("valid", "a.example", kAuthzUrl, kFinalizeUrl,
                               "https://evil.test/cert")));
  auto r = c.FetchOrder(kOrderUrl);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "certificate URL outside")) << r.error().message;
}

TEST_F(ClientTest, RespondToChallengePostsAnEmptyObject) {
  Client& c = Ready();
  http_.On("POST", kChallUrl, Json(200, {{"type", "http-01"}, {"status", "processing"}}));
  Status st = c.RespondToChallenge({"http-01", kChallUrl, "pending", "tok-1", nullptr});
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(JwsPayload(http_.Posts(kChallUrl).at(0)), "{}");

  http_.On("POST", kChallUrl, ProblemResp(400, "malformed"));
  Status bad = c.RespondToChallenge({"http-01", kChallUrl, "pending", "tok-1", nullptr});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.error().message, "answering challenge " + kChallUrl))
      << bad.error().message;
}

TEST_F(ClientTest, KeyAuthorizationIsTokenDotThumbprint) {
  Client& c = MakeClient(false);
  EXPECT_EQ(c.KeyAuthorization("tok"), "tok." + signer_->Thumbprint());
}

// ---- Polling --------------------------------------------------------------

TEST_F(ClientTest, PollAuthorizationWaitsWhilePending) {
  Client& c = Ready();
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("pending")));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("pending", "processing")));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("valid", "valid")));
  auto r = c.PollAuthorization(kAuthzUrl);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, "valid");
  EXPECT_EQ(http_.Count("POST", kAuthzUrl), 3);
  EXPECT_EQ(JwsPayload(http_.Posts(kAuthzUrl)[0]), "");  // POST-as-GET.
}

TEST_F(ClientTest, PollAuthorizationReturnsAnInvalidAuthorization) {
  Client& c = Ready();
  json invalid = AuthzJson("invalid", "invalid");
  invalid["challenges"][0]["error"] = {{"type", "urn:ietf:params:acme:error:connection"}};
  http_.On("POST", kAuthzUrl, Json(200, invalid));
  auto r = c.PollAuthorization(kAuthzUrl);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, "invalid");
  EXPECT_EQ(r->challenges.at(0).error["type"], "urn:ietf:params:acme:error:connection");
}

TEST_F(ClientTest, PollAuthorizationGivesUpAtThePollTimeout) {
  options_.poll_timeout = milliseconds(30);
  Client& c = Ready();
  http_.Always("POST", kAuthzUrl, Json(200, AuthzJson("pending")));
  auto start = steady_clock::now();
  auto r = c.PollAuthorization(kAuthzUrl);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTransient);
  EXPECT_TRUE(Contains(r.error().message, "polling timeout or the deadline")) << r.error().message;
  EXPECT_GT(http_.Count("POST", kAuthzUrl), 2);
  EXPECT_LT(steady_clock::now() - start, seconds(1));
}

TEST_F(ClientTest, PollHonoursRetryAfterBeyondTheTimeoutByGivingUp) {
  // The CA asks for 30 s; the poll timeout is 2 s: asking again early would
  // ignore the CA, so the client stops after the first answer.
  Client& c = Ready();
  http_.On("POST", kOrderUrl, Json(200, OrderJson("processing"), {{"retry-after", "30"}}));
  http_.On("POST", kOrderUrl, Json(200, OrderJson("valid", "a.example", kAuthzUrl, kFinalizeUrl,
                                                  kCertUrl)));
  auto start = steady_clock::now();
  auto r = c.PollOrder(kOrderUrl, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(http_.Count("POST", kOrderUrl), 1);
  EXPECT_LT(steady_clock::now() - start, seconds(1));
}

TEST_F(ClientTest, PollCapsRetryAfterAtMaxRetryAfter) {
  options_.max_retry_after = seconds(0);
  Client& c = Ready();
  http_.On("POST", kOrderUrl, Json(200, OrderJson("processing"), {{"retry-after", "3600"}}));
  http_.On("POST", kOrderUrl,
           Json(200, OrderJson("processing"), {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}));
  http_.On("POST", kOrderUrl, Json(200, OrderJson("valid", "a.example", kAuthzUrl, kFinalizeUrl,
                                                  kCertUrl)));
  auto start = steady_clock::now();
  auto r = c.PollOrder(kOrderUrl, false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->certificate, kCertUrl);
  EXPECT_EQ(http_.Count("POST", kOrderUrl), 3);
  EXPECT_LT(steady_clock::now() - start, seconds(1));
}

TEST_F(ClientTest, PollOrderWaitsForPendingOnlyWhenAsked) {
  Client& c = Ready();
  http_.On("POST", kOrderUrl, Json(200, OrderJson("pending")));
  auto now = c.PollOrder(kOrderUrl, /*wait_pending=*/false);
  ASSERT_TRUE(now.ok()) << now.error().message;
  EXPECT_EQ(now->status, "pending");
  EXPECT_EQ(http_.Count("POST", kOrderUrl), 1);

  http_.On("POST", kOrderUrl, Json(200, OrderJson("pending")));
  http_.On("POST", kOrderUrl, Json(200, OrderJson("ready")));
  auto waited = c.PollOrder(kOrderUrl, /*wait_pending=*/true);
  ASSERT_TRUE(waited.ok()) << waited.error().message;
  EXPECT_EQ(waited->status, "ready");
  EXPECT_EQ(http_.Count("POST", kOrderUrl), 3);
}

TEST_F(ClientTest, PollOrderReturnsAnOrderThatBecameInvalid) {
  Client& c = Ready();
  json invalid = OrderJson("invalid");
  invalid["error"] = {{"type", "urn:ietf:params:acme:error:badCSR"}};
  http_.On("POST", kOrderUrl, Json(200, OrderJson("processing")));
  http_.On("POST", kOrderUrl, Json(200, invalid));
  auto r = c.PollOrder(kOrderUrl, false);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, "invalid");
  EXPECT_EQ(r->error["type"], "urn:ietf:params:acme:error:badCSR");
}

TEST_F(ClientTest, PollingStopsAtTheClientDeadline) {
  // SetDeadline bounds every wait of the client, polls included, even when
  // the poll timeout is longer.
  options_.poll_timeout = seconds(3);
  Client& c = Ready();
  c.SetDeadline(steady_clock::now() + milliseconds(30));
  http_.Always("POST", kOrderUrl, Json(200, OrderJson("processing")));
  http_.Always("POST", kAuthzUrl, Json(200, AuthzJson("pending")));
  auto start = steady_clock::now();
  auto o = c.PollOrder(kOrderUrl, false);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, ErrorCode::kTransient);
  EXPECT_TRUE(Contains(o.error().message, "the deadline")) << o.error().message;
  auto a = c.PollAuthorization(kAuthzUrl);
  ASSERT_FALSE(a.ok());
  EXPECT_LT(steady_clock::now() - start, seconds(1));
}

// ---- Finalize and download ------------------------------------------------

TEST_F(ClientTest, FinalizeSendsTheCsrAndReadsTheOrder) {
  Client& c = Ready();
  Order order;
  order.url = kOrderUrl;
  order.finalize = kFinalizeUrl;
  order.authorizations = {kAuthzUrl};
  http_.On("POST", kFinalizeUrl, Json(200, OrderJson("processing")));
  auto r = c.Finalize(order, std::string("\x30\x82\xff", 3));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, "processing");
  EXPECT_EQ(r->url, kOrderUrl);
  json payload = json::parse(JwsPayload(http_.Posts(kFinalizeUrl).at(0)));
  EXPECT_EQ(payload["csr"], Base64UrlEncode(std::string("\x30\x82\xff", 3)));
}

TEST_F(ClientTest, FinalizeDoesNotResendAfterALostAnswer) {
  // The CSR may have arrived; the caller reads the order to find out.
  Client& c = Ready();
  Order order;
  order.url = kOrderUrl;
  order.finalize = kFinalizeUrl;
  http_.On("POST", kFinalizeUrl, ErrCode(ErrorCode::kTransient, "connection reset"));
  auto r = c.Finalize(order, "csr");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTransient);
  EXPECT_EQ(http_.Count("POST", kFinalizeUrl), 1);
}

TEST_F(ClientTest, FinalizeReportsTheProblem) {
  Client& c = Ready();
  Order order;
  order.url = kOrderUrl;
  order.finalize = kFinalizeUrl;
  http_.On("POST", kFinalizeUrl, ProblemResp(403, "orderNotReady"));
  auto r = c.Finalize(order, "csr");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "finalizing order " + kOrderUrl)) << r.error().message;
  EXPECT_TRUE(Contains(r.error().message, "orderNotReady")) << r.error().message;
}

TEST_F(ClientTest, DownloadChainsFetchesAlternatesOnlyWhenAsked) {
  Client& c = Ready();
  HttpResponse cert = Resp(200, kPem, "application/pem-certificate-chain",
                           {{"link", "</cert/1/alt/1>;rel=\"alternate\""},
                            {"link", "<https://ca.test/cert/1/alt/2>;rel=\"alternate\""},
                            {"link", "<https://ca.test/dir>;rel=\"index\""}});
  http_.On("POST", kCertUrl, cert);
  auto one = c.DownloadChains(kCertUrl, false);
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(*one, std::vector<std::string>{kPem});
  EXPECT_EQ(http_.calls.back().url, kCertUrl);

  http_.On("POST", kCertUrl, cert);
  http_.On("POST", std::string(kCa) + "/cert/1/alt/1", Resp(200, "ALT1"));
  http_.On("POST", std::string(kCa) + "/cert/1/alt/2", Resp(200, "ALT2"));
  auto all = c.DownloadChains(kCertUrl, true);
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(*all, (std::vector<std::string>{kPem, "ALT1", "ALT2"}));
}

TEST_F(ClientTest, DownloadChainsBoundsAndChecksAlternates) {
  Client& c = Ready();
  std::multimap<std::string, std::string> links;
  for (int i = 0; i < 10; ++i) {
    std::string url = std::string(kCa) + "/alt/" + std::to_string(i);
    links.emplace("link", "<" + url + ">;rel=alternate");
    http_.Always("POST", url, Resp(200, "ALT"));
  }
  http_.On("POST", kCertUrl, Resp(200, kPem, "", links));
  auto r = c.DownloadChains(kCertUrl, true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), 1u + Client::kMaxAlternates);

  http_.On("POST", kCertUrl,
           Resp(200, kPem, "", {{"link", "<https://evil.test/alt>;rel=alternate"}}));
  auto evil = c.DownloadChains(kCertUrl, true);
  ASSERT_FALSE(evil.ok());
  EXPECT_TRUE(Contains(evil.error().message, "alternate chain URL outside"))
      << evil.error().message;
}

TEST_F(ClientTest, DownloadChainsReportsAProblem) {
  Client& c = Ready();
  http_.On("POST", kCertUrl, ProblemResp(404, "malformed"));
  auto r = c.DownloadChains(kCertUrl, false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "downloading certificate " + kCertUrl))
      << r.error().message;
}

// ---- Unusable answers to reads --------------------------------------------

// Garbage is one kind of unusable 200 answer a CA (or a box in between)
// can give: an HTML page, a body cut short with matching framing, or a body
// over the size cap (the transport stops reading at the cap, so 2 MiB and
// 512 MiB end the same way).
struct Garbage {
  const char* name;
  std::function<Result<HttpResponse>(const std::string& url, const std::string& good_body)> make;
  const char* reason;  // What the final error says about it.
};

std::vector<Garbage> GarbageKinds() {
  return {
      {"HTML 200",
       [](const std::string&, const std::string&) -> Result<HttpResponse> {
         return Resp(200, "<html><body>502 Bad Gateway</body></html>", "text/html");
       },
       "text/html"},
      {"half body",
       [](const std::string&, const std::string& good) -> Result<HttpResponse> {
         return Resp(200, good.substr(0, good.size() / 2), "application/json");
       },
       ""},
      {"oversized",
       [](const std::string& url, const std::string&) -> Result<HttpResponse> {
         return ResponseTooLarge(url, 1 << 20);
       },
       "exceeds the limit of 1048576 bytes"},
  };
}

// ReadStep is one idempotent read of the client and a good answer to it.
struct ReadStep {
  const char* name;
  std::string method;
  std::string url;
  HttpResponse good;
  const char* half_reason;  // What a cut-off body is refused for.
  bool checks_type;         // Whether HTML is refused for its content type.
  std::function<Status()> run;
};

// Every idempotent read repeats an unusable answer like a 5xx: garbage
// once, then a good answer, succeeds with exactly two requests; garbage
// every time fails after 1 + max_transient_retries requests with the last
// reason, naming what was fetched.
TEST_F(ClientTest, EveryReadRetriesAnUnusableAnswer) {
  const std::string renewal_url = kRenewal + "/aa.bb";
  auto parses_as_json = [](const HttpResponse& r) -> Status {
    if (!json::accept(r.body)) {
      return Err("renewalInfo is not valid JSON");
    }
    return OkStatus();
  };
  HttpResponse cert = Resp(200, kPem, "application/pem-certificate-chain");
  const ReadStep steps[] = {
      {"directory", "GET", kDir, Json(200, json::parse(DirectoryJson())), "not valid JSON", true,
       [this] { return MakeClient(false).Init(); }},
      {"order", "POST", kOrderUrl, Json(200, OrderJson("ready")), "not valid JSON", true,
       [this] { return StatusOf(Ready().FetchOrder(kOrderUrl)); }},
      {"authorization", "POST", kAuthzUrl, Json(200, AuthzJson("pending")), "not valid JSON", true,
       [this] { return StatusOf(Ready().FetchAuthorization(kAuthzUrl)); }},
      {"authorization poll", "POST", kAuthzUrl, Json(200, AuthzJson("valid", "valid")),
       "not valid JSON", true,
       [this] { return StatusOf(Ready().PollAuthorization(kAuthzUrl)); }},
      {"order poll", "POST", kOrderUrl, Json(200, OrderJson("ready")), "not valid JSON", true,
       [this] { return StatusOf(Ready().PollOrder(kOrderUrl, true)); }},
      {"certificate", "POST", kCertUrl, cert, "certificate from", false,
       [this] { return StatusOf(Ready().DownloadChains(kCertUrl, false)); }},
      {"renewalInfo", "GET", renewal_url,
       Json(200, {{"suggestedWindow", {{"start", "x"}, {"end", "y"}}}}),
       "renewalInfo is not valid JSON", true, [this, &parses_as_json] {
         return StatusOf(Ready().FetchRenewalInfo("aa.bb", parses_as_json));
       }},
  };
  const int bound = 1 + options_.max_transient_retries;
  for (const ReadStep& step : steps) {
    for (const Garbage& g : GarbageKinds()) {
      SCOPED_TRACE(std::string(step.name) + ": " + g.name);
      Result<HttpResponse> bad = g.make(step.url, step.good.body);
      bool by_type = std::string(g.name) == "HTML 200" && step.checks_type;
      std::string reason = g.reason[0] != '\0' && (by_type || std::string(g.name) == "oversized")
                               ? g.reason
                               : step.half_reason;

      http_.On(step.method, step.url, bad);
      http_.On(step.method, step.url, step.good);
      int before = http_.Count(step.method, step.url);
      Status st = step.run();
      EXPECT_TRUE(st.ok()) << st.error().message;
      EXPECT_EQ(http_.Count(step.method, step.url) - before, 2);

      for (int i = 0; i < bound; ++i) {
        http_.On(step.method, step.url, bad);
      }
      before = http_.Count(step.method, step.url);
      st = step.run();
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(http_.Count(step.method, step.url) - before, bound);
      EXPECT_TRUE(Contains(st.error().message, reason)) << st.error().message;
      EXPECT_TRUE(Contains(st.error().message, step.url)) << st.error().message;
    }
  }
}

// A request that changes state is not repeated for an unusable answer: a
// second newOrder or finalize is not a read, and the caller settles a
// garbled answer by reading the state (issuance.cc polls the order).
TEST_F(ClientTest, AStateChangingRequestIsNotRetriedForAnUnusableAnswer) {
  Order order;
  order.url = kOrderUrl;
  order.finalize = kFinalizeUrl;
  order.authorizations = {kAuthzUrl};
  struct Step {
    const char* name;
    std::string url;
    HttpResponse good;
    std::function<Status(Client&)> run;
  };
  const Step steps[] = {
      {"newOrder", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}),
       [](Client& c) { return StatusOf(c.NewOrder({{"dns", "a.example"}})); }},
      {"finalize", kFinalizeUrl, Json(200, OrderJson("processing")),
       [&order](Client& c) { return StatusOf(c.Finalize(order, "csr")); }},
  };
  for (const Step& step : steps) {
    for (const Garbage& g : GarbageKinds()) {
      SCOPED_TRACE(std::string(step.name) + ": " + g.name);
      Client& c = Ready();
      Result<HttpResponse> bad = g.make(step.url, step.good.body);
      if (bad.ok()) {
        for (const auto& [name, value] : step.good.headers) {
          if (name != "content-type") {
            bad->headers.emplace(name, value);  // The Location of newOrder.
          }
        }
      }
      http_.On("POST", step.url, bad);
      int before = http_.Count("POST", step.url);
      Status st = step.run(c);
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(http_.Count("POST", step.url) - before, 1);
      std::string reason = g.reason[0] != '\0' ? g.reason : "not valid JSON";
      EXPECT_TRUE(Contains(st.error().message, reason)) << st.error().message;
    }
  }
}

// ---- Renewal information and revocation -----------------------------------

TEST_F(ClientTest, FetchRenewalInfo) {
  Client& c = Ready();
  http_.On("GET", kRenewal + "/aa.bb",
           Json(200, {{"suggestedWindow", {{"start", "x"}, {"end", "y"}}}}));
  auto ok = c.FetchRenewalInfo("aa.bb");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  http_.On("GET", kRenewal + "/aa.bb", ProblemResp(404, "malformed"));
  auto missing = c.FetchRenewalInfo("aa.bb");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Contains(missing.error().message, "fetching renewal information"))
      << missing.error().message;
  http_.On("GET", kRenewal + "/aa.bb", Resp(200, "{}", "text/plain"));
  EXPECT_FALSE(c.FetchRenewalInfo("aa.bb").ok());

  FakeHttp http;
  json dir = json::parse(DirectoryJson());
  dir.erase("renewalInfo");
  http.On("GET", kDir, Json(200, dir));
  Client no_ari(http, *signer_, kDir, options_);
  ASSERT_TRUE(no_ari.Init().ok());
  auto none = no_ari.FetchRenewalInfo("aa.bb");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
}

TEST_F(ClientTest, AnUnauthenticatedClientReadsButNeverSigns) {
  FakeHttp http;
  http.On("GET", kDir, Json(200, json::parse(DirectoryJson())));
  http.On("GET", kRenewal + "/aa.bb",
          Json(200, {{"suggestedWindow", {{"start", "x"}, {"end", "y"}}}}));
  Client c(http, kDir, options_);
  ASSERT_TRUE(c.Init().ok());
  EXPECT_TRUE(c.FetchRenewalInfo("aa.bb").ok());
  c.SetAccountUrl(kAcctUrl);
  auto order = c.NewOrder({Identifier{"dns", "a.example"}});
  ASSERT_FALSE(order.ok());
  EXPECT_TRUE(Contains(order.error().message, "unauthenticated")) << order.error().message;
  EXPECT_FALSE(c.ChangeKey([&](const jose::SignRequest& r) { return signer_->Sign(r); }).ok());
  EXPECT_EQ(c.KeyAuthorization("tok"), "");
  EXPECT_EQ(http.Count("POST", kNewOrder), 0);
}

TEST_F(ClientTest, RevokeSignsWithTheAccountOrTheCertificateKey) {
  Client& c = Ready();
  http_.On("POST", kRevoke, Resp(200, ""));
  ASSERT_TRUE(c.Revoke("DER", 1, nullptr).ok());
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  ASSERT_TRUE(key.ok());
  auto cert_signer = jose::NewSignerFromKey(std::move(key).value());
  ASSERT_TRUE(cert_signer.ok());
  http_.On("POST", kRevoke, Resp(200, ""));
  ASSERT_TRUE(c.Revoke("DER", 4, cert_signer->get()).ok());
  auto posts = http_.Posts(kRevoke);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(JwsProtected(posts[0])["kid"], kAcctUrl);
  EXPECT_EQ(JwsProtected(posts[1])["jwk"], (*cert_signer)->Jwk());
  json payload = json::parse(JwsPayload(posts[1]));
  EXPECT_EQ(payload["reason"], 4);
  EXPECT_EQ(payload["certificate"], Base64UrlEncode("DER"));

  http_.On("POST", kRevoke, ProblemResp(400, "alreadyRevoked"));
  Status again = c.Revoke("DER", 1, nullptr);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(Contains(again.error().message, "alreadyRevoked")) << again.error().message;
}

TEST(ClientRevocationReasonTest, NamesAndCodes) {
  EXPECT_EQ(*RevocationReason("unspecified"), 0);
  EXPECT_EQ(*RevocationReason("keyCompromise"), 1);
  EXPECT_EQ(*RevocationReason("affiliationChanged"), 3);
  EXPECT_EQ(*RevocationReason("superseded"), 4);
  EXPECT_EQ(*RevocationReason("cessationOfOperation"), 5);
  auto bad = RevocationReason("KeyCompromise");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kUsage);
  EXPECT_FALSE(RevocationReason("").ok());
}

}  // namespace
}  // namespace bulkhead::acme
