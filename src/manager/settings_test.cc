#include "manager/settings.h"

#include <gtest/gtest.h>

#include <functional>

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
    const std::string& m = r.error().message;
    EXPECT_EQ(m.rfind("settings.json: ", 0), 0u) << m;
    EXPECT_TRUE(m.find("dane") != std::string::npos || m.find("--tlsa") != std::string::npos ||
                m.find("TLSA lookups") != std::string::npos)
        << m;
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
  EXPECT_FALSE(back->revoked_reissue);
  // Without --reissue the file says nothing about it, as before the flag.
  EXPECT_FALSE(s.ToJson()["revoked"].contains("reissue"));
  s.revoked_reissue = true;
  back = CertSettings::FromJson(s.ToJson(), "t");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->revoked_reissue);
}

// DnsSample is Sample() answering dns-01 by RFC 2136.
CertSettings DnsSample() {
  CertSettings s = Sample();
  s.method = ChallengeMethod::kDnsRfc2136;
  s.challenge_target = "127.0.0.1:53";
  s.dns.tsig_key_file = "/etc/bulkhead/tsig.key";
  s.dns.resolver = "127.0.0.1:5353";
  return s;
}

// HttpSample is Sample() with the pre-flight check on.
CertSettings HttpSample() {
  CertSettings s = Sample();
  s.preflight.enabled = true;
  return s;
}

