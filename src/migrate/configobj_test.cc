#include "migrate/configobj.h"

#include <gtest/gtest.h>

#include <string>

namespace bulkhead::migrate {
namespace {

// What certbot 2.x writes for a webroot certificate.
constexpr const char* kRenewal = R"(# renew_before_expiry = 30 days
version = 2.1.0
archive_dir = /etc/letsencrypt/archive/example.com
cert = /etc/letsencrypt/live/example.com/cert.pem

# Options used in the renewal process
[renewalparams]
account = 39855dde8edc5485727fcabccb545efc
server = https://acme-v02.api.letsencrypt.org/directory
authenticator = webroot
webroot_path = /var/www/html,
key_type = ecdsa
[[webroot_map]]
example.com = /var/www/html
www.example.com = "/var/www/html"
)";

TEST(ConfigObjTest, ReadsWhatCertbotWrites) {
  auto conf = ParseConfigObj(kRenewal, "renewal/example.com.conf");
  ASSERT_TRUE(conf.ok()) << conf.error().message;
  EXPECT_EQ(conf->Get("version"), "2.1.0");
  const ConfSection* params = conf->Section("renewalparams");
  ASSERT_NE(params, nullptr);
  EXPECT_EQ(params->Get("authenticator"), "webroot");
  EXPECT_EQ(params->Get("missing", "dflt"), "dflt");
  const ConfSection* map = params->Section("webroot_map");
  ASSERT_NE(map, nullptr);
  EXPECT_EQ(map->Get("example.com"), "/var/www/html");
  EXPECT_EQ(map->Get("www.example.com"), "/var/www/html");  // Quotes removed.
  EXPECT_EQ(SplitConfigList(params->Get("webroot_path")),
            (std::vector<std::string>{"/var/www/html"}));
  EXPECT_EQ(conf->Section("nope"), nullptr);
}

TEST(ConfigObjTest, SplitsLists) {
  EXPECT_EQ(SplitConfigList("a, b ,c,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(SplitConfigList("only"), (std::vector<std::string>{"only"}));
  EXPECT_TRUE(SplitConfigList("").empty());
  EXPECT_TRUE(SplitConfigList(" , ").empty());
}

TEST(ConfigObjTest, RefusesMalformedInputNamingFileAndLine) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"a = 1\nnot a pair\n", "f.conf:2: expected \"key = value\""},
      {"a = 1\na = 2\n", "f.conf:2: key a given twice"},
      {"[[sub]]\nx = 1\n", "f.conf:1: subsection [[sub]] outside any section"},
      {"[s]\n[s]\n", "f.conf:2: section s given twice"},
      {"[s\n", "f.conf:1: malformed section header"},
      {"[[[deep]]]\n", "f.conf:1: malformed section header"},
      {"[]\n", "f.conf:1: malformed section header"},
      {" = v\n", "f.conf:1: empty key"},
  };
  for (const Case& c : cases) {
    auto conf = ParseConfigObj(c.text, "f.conf");
    ASSERT_FALSE(conf.ok()) << c.text;
    EXPECT_EQ(conf.error().message, c.error);
  }
  EXPECT_FALSE(ParseConfigObj(std::string("a = \0", 5), "f.conf").ok());
}

TEST(ConfigObjTest, BoundsSizeAndEntries) {
  std::string big(kMaxConfigObjBytes + 1, '#');
  auto too_big = ParseConfigObj(big, "f.conf");
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.error().message.find("larger than"), std::string::npos);
  std::string many;
  for (size_t i = 0; i <= kMaxConfigObjEntries; ++i) {
    many += "k" + std::to_string(i) + " = v\n";
  }
  auto too_many = ParseConfigObj(many, "f.conf");
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.error().message.find("more than"), std::string::npos);
}

TEST(ConfigObjTest, SubsectionsBelongToTheLastSection) {
  auto conf = ParseConfigObj("[a]\n[[m]]\nx = 1\n[b]\ny = 2\n[[m]]\nz = 3\n", "f.conf");
  ASSERT_TRUE(conf.ok()) << conf.error().message;
  EXPECT_EQ(conf->Section("a")->Section("m")->Get("x"), "1");
  EXPECT_EQ(conf->Section("b")->Get("y"), "2");
  EXPECT_EQ(conf->Section("b")->Section("m")->Get("z"), "3");
}

}  // namespace
}  // namespace bulkhead::migrate
