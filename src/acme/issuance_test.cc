// Unit tests of one order end to end (ObtainCertificate) and of the chain
// choice and checks (SelectChain, CheckChain).
//
// ObtainCertificate runs against a scripted HttpClient (acme/fake_http_test.h)
// and an in-memory challenge publisher rather than a real CA: each test needs
// the CA to answer one step in one particular way (an authorization that
// fails, an order that turns invalid, a lost finalize answer, a certificate
// for another key), which no real peer (Pebble included) can be made to do on
// demand. The certificates are real, made with OpenSSL for each test. The
// full flow against a real CA is covered by the Pebble integration tests.
#include "acme/issuance.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "acme/fake_http_test.h"
#include "crypto/key.h"
#include "crypto/ossl.h"
#include "jose/signer.h"

namespace bulkhead::acme {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using namespace bulkhead::acme::testing;  // NOLINT: test helpers.

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- Test certificates ------------------------------------------------------

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

crypto::PrivateKey NewKey() {
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  EXPECT_TRUE(key.ok());
  return std::move(key).value();
}

// TestCert is one made certificate: its OpenSSL object and its PEM.
struct TestCert {
  crypto::X509Ptr x509;
  std::string pem;
};

// Issue makes a certificate named `cn` for `key`, signed by `issuer_key`
// and naming `issuer` (null: self-signed). `san` is OpenSSL config syntax.
TestCert Issue(const std::string& cn, const crypto::PrivateKey& key,
               const crypto::PrivateKey& issuer_key, const TestCert* issuer,
               const std::string& san = "", int64_t not_before = Now() - 3600,
               int64_t not_after = Now() + 30 * 86400) {
  static long serial = 1;
  crypto::X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_x509 = issuer != nullptr ? issuer->x509.get() : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_x509));
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(not_after));
  X509_set_pubkey(cert.get(), key.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_x509, cert.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    ASSERT_NE(ext, nullptr) << value;
    EXPECT_EQ(X509_add_ext(cert.get(), ext, -1), 1);
    X509_EXTENSION_free(ext);
  };
  add(NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    add(NID_authority_key_identifier, "keyid:always");
  }
  if (san.empty()) {
    add(NID_basic_constraints, "critical,CA:TRUE");
  } else {
    add(NID_subject_alt_name, san);
  }
  EXPECT_GT(X509_sign(cert.get(), issuer_key.get(), EVP_sha256()), 0);
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_X509(bio.get(), cert.get()), 1);
  return {std::move(cert), crypto::BioContents(bio.get())};
}

std::vector<crypto::CertInfo> Parse(const std::string& pem) {
  auto chain = crypto::ParsePemChain(pem);
  EXPECT_TRUE(chain.ok()) << chain.error().message;
  return chain.ok() ? *chain : std::vector<crypto::CertInfo>{};
}

// Pki is a root, an intermediate and the domain key, with a leaf maker.
class Pki {
 public:
  explicit Pki(const std::string& root_cn = "Test Root")
      : root_key_(NewKey()),
        int_key_(NewKey()),
        domain_key_(NewKey()),
        root_(Issue(root_cn, root_key_, root_key_, nullptr)),
        int_(Issue(root_cn + " Intermediate", int_key_, root_key_, &root_)) {}

  // Leaf issues a certificate for the domain key (or `key`) from the
  // intermediate.
  TestCert Leaf(const std::string& san, int64_t not_before = Now() - 3600,
                int64_t not_after = Now() + 30 * 86400,
                const crypto::PrivateKey* key = nullptr) const {
    return Issue("leaf", key != nullptr ? *key : domain_key_, int_key_, &int_, san, not_before,
                 not_after);
  }

  std::string SpkiDer() const {
    auto der = domain_key_.PublicKeyDer();
    EXPECT_TRUE(der.ok());
    return der.ok() ? *der : "";
  }

