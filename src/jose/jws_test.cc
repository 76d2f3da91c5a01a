#include "jose/jws.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/test_keys.h"
#include "jose/jwk.h"
#include "util/base64url.h"

namespace bulkhead::jose {
namespace {

using crypto::KeyType;
using crypto::PrivateKey;

std::string Decode(const nlohmann::json& jws, const char* member) {
  auto bytes = Base64UrlDecode(jws.at(member).get<std::string>());
  EXPECT_TRUE(bytes.ok()) << member;
  return bytes.ok() ? *bytes : std::string();
}

// Flip changes one character of a base64url member to another valid one.
nlohmann::json Flip(nlohmann::json jws, const char* member, size_t index) {
  std::string text = jws.at(member).get<std::string>();
  text[index] = text[index] == 'A' ? 'B' : 'A';
  jws[member] = text;
  return jws;
}

class JwsTypeTest : public ::testing::TestWithParam<KeyType> {
 protected:
  const PrivateKey& key() const { return crypto::TestKey(GetParam()); }
  nlohmann::json jwk() const { return *PublicJwk(key()); }
};

TEST_P(JwsTypeTest, SignRawHasJwsLength) {
  auto sig = SignRaw(key(), "header.payload");
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  size_t want = 0;
  switch (GetParam()) {
    case KeyType::kEc256:
      want = 64;
      break;
    case KeyType::kEc384:
      want = 96;
      break;
    case KeyType::kRsa2048:
      want = 256;
      break;
    case KeyType::kRsa3072:
      want = 384;
      break;
    case KeyType::kRsa4096:
      want = 512;
      break;
  }
  EXPECT_EQ(sig->size(), want);
}

TEST_P(JwsTypeTest, RoundTripWithPayload) {
  nlohmann::json header = {{"url", "https://ca.test/new-order"}, {"nonce", "n0nce"}};
  std::string payload = R"({"identifiers":[{"type":"dns","value":"example.com"}]})";
  auto jws = SignFlattened(key(), header, payload);
  ASSERT_TRUE(jws.ok()) << jws.error().message;
  EXPECT_EQ(jws->size(), 3u);

  auto protected_header = nlohmann::json::parse(Decode(*jws, "protected"));
  EXPECT_EQ(protected_header["alg"], JwsAlg(GetParam()));
  EXPECT_EQ(protected_header["url"], "https://ca.test/new-order");
  EXPECT_EQ(protected_header["nonce"], "n0nce");
  EXPECT_EQ(Decode(*jws, "payload"), payload);

  auto verified = VerifyFlattened(*jws, jwk());
  ASSERT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_EQ(*verified, payload);
}

TEST_P(JwsTypeTest, PostAsGetHasEmptyPayload) {
  auto jws = SignFlattened(key(), {{"url", "https://ca.test/acct/1"}}, "");
  ASSERT_TRUE(jws.ok()) << jws.error().message;
  EXPECT_EQ(jws->at("payload"), "");
  auto verified = VerifyFlattened(*jws, jwk());
  ASSERT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_EQ(*verified, "");
}

TEST_P(JwsTypeTest, DetectsTampering) {
  auto jws = SignFlattened(key(), {{"url", "https://ca.test/x"}}, R"({"a":1})");
  ASSERT_TRUE(jws.ok());
  ASSERT_TRUE(VerifyFlattened(*jws, jwk()).ok());
  EXPECT_FALSE(VerifyFlattened(Flip(*jws, "payload", 1), jwk()).ok());
  EXPECT_FALSE(VerifyFlattened(Flip(*jws, "protected", 20), jwk()).ok());
  EXPECT_FALSE(VerifyFlattened(Flip(*jws, "signature", 5), jwk()).ok());

  nlohmann::json swapped = *jws;
  swapped["payload"] = Base64UrlEncode(R"({"a":2})");
  EXPECT_FALSE(VerifyFlattened(swapped, jwk()).ok());

  nlohmann::json truncated = *jws;
  std::string sig = truncated["signature"];
  truncated["signature"] = sig.substr(0, sig.size() - 4);
  EXPECT_FALSE(VerifyFlattened(truncated, jwk()).ok());
}

TEST_P(JwsTypeTest, RejectsOtherKeyOfSameType) {
  auto jws = SignFlattened(key(), {{"url", "https://ca.test/x"}}, "{}");
  ASSERT_TRUE(jws.ok());
  // Another key of the same algorithm (RS256 does not fix the modulus size).
  nlohmann::json other_jwk;
  if (GetParam() == KeyType::kEc256 || GetParam() == KeyType::kEc384) {
    auto other = PrivateKey::Generate(GetParam());
    ASSERT_TRUE(other.ok());
    other_jwk = *PublicJwk(*other);
  } else {
    KeyType other_type = GetParam() == KeyType::kRsa2048 ? KeyType::kRsa3072 : KeyType::kRsa2048;
    other_jwk = *PublicJwk(crypto::TestKey(other_type));
  }
  EXPECT_FALSE(VerifyFlattened(*jws, other_jwk).ok());
}

INSTANTIATE_TEST_SUITE_P(AllTypes, JwsTypeTest, ::testing::ValuesIn(crypto::kAllKeyTypes),
                         [](const auto& info) { return std::string(KeyTypeName(info.param)); });

TEST(JwsTest, RsSignatureVerifiesWithOpenSsl) {
  // An independent check of the RS256 bytes, not going through our verifier.
  const PrivateKey& key = crypto::TestKey(KeyType::kRsa2048);
  auto sig = SignRaw(key, "abc.def");
  ASSERT_TRUE(sig.ok());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                             reinterpret_cast<const unsigned char*>("abc.def"), 7),
            1);
  EVP_MD_CTX_free(ctx);
}

