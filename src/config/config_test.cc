#include "config/config.h"

#include <gtest/gtest.h>

namespace bulkhead::config {
namespace {

constexpr char kPath[] = "/etc/bulkhead/bulkhead.toml";

Result<Config> Parse(std::string_view text, CaDefaults cli = {}) {
  return ParseConfig(text, kPath, cli);
}

std::string ErrorOf(std::string_view text) {
  Result<Config> c = Parse(text);
  EXPECT_FALSE(c.ok()) << text;
  if (c.ok()) {
    return "";
  }
  EXPECT_EQ(c.error().code, ErrorCode::kUsage);
  return c.error().message;
}

TEST(ConfigTest, FullFileBecomesValidatedSettings) {
  Result<Config> c = Parse(R"(
state-dir = "/srv/bulkhead"
server = "letsencrypt-staging"
email = "admin@example.org"
key-type = "ec384"
renew-days = 20

[certificate."example.com"]
names = ["example.com", "WWW.example.com", "example.com"]
webroot = "/var/www/example"
preflight-port = 8080

[certificate.mail]
names = ["*.mail.example.com"]
dns-rfc2136 = "127.0.0.1:5353"
tsig-key = "/etc/bulkhead/tsig.key"
key-type = "rsa3072"
tlsa = ["mx.example.com:25"]
server = "https://ca.internal/directory"
)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->global.state_dir, "/srv/bulkhead");
  EXPECT_EQ(c->global.renew_days, 20);
  ASSERT_EQ(c->certificates.size(), 2u);
  const manager::CertSettings& web = c->certificates[0].settings;
  EXPECT_EQ(web.name, "example.com");
  EXPECT_EQ(web.names, (std::vector<std::string>{"example.com", "www.example.com"}));
  EXPECT_EQ(web.key_type, crypto::KeyType::kEc384);  // The top level's default.
  EXPECT_EQ(web.server, "https://acme-staging-v02.api.letsencrypt.org/directory");
  EXPECT_TRUE(web.preflight.enabled);
  EXPECT_EQ(web.preflight.port, 8080);
  EXPECT_EQ(c->certificates[0].line, 8);
  const manager::CertSettings& mail = c->certificates[1].settings;
  EXPECT_EQ(mail.method, manager::ChallengeMethod::kDnsRfc2136);
  EXPECT_EQ(mail.key_type, crypto::KeyType::kRsa3072);
  EXPECT_EQ(mail.server, "https://ca.internal/directory");
  EXPECT_EQ(mail.dane.endpoints, std::vector<std::string>{"mx.example.com:25"});
}

TEST(ConfigTest, CaPrecedenceIsTableThenCommandLineThenTopLevel) {
  constexpr std::string_view kText = R"(
server = "letsencrypt-staging"
ca-bundle = "/etc/file-bundle.pem"
[certificate.a]
names = ["a.example"]
webroot = "/srv"
[certificate.b]
names = ["b.example"]
webroot = "/srv"
server = "https://own.example/dir"
)";
  Result<Config> file_only = Parse(kText);
  ASSERT_TRUE(file_only.ok()) << file_only.error().message;
  EXPECT_EQ(file_only->certificates[0].settings.server,
            "https://acme-staging-v02.api.letsencrypt.org/directory");
  EXPECT_EQ(file_only->certificates[0].settings.ca_bundle, "/etc/file-bundle.pem");
  Result<Config> flagged = Parse(kText, {"https://flag.example/dir", "/flag.pem"});
  ASSERT_TRUE(flagged.ok());
  EXPECT_EQ(flagged->certificates[0].settings.server, "https://flag.example/dir");
  EXPECT_EQ(flagged->certificates[0].settings.ca_bundle, "/flag.pem");
  EXPECT_EQ(flagged->certificates[1].settings.server, "https://own.example/dir");
  Result<Config> none = Parse("[certificate.a]\nnames = [\"a.example\"]\nwebroot = \"/srv\"\n");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->certificates[0].settings.server,
            "https://acme-v02.api.letsencrypt.org/directory");
}

TEST(ConfigTest, EveryErrorNamesFileLineAndKey) {
  EXPECT_EQ(ErrorOf("emial = \"x@y\"\n").rfind(std::string(kPath) + ":1: emial: unknown key", 0),
            0u);
  EXPECT_NE(ErrorOf("\n\n[certificate.a]\nnames = \"a.example\"\n")
                .find(":4: certificate.a.names: expected a list of strings"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[certificate.a]\nnames = [\"a.example\"]\nwebroot = \"/srv\"\nreuse-key = 1\n")
                .find(":4: certificate.a.reuse-key: expected true or false"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[certificate.a]\nnames = [\"a.example\"]\nwebroot = \"/srv\"\n"
                    "preflight-port = 70000\n")
                .find("70000 is out of range"),
            std::string::npos);
  EXPECT_NE(ErrorOf("renew-days = -1\n").find(":1: renew-days:"), std::string::npos);
  EXPECT_NE(ErrorOf("key-type = \"ec999\"\n").find(":1: key-type:"), std::string::npos);
  EXPECT_NE(ErrorOf("server = \"http://plain.example/\"\n").find(":1: server:"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[certificate.a]\nwebroot = \"/srv\"\n")
                .find(":1: certificate.a: \"names\" is missing"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[certificate.\"../x\"]\nnames = [\"a.example\"]\n")
                .find("not a usable certificate name"),
            std::string::npos);
  EXPECT_NE(ErrorOf("certificate = 3\n").find(":1: certificate: expected tables"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[certificate.a]\nnames = [\"a.example\"]\nwebroot = \"/srv\"\n"
                    "[certificate.a]\nnames = [\"b.example\"]\n")
                .find(std::string(kPath) + ":4:"),
            std::string::npos);  // TOML forbids a table twice.
  EXPECT_NE(ErrorOf("[certificate.a]\nnames = [\"a\\u0000b\"]\nwebroot = \"/srv\"\n")
                .find("control characters"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[certificate.a]\nnames = [\"a.example\"]\n")
                .find(":1: certificate.a: give exactly one of"),
            std::string::npos);
}

}  // namespace
}  // namespace bulkhead::config
