#include "serve/api.h"

#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::serve {
namespace {

using nlohmann::json;

class ServeApiTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    auto inv = inventory::OpenInventory(dir_ + "/inv.sqlite");
    ASSERT_TRUE(inv.ok()) << inv.error().message;
    inv_ = std::move(*inv);
    ApiOptions o;
    o.inventory = inv_.get();
    o.token = Secret("s3cret");
    o.now = [] { return int64_t{1767225600}; };
    api_ = std::make_unique<Api>(std::move(o));
  }
  void TearDown() override {
    api_.reset();
    inv_.reset();
    TempDirTest::TearDown();
  }

  HttpResponse Call(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& auth) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.target = path;
    r.body = body;
    if (!auth.empty()) {
      r.headers["authorization"] = auth;
    }
    return api_->Handle(r);
  }

  std::unique_ptr<inventory::Inventory> inv_;
  std::unique_ptr<Api> api_;
};

TEST(BearerTokenTest, ComparesWholeBearerToken) {
  EXPECT_TRUE(TokenMatches("Bearer abc", "abc"));
  EXPECT_TRUE(TokenMatches("bearer abc", "abc"));
  EXPECT_FALSE(TokenMatches("Bearer abd", "abc"));
  EXPECT_FALSE(TokenMatches("Bearer abcd", "abc"));
  EXPECT_FALSE(TokenMatches("Bearer ab", "abc"));
  EXPECT_FALSE(TokenMatches("Basic abc", "abc"));
  EXPECT_FALSE(TokenMatches("", "abc"));
  EXPECT_FALSE(TokenMatches("Bearer ", ""));
}

TEST_F(ServeApiTest, ChangesNeedTheToken) {
  std::string body = R"({"endpoint":"example.test:8443"})";
  EXPECT_EQ(Call("POST", "/api/endpoints", body, "").status, 401);
  EXPECT_EQ(Call("POST", "/api/endpoints", body, "Bearer wrong").status, 401);
  EXPECT_EQ(Call("DELETE", "/api/endpoints/example.test:8443", "", "").status, 401);
  auto list = inv_->ListEndpoints();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  HttpResponse ok = Call("POST", "/api/endpoints", body, "Bearer s3cret");
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(Call("POST", "/api/endpoints", body, "Bearer s3cret").status, 200);
  EXPECT_EQ(json::parse(ok.body)["endpoint"], "example.test:8443");
}

TEST_F(ServeApiTest, EnrolListRemoveEndpoints) {
  ASSERT_EQ(Call("POST", "/api/endpoints", R"({"endpoint":"b.test"})", "Bearer s3cret").status, 201);
  ASSERT_EQ(Call("POST", "/api/endpoints", R"({"endpoint":"a.test:25","starttls":"smtp"})",
                 "Bearer s3cret").status,
            201);
  EXPECT_EQ(Call("POST", "/api/endpoints", R"({"endpoint":"c.test","starttls":"ftp"})",
                 "Bearer s3cret").status,
            400);
  EXPECT_EQ(Call("POST", "/api/endpoints", R"({"endpoint":"bad host"})", "Bearer s3cret").status,
            400);
  EXPECT_EQ(Call("POST", "/api/endpoints", "not json", "Bearer s3cret").status, 400);
  EXPECT_EQ(Call("POST", "/api/endpoints", R"({"endpoint":5})", "Bearer s3cret").status, 400);
  HttpResponse list = Call("GET", "/api/endpoints", "", "");
  ASSERT_EQ(list.status, 200);
  json j = json::parse(list.body);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["state"], "UNKNOWN");
  HttpResponse one = Call("GET", "/api/endpoints/a.test:25", "", "");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(json::parse(one.body)["starttls"], "smtp");
  EXPECT_EQ(Call("DELETE", "/api/endpoints/a.test:25", "", "Bearer s3cret").status, 204);
  EXPECT_EQ(Call("DELETE", "/api/endpoints/a.test:25", "", "Bearer s3cret").status, 404);
  EXPECT_EQ(Call("GET", "/api/endpoints/a.test:25", "", "").status, 404);
}