  const crypto::PrivateKey& domain_key() const { return domain_key_; }
  const TestCert& root() const { return root_; }
  const TestCert& intermediate() const { return int_; }

 private:
  crypto::PrivateKey root_key_;
  crypto::PrivateKey int_key_;
  crypto::PrivateKey domain_key_;
  TestCert root_;
  TestCert int_;
};

// ---- SelectChain ----------------------------------------------------------

crypto::CertInfo IssuedBy(const std::string& issuer_cn) {
  crypto::CertInfo c;
  c.issuer_cn = issuer_cn;
  return c;
}

TEST(IssuanceSelectChainTest, EmptyPreferenceTakesTheDefault) {
  std::vector<std::vector<crypto::CertInfo>> chains = {{IssuedBy("Int A"), IssuedBy("Root A")},
                                                       {IssuedBy("Int B"), IssuedBy("Root B")}};
  EXPECT_EQ(SelectChain(chains, ""), 0u);
  EXPECT_EQ(SelectChain({}, ""), 0u);
}

TEST(IssuanceSelectChainTest, PicksTheChainWhoseTopIsIssuedByThePreferredCn) {
  std::vector<std::vector<crypto::CertInfo>> chains = {{IssuedBy("Int A"), IssuedBy("Root A")},
                                                       {IssuedBy("Int B"), IssuedBy("Root B")},
                                                       {IssuedBy("Int C"), IssuedBy("Root C")}};
  EXPECT_EQ(SelectChain(chains, "Root B"), 1u);
  EXPECT_EQ(SelectChain(chains, "Root C"), 2u);
  EXPECT_EQ(SelectChain(chains, "Root A"), 0u);
}

TEST(IssuanceSelectChainTest, TopIssuerWinsOverAnIssuerLowerDown) {
  // Chain 0 has "Root B" as the issuer of its leaf only; chain 1 ends in it.
  std::vector<std::vector<crypto::CertInfo>> chains = {{IssuedBy("Root B"), IssuedBy("Root A")},
                                                       {IssuedBy("Int B"), IssuedBy("Root B")}};
  EXPECT_EQ(SelectChain(chains, "Root B"), 1u);
}

TEST(IssuanceSelectChainTest, FallsBackToAnyIssuerThenToTheDefault) {
  std::vector<std::vector<crypto::CertInfo>> chains = {
      {IssuedBy("Int A"), IssuedBy("Root A")}, {}, {IssuedBy("Int X"), IssuedBy("Root Y")}};
  EXPECT_EQ(SelectChain(chains, "Int X"), 2u);        // Not the top, but present.
  EXPECT_EQ(SelectChain(chains, "Nobody"), 0u);       // Nothing matches.
  EXPECT_EQ(SelectChain(chains, "root a"), 0u);       // The match is exact.
  EXPECT_EQ(SelectChain({{}, {IssuedBy("Z")}}, "Z"), 1u);  // Empty chains skipped.
}

// ---- CheckChain -----------------------------------------------------------

TEST(IssuanceCheckChainTest, AcceptsAGoodChain) {
  Pki pki;
  auto chain = Parse(pki.Leaf("DNS:a.example,DNS:b.example").pem + pki.intermediate().pem +
                     pki.root().pem);
  Status st = CheckChain(chain, pki.SpkiDer(), {"b.example", "a.example"}, Now());
  EXPECT_TRUE(st.ok()) << st.error().message;
  // The leaf alone is a chain too.
  EXPECT_TRUE(CheckChain({chain[0]}, pki.SpkiDer(), {"a.example", "b.example"}, Now()).ok());
}

TEST(IssuanceCheckChainTest, ComparesNamesCaseInsensitivelyAndIpsCanonically) {
  Pki pki;
  auto chain = Parse(pki.Leaf("DNS:A.Example,IP:2001:db8::1,IP:192.0.2.7").pem);
  Status st =
      CheckChain(chain, pki.SpkiDer(), {"a.EXAMPLE", "2001:DB8:0:0::1", "192.0.2.7"}, Now());
  EXPECT_TRUE(st.ok()) << st.error().message;
}