TEST(CertSettingsValidate, AcceptsWhatIssueMakes) {
  for (const CertSettings& s : {Sample(), DnsSample(), HttpSample()}) {
    Status v = s.Validate();
    EXPECT_TRUE(v.ok()) << v.error().message;
  }
  CertSettings wildcard = DnsSample();
  wildcard.names = {"*.example.com", "example.com"};
  wildcard.dane.endpoints = {"mail.example.com:25"};
  wildcard.dane.resolver = "[::1]:53";
  wildcard.profile = "shortlived";
  Status v = wildcard.Validate();
  EXPECT_TRUE(v.ok()) << v.error().message;
  auto back = CertSettings::FromJson(wildcard.ToJson(), "settings.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->names, wildcard.names);
  EXPECT_EQ(back->dns, wildcard.dns);
}

// A Rule is one way to break valid settings, and what the refusal says.
struct Rule {
  const char* name;
  std::function<CertSettings()> broken;
  const char* says;
  // What FromJson says instead of `says` when the file's own structure
  // check refuses first, or nullptr.
  const char* file_says = nullptr;
  // False for options settings.json cannot carry: ToJson writes, and
  // FromJson reads, the dns-01 options only for dns-01 and the pre-flight
  // ones only for http-01.
  bool in_file = true;
};

std::ostream& operator<<(std::ostream& os, const Rule& r) { return os << r.name; }

template <typename F>
std::function<CertSettings()> From(CertSettings (*base)(), F change) {
  return [base, change] {
    CertSettings s = base();
    change(&s);
    return s;
  };
}

const Rule kRules[] = {
    {"NoNames", From(Sample, [](CertSettings* s) { s->names.clear(); }), "no name to certify",
     "names is missing or malformed"},
    {"InvalidName", From(Sample, [](CertSettings* s) { s->names = {"ok.example", "bad name"}; }),
     "invalid name \"bad name\""},
    {"WildcardNeedsDns01",
     From(Sample, [](CertSettings* s) { s->names = {"*.example.com"}; }),
     "*.example.com: wildcard names can only be validated with dns-01"},
    {"CertNameIsADirectoryName", From(Sample, [](CertSettings* s) { s->name = "../../etc"; }),
     "--name \"../../etc\" must be 1..100 characters"},
    {"TargetIsGiven", From(Sample, [](CertSettings* s) { s->challenge_target = ""; }),
     "--challenge-dir needs a value"},
    {"TargetIsAbsolute", From(Sample, [](CertSettings* s) { s->challenge_target = "srv/acme"; }),
     "--challenge-dir \"srv/acme\" must be an absolute path"},
    {"Rfc2136TargetIsAServer",
     From(DnsSample, [](CertSettings* s) { s->challenge_target = "ns.example"; }),
     "--dns-rfc2136: DNS server \"ns.example\""},
    {"TsigKeyOnlyWithRfc2136", From(DnsSample,
                                    [](CertSettings* s) {
                                      s->method = ChallengeMethod::kDnsDrop;
                                      s->challenge_target = "/srv/drop";
                                    }),
     "--tsig-key goes with --dns-rfc2136"},
    {"DnsTimingOnlyWithDns01", From(Sample, [](CertSettings* s) { s->dns.wait_seconds = 5; }),
     "--dns-timeout and --dns-wait go with a dns-01 method", nullptr, false},
    {"DnsResolverOnlyWithDns01",
     From(Sample, [](CertSettings* s) { s->dns.resolver = "127.0.0.1:53"; }),
     "the dns-01 resolver goes with a dns-01 method", nullptr, false},
    {"DnsTimeoutRange", From(DnsSample, [](CertSettings* s) { s->dns.timeout_seconds = 0; }),
     "--dns-timeout must be 1..86400 seconds and --dns-wait 0..86400"},
    {"DnsWaitRange", From(DnsSample, [](CertSettings* s) { s->dns.wait_seconds = 86401; }),
     "--dns-timeout must be 1..86400 seconds and --dns-wait 0..86400"},
    {"Rfc2136NeedsTsigKey", From(DnsSample, [](CertSettings* s) { s->dns.tsig_key_file = ""; }),
     "--dns-rfc2136 needs --tsig-key FILE"},
    {"TsigKeyIsAbsolute",
     From(DnsSample, [](CertSettings* s) { s->dns.tsig_key_file = "tsig.key"; }),
     "--tsig-key \"tsig.key\" must be an absolute path"},
    {"DnsResolverIsAServer", From(DnsSample, [](CertSettings* s) { s->dns.resolver = "nowhere"; }),
     "--dns-resolver: DNS server \"nowhere\""},
    {"PreflightPortOnlyWithHttp01",
     From(DnsSample, [](CertSettings* s) { s->preflight.port = 8080; }),
     "--preflight-port goes with an http-01 method", nullptr, false},
    {"PreflightOnlyWithHttp01",
     From(DnsSample, [](CertSettings* s) { s->preflight.enabled = true; }),
     "the pre-flight check goes with an http-01 method", nullptr, false},
    {"PreflightOptionsNeedTheCheck",
     From(Sample, [](CertSettings* s) { s->preflight.resolver = "127.0.0.1:53"; }),
     "--dns-resolver and --preflight-port set up the pre-flight check, which --no-preflight "
     "turns off"},
    {"PreflightPortRange", From(HttpSample, [](CertSettings* s) { s->preflight.port = 65536; }),
     "--preflight-port must be 1..65535"},
    {"PreflightResolverIsAServer",
     From(HttpSample, [](CertSettings* s) { s->preflight.resolver = "nowhere"; }),
     "--dns-resolver (pre-flight check): DNS server \"nowhere\""},
    {"TlsaNotWithCsr", From(Sample,
                            [](CertSettings* s) {
                              s->csr_file = "/etc/req.csr";
                              s->dane.endpoints = {"mail.example.com:25"};
                            }),
     "--tlsa goes with a key bulkhead makes: with --csr the key is yours"},
    {"AtMost64Tlsa", From(Sample,
                          [](CertSettings* s) {
                            for (int i = 0; i < 65; ++i) {
                              s->dane.endpoints.push_back(fmt::format("m{}.example:25", i));
                            }
                          }),
     "at most 64 --tlsa endpoints"},
    {"TlsaIsHostPort",
     From(Sample, [](CertSettings* s) { s->dane.endpoints = {"mail.example.com"}; }),
     "--tlsa \"mail.example.com\": expected HOST:PORT"},
    {"TlsaIsCanonical",
     From(Sample, [](CertSettings* s) { s->dane.endpoints = {"Mail.Example.COM.:25"}; }),
     "--tlsa \"Mail.Example.COM.:25\": write it as \"mail.example.com:25\""},
    {"TlsaResolverIsAServer", From(Sample,
                                   [](CertSettings* s) {
                                     s->dane.endpoints = {"mail.example.com:25"};
                                     s->dane.resolver = "nowhere";
                                   }),
     "--dns-resolver (TLSA lookups): DNS server \"nowhere\""},
    {"ProfileCharacters", From(Sample, [](CertSettings* s) { s->profile = "short lived"; }),
     "--profile: a profile name is 1..64 letters, digits, '.', '_' or '-'"},
    {"ProfileLength", From(Sample, [](CertSettings* s) { s->profile = std::string(65, 'p'); }),
     "--profile: a profile name is 1..64 letters, digits, '.', '_' or '-'"},
    {"KeyTypeIsKnown",
     From(Sample, [](CertSettings* s) { s->key_type = static_cast<crypto::KeyType>(99); }),
     "unknown key type"},
    {"ServerIsHttps",
     From(Sample, [](CertSettings* s) { s->server = "http://ca.example/dir"; }),
     "server \"http://ca.example/dir\" must be an https:// directory URL"},
};

class CertSettingsRule : public ::testing::TestWithParam<Rule> {};

TEST_P(CertSettingsRule, RefusedByValidate) {
  const Rule& rule = GetParam();
  Status v = rule.broken().Validate();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, ErrorCode::kUsage) << v.error().message;
  EXPECT_NE(v.error().message.find(rule.says), std::string::npos) << v.error().message;
}

