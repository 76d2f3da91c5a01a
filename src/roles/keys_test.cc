#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crypto/csr.h"
#include "crypto/test_keys.h"
#include "roles/keys.h"

namespace bulkhead::roles {
namespace {

using crypto::KeyType;
using crypto::PrivateKey;

const std::vector<std::string> kNames = {"example.com", "www.example.com"};

KeyRequest Request(KeyType type, bool reuse, Secret existing) {
  KeyRequest request;
  request.names = kNames;
  request.type = type;
  request.reuse = reuse;
  request.existing_pem = std::move(existing);
  return request;
}

Secret PemOf(KeyType type) {
  auto pem = crypto::TestKey(type).ToPem();
  EXPECT_TRUE(pem.ok());
  return pem.ok() ? std::move(pem).value() : Secret();
}

// CheckPrepared asserts that the CSR, public key and key PEM agree and
// returns the key's type.
KeyType CheckPrepared(const PreparedKey& prepared) {
  auto key = PrivateKey::FromPem(prepared.key_pem.view());
  EXPECT_TRUE(key.ok());
  if (!key.ok()) {
    return KeyType::kEc256;
  }
  auto csr = crypto::ParseCsr(prepared.csr_der);
  EXPECT_TRUE(csr.ok());
  if (csr.ok()) {
    EXPECT_EQ(csr->names, kNames);
    EXPECT_EQ(csr->public_key_der, prepared.public_key_der);
  }
  EXPECT_EQ(*key->PublicKeyDer(), prepared.public_key_der);
  return key->type();
}

TEST(PrepareKeyTest, GeneratesKeyOfRequestedType) {
  auto prepared = PrepareKey(Request(KeyType::kEc384, /*reuse=*/false, Secret()));
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(CheckPrepared(*prepared), KeyType::kEc384);
}

TEST(PrepareKeyTest, ReusesExistingKey) {
  auto prepared = PrepareKey(Request(KeyType::kEc256, /*reuse=*/true, PemOf(KeyType::kEc256)));
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(CheckPrepared(*prepared), KeyType::kEc256);
  EXPECT_EQ(prepared->public_key_der, *crypto::TestKey(KeyType::kEc256).PublicKeyDer());
}

TEST(PrepareKeyTest, ReuseKeepsExistingKeyOfOtherType) {
  auto prepared = PrepareKey(Request(KeyType::kEc256, /*reuse=*/true, PemOf(KeyType::kRsa2048)));
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(CheckPrepared(*prepared), KeyType::kRsa2048);
  EXPECT_EQ(prepared->public_key_der, *crypto::TestKey(KeyType::kRsa2048).PublicKeyDer());
}

TEST(PrepareKeyTest, WithoutReuseMakesFreshKey) {
  auto prepared = PrepareKey(Request(KeyType::kEc256, /*reuse=*/false, PemOf(KeyType::kEc256)));
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(CheckPrepared(*prepared), KeyType::kEc256);
  EXPECT_NE(prepared->public_key_der, *crypto::TestKey(KeyType::kEc256).PublicKeyDer());
}

TEST(PrepareKeyTest, ReuseWithoutExistingKeyGenerates) {
  auto prepared = PrepareKey(Request(KeyType::kEc384, /*reuse=*/true, Secret()));
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(CheckPrepared(*prepared), KeyType::kEc384);
}

TEST(PrepareKeyTest, BrokenExistingKeyFails) {
  EXPECT_FALSE(PrepareKey(Request(KeyType::kEc256, /*reuse=*/true, Secret("garbage"))).ok());
}

TEST(PrepareKeyTest, NoNamesFails) {
  KeyRequest request;
  EXPECT_FALSE(PrepareKey(std::move(request)).ok());
}

// UserCsrRequest asks for `names` with a user CSR covering `csr_names`.
KeyRequest UserCsrRequest(std::vector<std::string> names,
                          const std::vector<std::string>& csr_names) {
  KeyRequest request;
  request.names = std::move(names);
  auto der = crypto::MakeCsr(crypto::TestKey(KeyType::kEc384), csr_names);
  EXPECT_TRUE(der.ok());
  request.csr_pem = der.ok() ? *der : std::string();  // ParseCsr takes DER as well.
  return request;
}

TEST(PrepareKeyTest, UsesMatchingUserCsr) {
  auto prepared = PrepareKey(
      UserCsrRequest({"WWW.Example.com", "example.com"}, {"example.com", "www.example.com"}));
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_TRUE(prepared->key_pem.empty());
  EXPECT_EQ(prepared->public_key_der, *crypto::TestKey(KeyType::kEc384).PublicKeyDer());
  auto csr = crypto::ParseCsr(prepared->csr_der);
  ASSERT_TRUE(csr.ok());
  EXPECT_EQ(csr->names, kNames);
}

TEST(PrepareKeyTest, UserCsrAddressesCompareByValue) {
  auto prepared =
      PrepareKey(UserCsrRequest({"2001:DB8:0::1", "a.example"}, {"a.example", "2001:db8::1"}));
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
}

TEST(PrepareKeyTest, RejectsUserCsrWithOtherNames) {
  auto missing = PrepareKey(UserCsrRequest({"example.com", "www.example.com"}, {"example.com"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kUsage);
  EXPECT_FALSE(PrepareKey(UserCsrRequest({"example.com"}, {"example.com", "extra.example"})).ok());
}

TEST(PrepareKeyTest, RejectsBrokenUserCsr) {
  KeyRequest request;
  request.names = kNames;
  request.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n";
  EXPECT_FALSE(PrepareKey(std::move(request)).ok());
}

}  // namespace
}  // namespace bulkhead::roles