TEST(IssuanceCheckChainTest, RejectsAnEmptyChain) {
  Status st = CheckChain({}, "spki", {"a.example"}, Now());
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.error().message, "empty")) << st.error().message;
}

TEST(IssuanceCheckChainTest, RejectsALeafForAnotherKey) {
  Pki pki;
  crypto::PrivateKey other = NewKey();
  auto chain = Parse(pki.Leaf("DNS:a.example", Now() - 3600, Now() + 86400, &other).pem +
                     pki.intermediate().pem);
  Status st = CheckChain(chain, pki.SpkiDer(), {"a.example"}, Now());
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.error().message, "not our certificate key")) << st.error().message;
}

TEST(IssuanceCheckChainTest, RejectsOtherNames) {
  Pki pki;
  auto chain = Parse(pki.Leaf("DNS:a.example,DNS:b.example").pem);
  const std::vector<std::vector<std::string>> wrong = {
      {"a.example"}, {"a.example", "b.example", "c.example"}, {"a.example", "c.example"}, {}};
  for (const auto& names : wrong) {
    SCOPED_TRACE(names.size());
    Status st = CheckChain(chain, pki.SpkiDer(), names, Now());
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(Contains(st.error().message, "(a.example, b.example) differ"))
        << st.error().message;
  }
}

TEST(IssuanceCheckChainTest, RejectsACertificateNotValidNow) {
  Pki pki;
  int64_t now = Now();
  auto chain = Parse(pki.Leaf("DNS:a.example", now - 86400, now + 86400).pem);
  EXPECT_TRUE(CheckChain(chain, pki.SpkiDer(), {"a.example"}, now).ok());
  // Expired: not_after is not included.
  Status expired = CheckChain(chain, pki.SpkiDer(), {"a.example"}, now + 86400);
  ASSERT_FALSE(expired.ok());
  EXPECT_TRUE(Contains(expired.error().message, "not valid now")) << expired.error().message;
  // A CA clock up to an hour ahead is tolerated, more is not.
  EXPECT_TRUE(CheckChain(chain, pki.SpkiDer(), {"a.example"}, now - 86400 - 1800).ok());
  EXPECT_FALSE(CheckChain(chain, pki.SpkiDer(), {"a.example"}, now - 86400 - 7200).ok());
}

TEST(IssuanceCheckChainTest, RejectsALeafNotIssuedByTheNext) {
  Pki pki;
  Pki other("Other Root");
  std::string leaf = pki.Leaf("DNS:a.example").pem;
  // Another CA's intermediate after our leaf.
  Status st = CheckChain(Parse(leaf + other.intermediate().pem), pki.SpkiDer(), {"a.example"},
                         Now());
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.error().message, "certificate 0 of the chain")) << st.error().message;
  // The root directly after the leaf, skipping the intermediate.
  EXPECT_FALSE(CheckChain(Parse(leaf + pki.root().pem), pki.SpkiDer(), {"a.example"}, Now()).ok());
  // A good start, then a root that did not issue the intermediate.
  Status top = CheckChain(Parse(leaf + pki.intermediate().pem + other.root().pem), pki.SpkiDer(),
                          {"a.example"}, Now());
  ASSERT_FALSE(top.ok());
  EXPECT_TRUE(Contains(top.error().message, "certificate 1 of the chain")) << top.error().message;
}

TEST(IssuanceCheckChainTest, RejectsAnImpostorWithTheIssuersNameButAnotherKey) {
  Pki pki;
  crypto::PrivateKey impostor_key = NewKey();
  // Same subject name as the real intermediate, self-issued with another key.
  TestCert impostor = Issue("Test Root Intermediate", impostor_key, impostor_key, nullptr);
  Status st = CheckChain(Parse(pki.Leaf("DNS:a.example").pem + impostor.pem), pki.SpkiDer(),
                         {"a.example"}, Now());
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.error().message, "not issued by the next")) << st.error().message;
}

