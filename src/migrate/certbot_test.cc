#include "migrate/certbot.h"

#include <gtest/gtest.h>

namespace bulkhead::migrate {
namespace {

ConfSection Params(std::map<std::string, std::string> values) {
  ConfSection s;
  s.values = std::move(values);
  return s;
}

TEST(CertbotTest, MapsKeyTypes) {
  using crypto::KeyType;
  EXPECT_EQ(*CertbotKeyType(Params({{"key_type", "ecdsa"}}), KeyType::kRsa2048), "ec256");
  EXPECT_EQ(*CertbotKeyType(Params({{"key_type", "ecdsa"}, {"elliptic_curve", "secp384r1"}}),
                            KeyType::kEc256),
            "ec384");
  EXPECT_EQ(*CertbotKeyType(Params({{"key_type", "rsa"}}), KeyType::kEc256), "rsa2048");
  EXPECT_EQ(
      *CertbotKeyType(Params({{"key_type", "rsa"}, {"rsa_key_size", "4096"}}), KeyType::kEc256),
      "rsa4096");
  // Renewal files from before key_type existed keep the key they have.
  EXPECT_EQ(*CertbotKeyType(Params({}), KeyType::kRsa3072), "rsa3072");

  auto odd_size =
      CertbotKeyType(Params({{"key_type", "rsa"}, {"rsa_key_size", "1024"}}), KeyType::kEc256);
  ASSERT_FALSE(odd_size.ok());
  EXPECT_NE(odd_size.error().message.find("rsa_key_size = 1024"), std::string::npos);
  auto p521 = CertbotKeyType(Params({{"key_type", "ecdsa"}, {"elliptic_curve", "secp521r1"}}),
                             KeyType::kEc256);
  ASSERT_FALSE(p521.ok());
  EXPECT_NE(p521.error().message.find("secp521r1"), std::string::npos);
  EXPECT_FALSE(CertbotKeyType(Params({{"key_type", "ed25519"}}), KeyType::kEc256).ok());
}

Result<manager::SettingsInput> Input(const std::string& params) {
  auto conf = ParseConfigObj("version = 2.1.0\n[renewalparams]\n" + params, "r.conf");
  EXPECT_TRUE(conf.ok()) << conf.error().message;
  return CertbotSettingsInput(*conf, "r.conf", crypto::KeyType::kEc256);
}

TEST(CertbotTest, MapsWebrootAndStandalone) {
  auto web = Input(
      "authenticator = webroot\nwebroot_path = /srv/a,\nserver = https://ca.example/dir\n"
      "preferred_chain = Root X\nreuse_key = True\n[[webroot_map]]\na.example = /srv/w\n"
      "b.example = /srv/w\n");
  ASSERT_TRUE(web.ok()) << web.error().message;
  EXPECT_EQ(web->webroot, "/srv/w");  // The map wins over webroot_path.
  EXPECT_EQ(web->server, "https://ca.example/dir");
  EXPECT_EQ(web->preferred_chain, "Root X");
  EXPECT_TRUE(web->reuse_key);

  auto path_only = Input("authenticator = webroot\nwebroot_path = /srv/a,\n");
  ASSERT_TRUE(path_only.ok()) << path_only.error().message;
  EXPECT_EQ(path_only->webroot, "/srv/a");
  EXPECT_EQ(path_only->server, kCertbotDefaultServer);
  EXPECT_FALSE(path_only->reuse_key);

  auto standalone = Input("authenticator = standalone\nhttp01_port = 8080\n");
  ASSERT_TRUE(standalone.ok()) << standalone.error().message;
  EXPECT_EQ(standalone->standalone, "0.0.0.0:8080");
  EXPECT_EQ(Input("authenticator = standalone\n")->standalone, "0.0.0.0:80");
}

TEST(CertbotTest, RefusesWhatCannotBeMappedSayingWhy) {
  auto dns = Input("authenticator = dns-cloudflare\n");
  ASSERT_FALSE(dns.ok());
  EXPECT_NE(dns.error().message.find("cannot run certbot's DNS plugins"), std::string::npos);
  EXPECT_NE(dns.error().message.find("--dns-rfc2136"), std::string::npos);
  auto nginx = Input("authenticator = nginx\n");
  ASSERT_FALSE(nginx.ok());
  EXPECT_NE(nginx.error().message.find("--webroot"), std::string::npos);
  auto two = Input("authenticator = webroot\n[[webroot_map]]\na.example = /a\nb.example = /b\n");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().message.find("2 webroot directories"), std::string::npos);
  EXPECT_FALSE(Input("authenticator = webroot\nwebroot_path = relative,\n").ok());
  EXPECT_FALSE(Input("authenticator = standalone\nhttp01_port = 99999\n").ok());
  EXPECT_FALSE(Input("").ok());  // No authenticator.
  auto conf = ParseConfigObj("version = 1\n", "r.conf");
  auto none = CertbotSettingsInput(*conf, "r.conf", crypto::KeyType::kEc256);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no [renewalparams]"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::migrate
