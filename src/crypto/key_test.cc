#include "crypto/key.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <cstring>
#include <string>

#include "crypto/ossl.h"
#include "crypto/test_keys.h"

namespace bulkhead::crypto {
namespace {

// PemOf returns a PKCS#8 PEM for a key OpenSSL generated directly, so that
// tests can feed FromPem key kinds bulkhead itself never makes.
std::string PemOf(EVP_PKEY* pkey, const EVP_CIPHER* cipher = nullptr,
                  const char* passphrase = nullptr) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  int pass_len = passphrase != nullptr ? static_cast<int>(strlen(passphrase)) : 0;
  EXPECT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey, cipher, passphrase, pass_len, nullptr,
                                          const_cast<char*>(passphrase)),
            1);
  return BioContents(bio.get());
}

TEST(KeyTypeTest, ParsesEveryNameAndBack) {
  for (KeyType type : kAllKeyTypes) {
    auto parsed = ParseKeyType(KeyTypeName(type));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_EQ(KeyTypeName(KeyType::kEc384), "ec384");
  EXPECT_EQ(KeyTypeName(KeyType::kRsa3072), "rsa3072");
}

TEST(KeyTypeTest, RejectsUnknownNamesAsUsageErrors) {
  for (const char* bad : {"rsa1024", "EC256", "", "ed25519"}) {
    auto parsed = ParseKeyType(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kUsage);
    EXPECT_NE(parsed.error().message.find("rsa4096"), std::string::npos);
  }
}

class PrivateKeyTypeTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(PrivateKeyTypeTest, PemRoundTripKeepsTypeAndPublicKey) {
  const PrivateKey& key = TestKey(GetParam());
  EXPECT_EQ(key.type(), GetParam());
  auto pem = key.ToPem();
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  EXPECT_TRUE(pem->view().starts_with("-----BEGIN PRIVATE KEY-----\n"));

  auto reread = PrivateKey::FromPem(pem->view());
  ASSERT_TRUE(reread.ok()) << reread.error().message;
  EXPECT_EQ(reread->type(), GetParam());
  auto der1 = key.PublicKeyDer();
  auto der2 = reread->PublicKeyDer();
  ASSERT_TRUE(der1.ok());
  ASSERT_TRUE(der2.ok());
  EXPECT_EQ(*der1, *der2);
  EXPECT_EQ(EVP_PKEY_eq(key.get(), reread->get()), 1);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, PrivateKeyTypeTest, ::testing::ValuesIn(kAllKeyTypes),
                         [](const auto& info) { return std::string(KeyTypeName(info.param)); });

TEST(PrivateKeyTest, GeneratesEveryType) {
  // TestKey's RSA keys are fixed, so this is where generation is tested.
  // RSA 4096 is left out: it can take half a minute and differs from the
  // other sizes only in the bit count passed to OpenSSL.
  for (KeyType type : {KeyType::kEc256, KeyType::kEc384, KeyType::kRsa2048, KeyType::kRsa3072}) {
    auto key = PrivateKey::Generate(type);
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_EQ(key->type(), type);
    EXPECT_NE(*key->PublicKeyDer(), *TestKey(type).PublicKeyDer());
    auto reread = PrivateKey::FromPem(key->ToPem()->view());
    ASSERT_TRUE(reread.ok());
    EXPECT_EQ(reread->type(), type);
  }
}

TEST(PrivateKeyTest, AcceptsTraditionalEcPem) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PrivateKey_traditional(bio.get(), TestKey(KeyType::kEc256).get(), nullptr,
                                                 nullptr, 0, nullptr, nullptr),
            1);
  std::string pem = BioContents(bio.get());
  ASSERT_TRUE(pem.starts_with("-----BEGIN EC PRIVATE KEY-----"));
  auto key = PrivateKey::FromPem(pem);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->type(), KeyType::kEc256);
}

TEST(PrivateKeyTest, RejectsUnsupportedKeys) {
  PkeyPtr p521(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521"));
  PkeyPtr ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  PkeyPtr rsa1024(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_TRUE(p521 && ed25519 && rsa1024);

  auto r1 = PrivateKey::FromPem(PemOf(p521.get()));
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.error().message.find("secp521r1"), std::string::npos) << r1.error().message;
  auto r2 = PrivateKey::FromPem(PemOf(ed25519.get()));
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("ED25519"), std::string::npos) << r2.error().message;
  auto r3 = PrivateKey::FromPem(PemOf(rsa1024.get()));
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.error().message.find("1024"), std::string::npos) << r3.error().message;
}

TEST(PrivateKeyTest, RejectsEncryptedKeyWithoutPrompting) {
  std::string pem = PemOf(TestKey(KeyType::kEc256).get(), EVP_aes_256_cbc(), "hunter22");
  ASSERT_TRUE(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
  EXPECT_FALSE(PrivateKey::FromPem(pem).ok());
}

TEST(PrivateKeyTest, RejectsGarbageAndPublicKeys) {
  EXPECT_FALSE(PrivateKey::FromPem("").ok());
  EXPECT_FALSE(PrivateKey::FromPem("not a key").ok());
  EXPECT_FALSE(
      PrivateKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());

  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), TestKey(KeyType::kEc256).get()), 1);
  EXPECT_FALSE(PrivateKey::FromPem(BioContents(bio.get())).ok());
}

std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    out += fmt::format("{:02x}", c);
  }
  return out;
}

TEST(DigestTest, Sha256KnownAnswer) {
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(DigestTest, HmacSha256Rfc4231Case2) {
  auto mac = HmacSha256("Jefe", "what do ya want for nothing?");
  ASSERT_TRUE(mac.ok()) << mac.error().message;
  EXPECT_EQ(Hex(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(DigestTest, HmacSha256EmptyKey) {
  auto mac = HmacSha256(std::string_view(), "");
  ASSERT_TRUE(mac.ok()) << mac.error().message;
  EXPECT_EQ(Hex(*mac), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(PrivateKeyTest, PublicKeyPemDecodesToTheSameSpki) {
  auto key = PrivateKey::Generate(KeyType::kEc256);
  ASSERT_TRUE(key.ok());
  auto pem = key->PublicKeyPem();
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  EXPECT_EQ(pem->rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  EVP_PKEY* parsed = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  ASSERT_NE(parsed, nullptr);
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(parsed, &der);
  ASSERT_GT(len, 0);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len)),
            *key->PublicKeyDer());
  OPENSSL_free(der);
  EVP_PKEY_free(parsed);
}

}  // namespace
}  // namespace bulkhead::crypto