// ---- ObtainCertificate ------------------------------------------------------

// MemoryPublisher keeps published key authorizations in memory and records
// what happened to them.
class MemoryPublisher : public challenge::Publisher {
 public:
  std::string_view ChallengeType() const override { return challenge::kHttp01; }
  Status Publish(const challenge::Challenge& challenge) override {
    if (!publish_error.empty()) {
      return Err("{}", publish_error);
    }
    live[challenge.token] = challenge.key_authorization;
    ++published;
    return OkStatus();
  }
  Status Remove(const challenge::Challenge& challenge) override {
    removed += live.erase(challenge.token) > 0 ? 1 : 0;
    return OkStatus();
  }
  Status WaitReady() override {
    ++waits;
    return ready_error.empty() ? OkStatus() : Status(Err("{}", ready_error));
  }
  std::string Describe() const override { return "memory publisher"; }

  std::map<std::string, std::string> live;
  std::string publish_error;
  std::string ready_error;
  int published = 0;
  int removed = 0;
  int waits = 0;
};

const std::string kOrderUrl = std::string(kCa) + "/order/1";
const std::string kAuthzUrl = std::string(kCa) + "/authz/1";
const std::string kChallUrl = std::string(kCa) + "/chall/1";
const std::string kFinalizeUrl = std::string(kCa) + "/order/1/finalize";
const std::string kCertUrl = std::string(kCa) + "/cert/1";
const std::string kAltUrl = std::string(kCa) + "/cert/1/alt";

json OrderJson(const std::string& status) {
  json o = {{"status", status},
            {"identifiers", json::array({{{"type", "dns"}, {"value", "a.example"}}})},
            {"authorizations", json::array({kAuthzUrl})},
            {"finalize", kFinalizeUrl}};
  if (status == "valid") {
    o["certificate"] = kCertUrl;
  }
  return o;
}

json AuthzJson(const std::string& status, const std::string& challenge_status = "pending",
               const std::string& type = "http-01", const std::string& token = "tok-1") {
  return {{"status", status},
          {"identifier", {{"type", "dns"}, {"value", "a.example"}}},
          {"challenges", json::array({{{"type", type},
                                       {"url", kChallUrl},
                                       {"status", challenge_status},
                                       {"token", token}}})}};
}

class IssuanceTest : public ::testing::Test {
 protected:
  IssuanceTest() {
    auto signer = jose::NewSignerFromKey(NewKey());
    EXPECT_TRUE(signer.ok());
    signer_ = std::move(signer).value();
    ClientOptions options;
    options.poll_first_interval = milliseconds(1);
    options.poll_max_interval = milliseconds(2);
    options.poll_timeout = milliseconds(500);
    options.max_transient_retries = 1;
    options.retry_first_backoff = milliseconds(1);
    options.retry_max_backoff = milliseconds(2);
    client_ = std::make_unique<Client>(http_, *signer_, kDir, options);
    http_.On("GET", kDir, Json(200, json::parse(DirectoryJson())));
    Status st = client_->Init();
    EXPECT_TRUE(st.ok()) << st.error().message;
    client_->SetAccountUrl(kAcctUrl);
    key_.csr_der = "CSR-DER";
    key_.public_key_der = pki_.SpkiDer();
  }

  // ScriptOrderToValid scripts newOrder, one authorization answered and
  // polled to valid, and the finalized order polled to valid.
  void ScriptOrderToValid() {
    http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
    http_.On("POST", kAuthzUrl, Json(200, AuthzJson("pending")));
    http_.On("POST", kChallUrl, Json(200, {{"status", "processing"}}));
    http_.On("POST", kAuthzUrl, Json(200, AuthzJson("valid", "valid")));
    http_.On("POST", kFinalizeUrl, Json(200, OrderJson("processing")));
    http_.On("POST", kOrderUrl, Json(200, OrderJson("valid")));
  }

