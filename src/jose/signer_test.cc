#include <gtest/gtest.h>

#include <string>

#include "crypto/test_keys.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "jose/signer.h"
#include "util/base64url.h"

namespace bulkhead::jose {
namespace {

using crypto::KeyType;

nlohmann::json ProtectedHeader(const nlohmann::json& jws) {
  auto text = Base64UrlDecode(jws.at("protected").get<std::string>());
  EXPECT_TRUE(text.ok());
  return nlohmann::json::parse(text.ok() ? *text : "null");
}

std::unique_ptr<Signer> SignerFor(KeyType type) {
  auto pem = crypto::TestKey(type).ToPem();
  EXPECT_TRUE(pem.ok());
  auto signer = NewLocalSigner(*pem);
  EXPECT_TRUE(signer.ok()) << signer.error().message;
  return signer.ok() ? std::move(signer).value() : nullptr;
}

TEST(LocalSignerTest, ExposesJwkAndThumbprint) {
  auto signer = SignerFor(KeyType::kEc256);
  ASSERT_TRUE(signer);
  auto jwk = jose::PublicJwk(crypto::TestKey(KeyType::kEc256));
  ASSERT_TRUE(jwk.ok());
  EXPECT_EQ(signer->Jwk(), *jwk);
  EXPECT_EQ(signer->Thumbprint(), *jose::Thumbprint(*jwk));
}

TEST(LocalSignerTest, SignsWithKid) {
  auto signer = SignerFor(KeyType::kEc384);
  ASSERT_TRUE(signer);
  SignRequest request{.url = "https://ca.test/new-order",
                      .nonce = "abc123",
                      .kid = "https://ca.test/acct/7",
                      .payload = R"({"identifiers":[]})"};
  auto jws = signer->Sign(request);
  ASSERT_TRUE(jws.ok()) << jws.error().message;
  nlohmann::json header = ProtectedHeader(*jws);
  EXPECT_EQ(header, (nlohmann::json{{"alg", "ES384"},
                                    {"nonce", "abc123"},
                                    {"url", "https://ca.test/new-order"},
                                    {"kid", "https://ca.test/acct/7"}}));
  auto payload = jose::VerifyFlattened(*jws, signer->Jwk());
  ASSERT_TRUE(payload.ok()) << payload.error().message;
  EXPECT_EQ(*payload, request.payload);
}

TEST(LocalSignerTest, EmbedsJwkWithoutKid) {
  auto signer = SignerFor(KeyType::kRsa2048);
  ASSERT_TRUE(signer);
  auto jws = signer->Sign({.url = "https://ca.test/new-acct",
                           .nonce = "n",
                           .kid = "",
                           .payload = R"({"termsOfServiceAgreed":true})"});
  ASSERT_TRUE(jws.ok()) << jws.error().message;
  nlohmann::json header = ProtectedHeader(*jws);
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(header["jwk"], signer->Jwk());
  EXPECT_FALSE(header.contains("kid"));
  EXPECT_TRUE(jose::VerifyFlattened(*jws, signer->Jwk()).ok());
}

TEST(LocalSignerTest, OmitsEmptyNonceAndSignsPostAsGet) {
  auto signer = SignerFor(KeyType::kEc256);
  ASSERT_TRUE(signer);
  auto jws =
      signer->Sign({.url = "https://ca.test/key-change", .nonce = "", .kid = "", .payload = ""});
  ASSERT_TRUE(jws.ok()) << jws.error().message;
  EXPECT_FALSE(ProtectedHeader(*jws).contains("nonce"));
  EXPECT_EQ(jws->at("payload"), "");
  auto payload = jose::VerifyFlattened(*jws, signer->Jwk());
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(*payload, "");
}

TEST(LocalSignerTest, NewSignerFromKeyTakesOwnership) {
  auto key = crypto::PrivateKey::Generate(KeyType::kEc256);
  ASSERT_TRUE(key.ok());
  auto jwk = jose::PublicJwk(*key);
  ASSERT_TRUE(jwk.ok());
  auto signer = NewSignerFromKey(std::move(key).value());
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  EXPECT_EQ((*signer)->Jwk(), *jwk);
  auto jws = (*signer)->Sign({.url = "u", .nonce = "n", .kid = "k", .payload = "{}"});
  ASSERT_TRUE(jws.ok());
  EXPECT_TRUE(jose::VerifyFlattened(*jws, *jwk).ok());
}

TEST(LocalSignerTest, RejectsBadPem) {
  auto signer = NewLocalSigner(Secret("not a key"));
  ASSERT_FALSE(signer.ok());
  EXPECT_NE(signer.error().message.find("account key"), std::string::npos);
  EXPECT_FALSE(NewLocalSigner(Secret()).ok());
}

}  // namespace
}  // namespace bulkhead::jose