TEST(JwsTest, RejectsAlgKeyMismatch) {
  auto jws = SignFlattened(crypto::TestKey(KeyType::kEc256), {{"url", "u"}}, "{}");
  ASSERT_TRUE(jws.ok());
  EXPECT_FALSE(VerifyFlattened(*jws, *PublicJwk(crypto::TestKey(KeyType::kEc384))).ok());
  EXPECT_FALSE(VerifyFlattened(*jws, *PublicJwk(crypto::TestKey(KeyType::kRsa2048))).ok());
}

TEST(JwsTest, RejectsNoneAndMalformedInput) {
  const nlohmann::json jwk = *PublicJwk(crypto::TestKey(KeyType::kEc256));
  nlohmann::json none = {{"protected", Base64UrlEncode(R"({"alg":"none"})")},
                         {"payload", Base64UrlEncode("{}")},
                         {"signature", ""}};
  EXPECT_FALSE(VerifyFlattened(none, jwk).ok());
  EXPECT_FALSE(VerifyFlattened(nlohmann::json::array(), jwk).ok());
  EXPECT_FALSE(
      VerifyFlattened({{"protected", "!!"}, {"payload", ""}, {"signature", ""}}, jwk).ok());
  EXPECT_FALSE(
      VerifyFlattened(
          {{"protected", Base64UrlEncode("not json")}, {"payload", ""}, {"signature", ""}}, jwk)
          .ok());
}

TEST(JwsTest, SignFlattenedRejectsNonObjectHeader) {
  EXPECT_FALSE(SignFlattened(crypto::TestKey(KeyType::kEc256), nlohmann::json::array(), "").ok());
}

TEST(JwsTest, SignFlattenedOverridesCallerAlg) {
  auto jws = SignFlattened(crypto::TestKey(KeyType::kEc256), {{"alg", "none"}, {"url", "u"}}, "");
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(nlohmann::json::parse(Decode(*jws, "protected"))["alg"], "ES256");
}

TEST(ExternalAccountBindingTest, BuildsHs256Jws) {
  const nlohmann::json account_jwk = *PublicJwk(crypto::TestKey(KeyType::kEc256));
  const std::string hmac_key = "a-secret-key-of-32-bytes-length!";
  const std::string key64 = Base64UrlEncode(hmac_key);
  auto eab = ExternalAccountBinding(account_jwk, "kid-1", key64, "https://ca.test/new-acct");
  ASSERT_TRUE(eab.ok()) << eab.error().message;

  EXPECT_EQ(
      nlohmann::json::parse(Decode(*eab, "protected")),
      (nlohmann::json{{"alg", "HS256"}, {"kid", "kid-1"}, {"url", "https://ca.test/new-acct"}}));
  EXPECT_EQ(nlohmann::json::parse(Decode(*eab, "payload")), account_jwk);

  std::string input =
      eab->at("protected").get<std::string>() + "." + eab->at("payload").get<std::string>();
  EXPECT_EQ(Decode(*eab, "signature"), *crypto::HmacSha256(hmac_key, input));

  nlohmann::json oct = {{"kty", "oct"}, {"k", key64}};
  auto payload = VerifyFlattened(*eab, oct);
  ASSERT_TRUE(payload.ok()) << payload.error().message;
  EXPECT_EQ(nlohmann::json::parse(*payload), account_jwk);

  nlohmann::json wrong = {{"kty", "oct"}, {"k", Base64UrlEncode("another key")}};
  EXPECT_FALSE(VerifyFlattened(*eab, wrong).ok());
}

TEST(ExternalAccountBindingTest, RejectsBadKey) {
  const nlohmann::json account_jwk = *PublicJwk(crypto::TestKey(KeyType::kEc256));
  EXPECT_FALSE(ExternalAccountBinding(account_jwk, "kid", "not+base64/url", "u").ok());
  EXPECT_FALSE(ExternalAccountBinding(account_jwk, "kid", "a", "u").ok());
  EXPECT_FALSE(ExternalAccountBinding(account_jwk, "kid", "", "u").ok());
}

}  // namespace
}  // namespace bulkhead::jose