  // CertResp answers the certificate download with `pem`, linking `alt`
  // as an alternate chain when given.
  static HttpResponse CertResp(const std::string& pem, const std::string& alt = "") {
    std::multimap<std::string, std::string> headers;
    if (!alt.empty()) {
      headers.emplace("link", "<" + alt + ">;rel=\"alternate\"");
    }
    return Resp(200, pem, "application/pem-certificate-chain", headers);
  }

  std::string GoodChain() const {
    return pki_.Leaf("DNS:a.example").pem + pki_.intermediate().pem;
  }

  Result<IssuedChain> Obtain(const OrderHooks& hooks = {}, std::string_view preferred = "") {
    return ObtainCertificate(*client_, publisher_, {"a.example"}, key_, preferred, hooks);
  }

  Pki pki_;
  FakeHttp http_;
  std::unique_ptr<jose::Signer> signer_;
  std::unique_ptr<Client> client_;
  MemoryPublisher publisher_;
  FinalizeKey key_;
};

TEST_F(IssuanceTest, HappyPathFromNewOrderToCheckedChain) {
  ScriptOrderToValid();
  std::string leaf = pki_.Leaf("DNS:a.example").pem;
  http_.On("POST", kCertUrl, CertResp(leaf + pki_.intermediate().pem));
  std::string seen_order;
  OrderHooks hooks;
  hooks.on_order = [&](const Order& o) { seen_order = o.url; };
  auto r = Obtain(hooks);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->cert_pem, leaf);
  EXPECT_EQ(r->chain_pem, pki_.intermediate().pem);
  EXPECT_EQ(r->fullchain_pem, leaf + pki_.intermediate().pem);
  EXPECT_EQ(r->leaf.names, std::vector<std::string>{"a.example"});
  EXPECT_EQ(seen_order, kOrderUrl);
  // The token was published with the key authorization before the answer,
  // and removed again.
  EXPECT_EQ(publisher_.published, 1);
  EXPECT_EQ(publisher_.waits, 1);
  EXPECT_EQ(publisher_.removed, 1);
  EXPECT_TRUE(publisher_.live.empty());
  json csr = json::parse(JwsPayload(http_.Posts(kFinalizeUrl).at(0)));
  EXPECT_EQ(csr["csr"], Base64UrlEncode("CSR-DER"));
  // Without a preferred chain no alternate is fetched: the download is the
  // last request.
  EXPECT_EQ(http_.calls.back().url, kCertUrl);
}

TEST_F(IssuanceTest, AFailedAuthorizationNamesTheIdentifierAndTheProblem) {
  http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("pending")));
  http_.On("POST", kChallUrl, Json(200, {{"status", "processing"}}));
  json invalid = AuthzJson("invalid", "invalid");
  invalid["challenges"][0]["error"] = {{"type", "urn:ietf:params:acme:error:unauthorized"},
                                       {"detail", "got 404"}};
  http_.On("POST", kAuthzUrl, Json(200, invalid));
  std::vector<std::string> failed;
  OrderHooks hooks;
  hooks.on_failed_authorization = [&](const Identifier& id) { failed.push_back(id.ToString()); };
  auto r = Obtain(hooks);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_TRUE(Contains(m, "http-01 validation failed")) << m;
  EXPECT_TRUE(Contains(m, "dns:a.example")) << m;
  EXPECT_TRUE(Contains(m, "unauthorized")) << m;
  EXPECT_TRUE(Contains(m, "memory publisher")) << m;
  EXPECT_EQ(failed, std::vector<std::string>{"dns:a.example"});
  EXPECT_TRUE(publisher_.live.empty());
  EXPECT_EQ(http_.Count("POST", kFinalizeUrl), 0);
}

