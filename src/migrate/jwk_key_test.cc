#include "migrate/jwk_key.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>

#include <vector>

#include "jose/jwk.h"
#include "util/base64url.h"

namespace bulkhead::migrate {
namespace {

// BnMember returns the base64url big-endian bytes of a key parameter, as a
// JWK carries them.
std::string BnMember(const crypto::PrivateKey& key, const char* param) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key.get(), param, &bn), 1) << param;
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_clear_free(bn);
  return Base64UrlEncode(bytes);
}

// PrivateJwk builds the private JWK certbot would write for `key`.
nlohmann::json PrivateJwk(const crypto::PrivateKey& key) {
  nlohmann::json jwk = *jose::PublicJwk(key);
  if (jwk["kty"] == "EC") {
    jwk["d"] = BnMember(key, OSSL_PKEY_PARAM_PRIV_KEY);
  } else {
    jwk["d"] = BnMember(key, OSSL_PKEY_PARAM_RSA_D);
    jwk["p"] = BnMember(key, OSSL_PKEY_PARAM_RSA_FACTOR1);
    jwk["q"] = BnMember(key, OSSL_PKEY_PARAM_RSA_FACTOR2);
    jwk["dp"] = BnMember(key, OSSL_PKEY_PARAM_RSA_EXPONENT1);
    jwk["dq"] = BnMember(key, OSSL_PKEY_PARAM_RSA_EXPONENT2);
    jwk["qi"] = BnMember(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
  }
  return jwk;
}

TEST(JwkKeyTest, RebuildsTheSameKeyForEveryType) {
  for (crypto::KeyType type :
       {crypto::KeyType::kEc256, crypto::KeyType::kEc384, crypto::KeyType::kRsa2048}) {
    auto key = crypto::PrivateKey::Generate(type);
    ASSERT_TRUE(key.ok());
    auto rebuilt = PrivateKeyFromJwk(PrivateJwk(*key));
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message;
    EXPECT_EQ(rebuilt->type(), type);
    EXPECT_EQ(*rebuilt->PublicKeyDer(), *key->PublicKeyDer());
    // The PEM form is what account.key holds; it must read back.
    auto pem = rebuilt->ToPem();
    ASSERT_TRUE(pem.ok());
    EXPECT_TRUE(crypto::PrivateKey::FromPem(pem->view()).ok());
  }
}

TEST(JwkKeyTest, RefusesAPrivateHalfOfAnotherKey) {
  auto a = crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  auto b = crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  nlohmann::json jwk = PrivateJwk(*a);
  jwk["d"] = PrivateJwk(*b)["d"];
  auto r = PrivateKeyFromJwk(jwk);
  ASSERT_FALSE(r.ok());

  auto rsa = crypto::PrivateKey::Generate(crypto::KeyType::kRsa2048);
  auto other = crypto::PrivateKey::Generate(crypto::KeyType::kRsa2048);
  nlohmann::json rjwk = PrivateJwk(*rsa);
  rjwk["p"] = PrivateJwk(*other)["p"];
  EXPECT_FALSE(PrivateKeyFromJwk(rjwk).ok());
}

TEST(JwkKeyTest, RefusesMissingOrMalformedMembersNamingThem) {
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kRsa2048);
  nlohmann::json jwk = PrivateJwk(*key);
  jwk.erase("qi");
  auto missing = PrivateKeyFromJwk(jwk);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("\"qi\""), std::string::npos);
  jwk = PrivateJwk(*key);
  jwk["n"] = "not base64url!";
  auto bad = PrivateKeyFromJwk(jwk);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("\"n\""), std::string::npos);
  jwk["n"] = 5;
  EXPECT_FALSE(PrivateKeyFromJwk(jwk).ok());

  EXPECT_FALSE(PrivateKeyFromJwk(nlohmann::json::array()).ok());
  EXPECT_FALSE(PrivateKeyFromJwk({{"kty", 1}}).ok());
  auto oct = PrivateKeyFromJwk({{"kty", "oct"}, {"k", "AAAA"}});
  ASSERT_FALSE(oct.ok());
  EXPECT_NE(oct.error().message.find("unsupported key type"), std::string::npos);
  auto ec = crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
  nlohmann::json ejwk = PrivateJwk(*ec);
  ejwk["crv"] = "P-521";
  EXPECT_FALSE(PrivateKeyFromJwk(ejwk).ok());
}

}  // namespace
}  // namespace bulkhead::migrate
