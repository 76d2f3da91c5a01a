#include "jose/jwk.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/test_keys.h"
#include "util/base64url.h"

namespace bulkhead::jose {
namespace {

using crypto::KeyType;
using crypto::PrivateKey;

// The RSA key of RFC 7638 section 3.1, with its extra non-required members.
nlohmann::json Rfc7638Key() {
  return nlohmann::json{
      {"kty", "RSA"},
      {"n",
       "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
       "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"
       "RN5w6Cf0h4QyQ5v-65YGjQR0_"
       "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbI"
       "SD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
       "kEgU8awapJzKnqDKgw"},
      {"e", "AQAB"},
      {"alg", "RS256"},
      {"kid", "2011-04-29"},
  };
}

TEST(ThumbprintTest, MatchesRfc7638Example) {
  auto thumbprint = Thumbprint(Rfc7638Key());
  ASSERT_TRUE(thumbprint.ok()) << thumbprint.error().message;
  EXPECT_EQ(*thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(ThumbprintTest, IgnoresOptionalMembers) {
  nlohmann::json bare = Rfc7638Key();
  bare.erase("alg");
  bare.erase("kid");
  EXPECT_EQ(*Thumbprint(bare), *Thumbprint(Rfc7638Key()));
}

TEST(ThumbprintTest, RejectsIncompleteJwks) {
  nlohmann::json no_n = Rfc7638Key();
  no_n.erase("n");
  EXPECT_FALSE(Thumbprint(no_n).ok());
  nlohmann::json numeric_e = Rfc7638Key();
  numeric_e["e"] = 65537;
  EXPECT_FALSE(Thumbprint(numeric_e).ok());
  EXPECT_FALSE(Thumbprint(nlohmann::json{{"kty", "OKP"}, {"x", "abc"}}).ok());
  EXPECT_FALSE(Thumbprint(nlohmann::json{{"kty", "EC"}, {"x", "a"}, {"y", "b"}}).ok());
  EXPECT_FALSE(Thumbprint(nlohmann::json::array()).ok());
  EXPECT_FALSE(Thumbprint(nlohmann::json{{"n", "abc"}}).ok());
}

// Member decodes a base64url JWK member, failing the test if it cannot.
std::string Member(const nlohmann::json& jwk, const char* name) {
  auto bytes = Base64UrlDecode(jwk.at(name).get<std::string>());
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::string();
}

TEST(PublicJwkTest, EcCoordinatesMatchPublicKey) {
  for (auto [type, crv, len] : {std::tuple{KeyType::kEc256, "P-256", size_t{32}},
                                std::tuple{KeyType::kEc384, "P-384", size_t{48}}}) {
    const PrivateKey& key = crypto::TestKey(type);
    auto jwk = PublicJwk(key);
    ASSERT_TRUE(jwk.ok()) << jwk.error().message;
    EXPECT_EQ(jwk->size(), 4u);
    EXPECT_EQ(jwk->at("kty"), "EC");
    EXPECT_EQ(jwk->at("crv"), crv);
    std::string x = Member(*jwk, "x");
    std::string y = Member(*jwk, "y");
    EXPECT_EQ(x.size(), len);
    EXPECT_EQ(y.size(), len);
    // The SubjectPublicKeyInfo ends with the uncompressed point 04||x||y.
    EXPECT_TRUE(key.PublicKeyDer()->ends_with("\x04" + x + y));
  }
}

TEST(PublicJwkTest, EcCoordinatesAreLeftPadded) {
  // About one P-256 key in 128 has a coordinate with a leading zero byte;
  // such a coordinate must still encode as 32 bytes.
  for (int i = 0; i < 8192; ++i) {
    auto key = PrivateKey::Generate(KeyType::kEc256);
    ASSERT_TRUE(key.ok());
    auto jwk = PublicJwk(*key);
    ASSERT_TRUE(jwk.ok());
    std::string x = Member(*jwk, "x");
    std::string y = Member(*jwk, "y");
    ASSERT_EQ(x.size(), 32u);
    ASSERT_EQ(y.size(), 32u);
    if (x[0] == '\0' || y[0] == '\0') {
      EXPECT_TRUE(key->PublicKeyDer()->ends_with("\x04" + x + y));
      return;
    }
  }
  FAIL() << "no key with a leading zero coordinate found";
}

TEST(PublicJwkTest, RsaModulusAndExponentAreMinimal) {
  for (auto [type, bytes] :
       {std::pair{KeyType::kRsa2048, size_t{256}}, std::pair{KeyType::kRsa4096, size_t{512}}}) {
    auto jwk = PublicJwk(crypto::TestKey(type));
    ASSERT_TRUE(jwk.ok()) << jwk.error().message;
    EXPECT_EQ(jwk->size(), 3u);
    EXPECT_EQ(jwk->at("kty"), "RSA");
    EXPECT_EQ(jwk->at("e"), "AQAB");
    std::string n = Member(*jwk, "n");
    EXPECT_EQ(n.size(), bytes);
    EXPECT_NE(n[0], '\0');
  }
}

TEST(PublicJwkTest, ThumbprintSurvivesPemRoundTrip) {
  for (KeyType type : crypto::kAllKeyTypes) {
    const PrivateKey& key = crypto::TestKey(type);
    auto reread = PrivateKey::FromPem(key.ToPem()->view());
    ASSERT_TRUE(reread.ok());
    auto t1 = Thumbprint(*PublicJwk(key));
    auto t2 = Thumbprint(*PublicJwk(*reread));
    ASSERT_TRUE(t1.ok());
    EXPECT_EQ(*t1, *t2);
    EXPECT_EQ(t1->size(), 43u);  // 32 bytes, unpadded base64url.
  }
}

TEST(JwsAlgTest, NamesEveryKeyType) {
  EXPECT_EQ(JwsAlg(KeyType::kEc256), "ES256");
  EXPECT_EQ(JwsAlg(KeyType::kEc384), "ES384");
  EXPECT_EQ(JwsAlg(KeyType::kRsa2048), "RS256");
  EXPECT_EQ(JwsAlg(KeyType::kRsa3072), "RS256");
  EXPECT_EQ(JwsAlg(KeyType::kRsa4096), "RS256");
}

}  // namespace
}  // namespace bulkhead::jose