TEST_F(IssuanceTest, AnOrderThatBecomesInvalidIsReported) {
  http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("pending")));
  http_.On("POST", kChallUrl, Json(200, {{"status", "processing"}}));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("valid", "valid")));
  http_.On("POST", kFinalizeUrl, Json(200, OrderJson("processing")));
  json invalid = OrderJson("invalid");
  invalid["error"] = {{"type", "urn:ietf:params:acme:error:badCSR"}, {"detail", "key too weak"}};
  http_.On("POST", kOrderUrl, Json(200, invalid));
  auto r = Obtain();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "became invalid")) << r.error().message;
  EXPECT_TRUE(Contains(r.error().message, "badCSR: key too weak")) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kCertUrl), 0);
}

TEST_F(IssuanceTest, AnOrderInvalidFromTheStartIsReported) {
  http_.On("POST", kNewOrder, Json(201, OrderJson("invalid"), {{"location", kOrderUrl}}));
  auto r = Obtain();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "is invalid while finalizing")) << r.error().message;
  EXPECT_EQ(publisher_.published, 0);
}

TEST_F(IssuanceTest, RefusesAuthorizationsItCannotAnswer) {
  struct Case {
    const char* name;
    json authz;
    const char* want;
  };
  const Case cases[] = {
      {"no http-01", AuthzJson("pending", "pending", "dns-01"),
       "offers no http-01 challenge (it offers: dns-01)"},
      {"token not base64url", AuthzJson("pending", "pending", "http-01", "../../etc/passwd"),
       "not base64url"},
      {"deactivated", AuthzJson("deactivated", "pending"), "create a new order"},
      {"expired", AuthzJson("expired", "pending"), "the authorization is expired"},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
    http_.On("POST", kAuthzUrl, Json(200, tc.authz));
    auto r = Obtain();
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(Contains(r.error().message, tc.want)) << r.error().message;
    EXPECT_TRUE(Contains(r.error().message, "dns:a.example")) << r.error().message;
    EXPECT_EQ(publisher_.published, 0);
    EXPECT_EQ(http_.Count("POST", kChallUrl), 0);
  }
}

TEST_F(IssuanceTest, AnAlreadyValidAuthorizationIsNotAnsweredAgain) {
  http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("valid", "valid")));
  http_.On("POST", kFinalizeUrl, Json(200, OrderJson("valid")));
  http_.On("POST", kCertUrl, CertResp(GoodChain()));
  auto r = Obtain();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(publisher_.published, 0);
  EXPECT_EQ(publisher_.waits, 0);
  EXPECT_EQ(http_.Count("POST", kChallUrl), 0);
}

TEST_F(IssuanceTest, NothingIsAnsweredWhenThePublisherIsNotReady) {
  http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("pending")));
  publisher_.ready_error = "record not yet served";
  auto r = Obtain();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "record not yet served")) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kChallUrl), 0);
  EXPECT_TRUE(publisher_.live.empty());
  EXPECT_EQ(publisher_.removed, 1);
}

TEST_F(IssuanceTest, APublishFailureNamesTheIdentifier) {
  http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("pending")));
  publisher_.publish_error = "disk full";
  auto r = Obtain();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "dns:a.example: disk full")) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kChallUrl), 0);
}

TEST_F(IssuanceTest, ALostChallengeAnswerTheCaReceivedIsNotFatal) {
  http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("pending")));
  http_.On("POST", kChallUrl, ProblemResp(400, "malformed"));
  // The authorization shows the challenge already processing.
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("pending", "processing")));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("valid", "valid")));
  http_.On("POST", kFinalizeUrl, Json(200, OrderJson("valid")));
  http_.On("POST", kCertUrl, CertResp(GoodChain()));
  auto r = Obtain();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kChallUrl), 1);
}

