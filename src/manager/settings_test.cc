#include "manager/settings.h"

#include <gtest/gtest.h>

namespace bulkhead::manager {
namespace {

CertSettings Sample() {
  CertSettings s;
  s.name = "example.com";
  s.names = {"example.com", "www.example.com"};
  s.method = ChallengeMethod::kChallengeDir;
  s.challenge_target = "/srv/acme";
  s.key_type = crypto::KeyType::kRsa3072;
  s.reuse_key = true;
  s.preferred_chain = "Root X";
  s.server = "https://ca.example/dir";
  s.ca_bundle = "/etc/ca.pem";
  return s;
}

TEST(CertSettings, RoundTrips) {
  CertSettings s = Sample();
  auto back = CertSettings::FromJson(s.ToJson(), "test");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->names, s.names);
  EXPECT_EQ(back->method, ChallengeMethod::kChallengeDir);
  EXPECT_EQ(back->challenge_target, "/srv/acme");
  EXPECT_EQ(back->key_type, crypto::KeyType::kRsa3072);
  EXPECT_TRUE(back->reuse_key);
  EXPECT_EQ(back->preferred_chain, "Root X");
  EXPECT_EQ(back->ca_bundle, "/etc/ca.pem");
}

TEST(CertSettings, TlsaEndpointsAreCanonical) {
  EXPECT_EQ(*ParseTlsaEndpoint("Mail.Example.COM.:25"), "mail.example.com:25");
  EXPECT_EQ(*ParseTlsaEndpoint("x.example:65535"), "x.example:65535");
  for (const char* bad : {"mail.example.com", "mail.example.com:", ":25", "a:0", "a:65536",
                          "a:25x", "a..b:25", "a b:25", "a:-1"}) {
    auto r = ParseTlsaEndpoint(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUsage) << bad;
  }
}

TEST(CertSettings, DaneRoundTripsAndIsChecked) {
  CertSettings s = Sample();
  s.dane.endpoints = {"mail.example.com:25", "mail.example.com:465"};
  s.dane.resolver = "127.0.0.1:5353";
  nlohmann::json j = s.ToJson();
  auto back = CertSettings::FromJson(j, "test");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->dane, s.dane);
  EXPECT_TRUE(CertSettings::FromJson(Sample().ToJson(), "test")->dane.endpoints.empty());
  for (nlohmann::json bad : {nlohmann::json("x"), nlohmann::json::object(),
                             nlohmann::json{{"tlsa", nlohmann::json::array()}},
                             nlohmann::json{{"tlsa", {"no-port"}}},
                             nlohmann::json{{"tlsa", {"a.example:25"}}, {"resolver", "nowhere"}}}) {
    j["dane"] = bad;
    auto r = CertSettings::FromJson(j, "settings.json");
    ASSERT_FALSE(r.ok()) << bad.dump();
    EXPECT_NE(r.error().message.find("dane"), std::string::npos) << r.error().message;
  }
}

TEST(CertSettings, RejectsTamperedFiles) {
  nlohmann::json j = Sample().ToJson();
  for (const char* key : {"name", "names", "challenge", "key_type", "server"}) {
    nlohmann::json broken = j;
    broken.erase(key);
    auto r = CertSettings::FromJson(broken, "settings.json");
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_NE(r.error().message.find("settings.json"), std::string::npos);
  }
  nlohmann::json traversal = j;
  traversal["name"] = "../../etc";
  EXPECT_FALSE(CertSettings::FromJson(traversal, "s").ok());
  nlohmann::json bad_name = j;
  bad_name["names"] = {"ok.example", "bad name"};
  EXPECT_FALSE(CertSettings::FromJson(bad_name, "s").ok());
  nlohmann::json bad_method = j;
  bad_method["challenge"]["method"] = "ftp";
  EXPECT_FALSE(CertSettings::FromJson(bad_method, "s").ok());
  EXPECT_FALSE(CertSettings::FromJson(nlohmann::json::array(), "s").ok());
}

TEST(CertSettings, KeepsRevocationMark) {
  CertSettings s = Sample();
  s.revoked_serial = "abc123";
  s.revoked_key_compromise = true;
  auto back = CertSettings::FromJson(s.ToJson(), "t");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->revoked_serial, "abc123");
  EXPECT_TRUE(back->revoked_key_compromise);
}

}  // namespace
}  // namespace bulkhead::manager