TEST_F(ServeApiTest, DomainExpiryFollowsChecks) {
  ASSERT_EQ(Call("POST", "/api/domains", R"({"name":"www.example.test"})", "Bearer s3cret").status,
            201);
  EXPECT_EQ(Call("POST", "/api/domains", R"({"name":"a:b"})", "Bearer s3cret").status, 400);
  inventory::Endpoint e;
  e.host = "web.test";
  auto added = inv_->AddEndpoint(e, nullptr);
  ASSERT_TRUE(added.ok());
  inventory::CheckRecord c;
  c.endpoint_id = added->id;
  c.address = "127.0.0.1";
  c.checked_at = 1767225600;
  c.state = inventory::CheckState::kOk;
  c.sans = {"*.example.test"};
  c.sha256_fingerprint = "aa";
  c.not_before = 1767225600 - 86400;
  c.not_after = 1767225600 + 40 * 86400;
  ASSERT_TRUE(inv_->RecordCheck(c).ok());
  HttpResponse d = Call("GET", "/api/domains/www.example.test", "", "");
  ASSERT_EQ(d.status, 200) << d.body;
  json j = json::parse(d.body);
  EXPECT_EQ(j["expires_in_seconds"], 40 * 86400);
  EXPECT_EQ(j["state"], "OK");
  EXPECT_EQ(j["seen_on"][0], "web.test:443 (127.0.0.1)");
  EXPECT_EQ(Call("GET", "/api/domains/other.test", "", "").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/domains/www.example.test", "", "Bearer s3cret").status, 204);
}

TEST_F(ServeApiTest, ChecksWithoutEngineAre503) {
  EXPECT_EQ(Call("POST", "/api/checks", "{}", "Bearer s3cret").status, 503);
}

TEST_F(ServeApiTest, ChecksPassTheHttpHeadersRequest) {
  std::vector<bool> asked;
  ApiOptions o;
  o.inventory = inv_.get();
  o.token = Secret("s3cret");
  o.run_checks = [&asked](const std::vector<int64_t>&, bool http_headers) -> Result<json> {
    asked.push_back(http_headers);
    return json{{"checked", 0}};
  };
  api_ = std::make_unique<Api>(std::move(o));
  EXPECT_EQ(Call("POST", "/api/checks", "{}", "Bearer s3cret").status, 200);
  EXPECT_EQ(Call("POST", "/api/checks", R"({"http_headers": true})", "Bearer s3cret").status, 200);
  EXPECT_EQ(Call("POST", "/api/checks", R"({"http_headers": null})", "Bearer s3cret").status, 200);
  HttpResponse bad = Call("POST", "/api/checks", R"({"http_headers": "yes"})", "Bearer s3cret");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("http_headers must be a boolean"), std::string::npos) << bad.body;
  EXPECT_EQ(asked, (std::vector<bool>{false, true, false}));
}

TEST_F(ServeApiTest, PagesAndDocuments) {
  HttpResponse page = Call("GET", "/", "", "");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  HttpResponse metrics = Call("GET", "/metrics", "", "");
  EXPECT_EQ(metrics.status, 200);
  HttpResponse doc = Call("GET", "/api/openapi.json", "", "");
  ASSERT_EQ(doc.status, 200);
  json j = json::parse(doc.body);
  EXPECT_EQ(j["openapi"], "3.0.3");
  EXPECT_TRUE(j["paths"].contains("/api/endpoints"));
  EXPECT_EQ(Call("GET", "/nope", "", "").status, 404);
  EXPECT_EQ(Call("PUT", "/api/endpoints", "", "Bearer s3cret").status, 405);
  EXPECT_EQ(Call("POST", "/", "", "").status, 405);
}

TEST(ServeApiNoTokenTest, ChangesDisabledWithoutTokenFile) {
  TestTempDir tmp;
  ASSERT_TRUE(tmp.ok());
  auto inv = inventory::OpenInventory(tmp.path() + "/inv.sqlite");
  ASSERT_TRUE(inv.ok());
  ApiOptions o;
  o.inventory = inv->get();
  Api api(std::move(o));
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/domains";
  r.body = R"({"name":"x.test"})";
  r.headers["authorization"] = "Bearer ";
  EXPECT_EQ(api.Handle(r).status, 403);
  inv->reset();
}

}  // namespace
}  // namespace bulkhead::serve