TEST_F(IssuanceTest, ALostFinalizeAnswerIsResolvedByReadingTheOrder) {
  http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("valid", "valid")));
  http_.On("POST", kFinalizeUrl, ErrCode(ErrorCode::kTransient, "connection reset"));
  http_.On("POST", kOrderUrl, Json(200, OrderJson("processing")));  // The CSR arrived.
  http_.On("POST", kOrderUrl, Json(200, OrderJson("valid")));
  http_.On("POST", kCertUrl, CertResp(GoodChain()));
  auto r = Obtain();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kFinalizeUrl), 1);  // Never sent twice.
}

TEST_F(IssuanceTest, OrderNotReadyWaitsForTheOrderThenFinalizes) {
  http_.On("POST", kNewOrder, Json(201, OrderJson("pending"), {{"location", kOrderUrl}}));
  http_.On("POST", kAuthzUrl, Json(200, AuthzJson("valid", "valid")));
  http_.On("POST", kFinalizeUrl, ProblemResp(403, "orderNotReady"));
  http_.On("POST", kOrderUrl, Json(200, OrderJson("pending")));  // FetchOrder.
  http_.On("POST", kOrderUrl, Json(200, OrderJson("pending")));  // PollOrder.
  http_.On("POST", kOrderUrl, Json(200, OrderJson("ready")));
  http_.On("POST", kFinalizeUrl, Json(200, OrderJson("valid")));
  http_.On("POST", kCertUrl, CertResp(GoodChain()));
  auto r = Obtain();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kFinalizeUrl), 2);
}

TEST_F(IssuanceTest, AFinalizeRefusalOnAReadyOrderIsReported) {
  http_.On("POST", kNewOrder, Json(201, OrderJson("ready"), {{"location", kOrderUrl}}));
  http_.On("POST", kFinalizeUrl, ProblemResp(400, "badCSR"));
  http_.On("POST", kOrderUrl, Json(200, OrderJson("ready")));
  auto r = Obtain();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.error().message, "badCSR")) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kFinalizeUrl), 1);  // Not a reason to try again.
}

TEST_F(IssuanceTest, ResumesAnOrderForTheSameNames) {
  http_.On("POST", kOrderUrl, Json(200, OrderJson("valid")));
  http_.On("POST", kCertUrl, CertResp(GoodChain()));
  OrderHooks hooks;
  hooks.resume_url = kOrderUrl;
  auto r = Obtain(hooks);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kNewOrder), 0);
}

TEST_F(IssuanceTest, AnInvalidResumedOrderIsReplacedByANewOne) {
  http_.On("POST", kOrderUrl, Json(200, OrderJson("invalid")));
  http_.On("POST", kNewOrder, Json(201, OrderJson("ready"), {{"location", kOrderUrl}}));
  http_.On("POST", kFinalizeUrl, Json(200, OrderJson("valid")));
  http_.On("POST", kCertUrl, CertResp(GoodChain()));
  OrderHooks hooks;
  hooks.resume_url = kOrderUrl;
  auto r = Obtain(hooks);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kNewOrder), 1);
}

TEST_F(IssuanceTest, ARefusedReplacesIsDroppedOnce) {
  http_.On("POST", kNewOrder, ProblemResp(409, "alreadyReplaced"));
  http_.On("POST", kNewOrder, Json(201, OrderJson("ready"), {{"location", kOrderUrl}}));
  http_.On("POST", kFinalizeUrl, Json(200, OrderJson("valid")));
  http_.On("POST", kCertUrl, CertResp(GoodChain()));
  OrderHooks hooks;
  hooks.new_order.replaces = "aa.bb";
  auto r = Obtain(hooks);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto posts = http_.Posts(kNewOrder);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(json::parse(JwsPayload(posts[0]))["replaces"], "aa.bb");
  EXPECT_FALSE(json::parse(JwsPayload(posts[1])).contains("replaces"));
}

