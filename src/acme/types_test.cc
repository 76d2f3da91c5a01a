#include "acme/types.h"

#include <gtest/gtest.h>

namespace bulkhead::acme {
namespace {

TEST(ParseDirectory, ReadsUrlsAndMeta) {
  auto d = ParseDirectory(R"({"newNonce":"https://ca/nonce","newAccount":"https://ca/acct",
      "newOrder":"https://ca/order","revokeCert":"https://ca/revoke","keyChange":"https://ca/kc",
      "meta":{"termsOfService":"https://ca/tos","externalAccountRequired":true,
              "profiles":{"classic":"x"}}})");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->new_order, "https://ca/order");
  EXPECT_EQ(d->terms_of_service, "https://ca/tos");
  EXPECT_TRUE(d->external_account_required);
  EXPECT_TRUE(d->profiles.contains("classic"));
  EXPECT_TRUE(d->renewal_info.empty());
}

TEST(ParseDirectory, RejectsMissingOrInsecureUrls) {
  auto missing = ParseDirectory(R"({"newNonce":"https://ca/n","newAccount":"https://ca/a"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("newOrder"), std::string::npos);
  auto http = ParseDirectory(
      R"({"newNonce":"http://ca/n","newAccount":"https://ca/a","newOrder":"https://ca/o"})");
  ASSERT_FALSE(http.ok());
  EXPECT_NE(http.error().message.find("non-https"), std::string::npos);
  EXPECT_FALSE(ParseDirectory("<html>oops</html>").ok());
  EXPECT_FALSE(ParseDirectory("[1,2]").ok());
}

TEST(IdentifierFor, ClassifiesNamesAndAddresses) {
  EXPECT_EQ(IdentifierFor("WWW.Example.COM"), (Identifier{"dns", "www.example.com"}));
  EXPECT_EQ(IdentifierFor("192.0.2.1"), (Identifier{"ip", "192.0.2.1"}));
  EXPECT_EQ(IdentifierFor("2001:db8::1"), (Identifier{"ip", "2001:db8::1"}));
}

TEST(ValidateName, AcceptsAndRejects) {
  EXPECT_TRUE(ValidateName("example.com").ok());
  EXPECT_TRUE(ValidateName("*.example.com").ok());
  EXPECT_TRUE(ValidateName("xn--bcher-kva.example").ok());
  EXPECT_TRUE(ValidateName("127.0.0.1").ok());
  for (const char* bad : {"", "localhost", "-a.example", "a-.example", "a..example", "a_b.example",
                          "exa mple.com", "*.*.example.com", "a.example/../x"}) {
    Status st = ValidateName(bad);
    EXPECT_FALSE(st.ok()) << bad;
    if (!st.ok()) {
      EXPECT_EQ(st.error().code, ErrorCode::kUsage);
    }
  }
  EXPECT_FALSE(ValidateName(std::string(300, 'a')).ok());
}

TEST(ParseOrder, ChecksRequiredFieldsAndStatus) {
  const char* good = R"({"status":"pending","identifiers":[{"type":"dns","value":"a.test"}],
      "authorizations":["https://ca/authz/1"],"finalize":"https://ca/fin/1"})";
  auto o = ParseOrder(good, "https://ca/order/1");
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->authorizations.size(), 1u);
  EXPECT_EQ(o->identifiers[0].value, "a.test");

  auto bogus = ParseOrder(R"({"status":"done","identifiers":[{"type":"dns","value":"a"}],
      "authorizations":[],"finalize":"https://ca/f"})", "u");
  ASSERT_FALSE(bogus.ok());
  EXPECT_NE(bogus.error().message.find("RFC 8555"), std::string::npos);

  auto no_cert = ParseOrder(R"({"status":"valid","identifiers":[{"type":"dns","value":"a"}],
      "authorizations":[],"finalize":"https://ca/f"})", "u");
  EXPECT_FALSE(no_cert.ok());
  EXPECT_FALSE(ParseOrder(R"({"status":"pending"})", "u").ok());
  EXPECT_FALSE(ParseOrder(R"({"status":5,"identifiers":[],"authorizations":[],"finalize":1})", "u").ok());
}

TEST(ParseAuthorization, ReadsChallenges) {
  auto a = ParseAuthorization(R"({"status":"pending","identifier":{"type":"dns","value":"a.test"},
      "challenges":[{"type":"http-01","url":"https://ca/c/1","status":"pending","token":"tok"},
                    {"type":"dns-01","url":"https://ca/c/2","status":"pending","token":"tok2"}]})",
                              "https://ca/authz/1");
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->challenges.size(), 2u);
  EXPECT_EQ(a->challenges[0].token, "tok");
  EXPECT_FALSE(ParseAuthorization(R"({"status":"pending","identifier":{"type":"dns","value":"a"},
      "challenges":[{"type":"http-01","status":"pending"}]})", "u").ok());
  EXPECT_FALSE(ParseAuthorization(R"({"status":"pending","challenges":[]})", "u").ok());
}

TEST(ParseAccount, ReadsContactAndStatus) {
  auto a = ParseAccount(R"({"status":"valid","contact":["mailto:a@b.c", 7]})", "https://ca/acct/1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->contact, std::vector<std::string>{"mailto:a@b.c"});
  EXPECT_FALSE(ParseAccount(R"({"status":"gone"})", "u").ok());
}

}  // namespace
}  // namespace bulkhead::acme