TEST_P(CertSettingsRule, RefusedInSettingsJson) {
  const Rule& rule = GetParam();
  const std::string path = "/var/lib/bulkhead/certs/example.com/settings.json";
  auto r = CertSettings::FromJson(rule.broken().ToJson(), path);
  if (!rule.in_file) {
    // The file has no place for the option: what it gives back is valid.
    ASSERT_TRUE(r.ok()) << r.error().message;
    Status v = r->Validate();
    EXPECT_TRUE(v.ok()) << v.error().message;
    return;
  }
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_EQ(m.rfind(path + ": ", 0), 0u) << m;
  EXPECT_NE(m.find(rule.file_says != nullptr ? rule.file_says : rule.says), std::string::npos)
      << m;
  if (rule.file_says == nullptr) {
    EXPECT_EQ(r.error().code, ErrorCode::kUsage) << m;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryRule, CertSettingsRule, ::testing::ValuesIn(kRules),
                         [](const ::testing::TestParamInfo<Rule>& info) {
                           return std::string(info.param.name);
                         });

// Options a file cannot carry are dropped on reading, so a hand edit that
// adds them changes nothing.
TEST(CertSettingsValidate, OptionsOfTheOtherMethodAreNotRead) {
  nlohmann::json http = HttpSample().ToJson();
  http["challenge"]["dns"] = {{"timeout", 99999}, {"wait", -1}, {"resolver", "nowhere"}};
  auto r = CertSettings::FromJson(http, "settings.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->dns, DnsSettings{});
  nlohmann::json dns = DnsSample().ToJson();
  dns["challenge"]["preflight"] = {{"enabled", true}, {"port", 0}};
  r = CertSettings::FromJson(dns, "settings.json");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->preflight, PreflightSettings{});
}

// A number that does not fit an int is malformed, not wrapped into range.
TEST(CertSettingsValidate, HugeNumbersAreMalformed) {
  nlohmann::json j = DnsSample().ToJson();
  j["challenge"]["dns"]["timeout"] = 4294967596LL;  // 2^32 + 300.
  auto r = CertSettings::FromJson(j, "settings.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("challenge.dns.timeout"), std::string::npos);
  j = HttpSample().ToJson();
  j["challenge"]["preflight"]["port"] = 18446744073709551615ULL;
  r = CertSettings::FromJson(j, "settings.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("challenge.preflight"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::manager