TEST_F(IssuanceTest, PicksThePreferredAlternateChain) {
  // The alternate chain: a leaf for our key from an intermediate of
  // another root.
  crypto::PrivateKey alt_int_key = NewKey();
  crypto::PrivateKey alt_root_key = NewKey();
  TestCert alt_root = Issue("Alt Root", alt_root_key, alt_root_key, nullptr);
  TestCert alt_intermediate = Issue("Alt Int", alt_int_key, alt_root_key, &alt_root);
  TestCert leaf2 =
      Issue("leaf", pki_.domain_key(), alt_int_key, &alt_intermediate, "DNS:a.example");

  ScriptOrderToValid();
  http_.On("POST", kCertUrl, CertResp(GoodChain(), kAltUrl));
  http_.On("POST", kAltUrl, CertResp(leaf2.pem + alt_intermediate.pem));
  auto r = Obtain({}, "Alt Root");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->cert_pem, leaf2.pem);
  EXPECT_EQ(r->chain_pem, alt_intermediate.pem);

  // No chain matches: the default chain is used.
  ScriptOrderToValid();
  std::string default_chain = GoodChain();
  http_.On("POST", kCertUrl, CertResp(default_chain, kAltUrl));
  http_.On("POST", kAltUrl, CertResp(leaf2.pem + alt_intermediate.pem));
  auto fallback = Obtain({}, "Nobody's Root");
  ASSERT_TRUE(fallback.ok()) << fallback.error().message;
  EXPECT_EQ(fallback->fullchain_pem, default_chain);
}

TEST_F(IssuanceTest, ABrokenAlternateIsSkippedABrokenDefaultIsNot) {
  ScriptOrderToValid();
  http_.On("POST", kCertUrl, CertResp(GoodChain(), kAltUrl));
  http_.On("POST", kAltUrl, CertResp("not a certificate"));
  auto r = Obtain({}, "Test Root");
  ASSERT_TRUE(r.ok()) << r.error().message;

  ScriptOrderToValid();
  // The download is a read: it is asked again once (max_transient_retries).
  http_.On("POST", kCertUrl, CertResp("<html>not a certificate</html>"));
  http_.On("POST", kCertUrl, CertResp("<html>not a certificate</html>"));
  auto bad = Obtain();
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.error().message, "certificate from " + kCertUrl))
      << bad.error().message;
}

// A certificate cut short in transit (complete framing, half the body) is
// a read worth repeating: the second, whole answer is issued.
TEST_F(IssuanceTest, AHalfCertificateIsDownloadedAgain) {
  ScriptOrderToValid();
  std::string chain = GoodChain();
  // Cut inside the leaf: half of leaf + intermediate can end right after
  // the leaf, which is a (shorter) chain that parses.
  http_.On("POST", kCertUrl, CertResp(chain.substr(0, chain.find("-----END"))));
  http_.On("POST", kCertUrl, CertResp(chain));
  auto r = Obtain();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(http_.Count("POST", kCertUrl), 2);
}

TEST_F(IssuanceTest, RefusesACertificateThatFailsTheChainCheck) {
  struct Case {
    const char* name;
    std::string pem;
    const char* want;
  };
  crypto::PrivateKey other_key = NewKey();
  Pki other("Other Root");
  const Case cases[] = {
      {"another key",
       pki_.Leaf("DNS:a.example", Now() - 3600, Now() + 86400, &other_key).pem +
           pki_.intermediate().pem,
       "not our certificate key"},
      {"other names", pki_.Leaf("DNS:b.example").pem + pki_.intermediate().pem, "differ"},
      {"expired", pki_.Leaf("DNS:a.example", Now() - 7200, Now() - 3600).pem, "not valid now"},
      {"wrong issuer", pki_.Leaf("DNS:a.example").pem + other.intermediate().pem,
       "not issued by the next"},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    ScriptOrderToValid();
    http_.On("POST", kCertUrl, CertResp(tc.pem));
    auto r = Obtain();
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(Contains(r.error().message, "refusing the certificate from " + kCertUrl))
        << r.error().message;
    EXPECT_TRUE(Contains(r.error().message, tc.want)) << r.error().message;
  }
}

}  // namespace
}  // namespace bulkhead::acme
