#include "crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <string>
#include <vector>

#include "crypto/ossl.h"
#include "crypto/test_keys.h"

namespace bulkhead::crypto {
namespace {

// CertSpec describes a test certificate.
struct CertSpec {
  std::string cn;
  std::string serial_hex = "01";
  std::string san;  // OpenSSL config syntax, e.g. "DNS:a.example,IP:192.0.2.1".
  int64_t not_before = 1700000000;
  int64_t not_after = 1707776000;
  bool ca = false;
};

// RootSpec describes a self-signed CA certificate named `cn`.
CertSpec RootSpec(const std::string& cn) {
  CertSpec spec;
  spec.cn = cn;
  spec.serial_hex = "7f";
  spec.ca = true;
  return spec;
}

void AddExt(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  EXPECT_EQ(X509_add_ext(cert, ext, -1), 1);
  X509_EXTENSION_free(ext);
}

// MakeCert issues a certificate for `key` signed by `issuer_key`; `issuer`
// null makes it self-signed.
X509Ptr MakeCert(const CertSpec& spec, const PrivateKey& key, const PrivateKey& issuer_key,
                 X509* issuer) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  BIGNUM* serial = nullptr;
  BN_hex2bn(&serial, spec.serial_hex.c_str());
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);

  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Test Org"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), static_cast<time_t>(spec.not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), static_cast<time_t>(spec.not_after));
  X509_set_pubkey(cert.get(), key.get());

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  AddExt(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    AddExt(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  }
  if (spec.ca) {
    AddExt(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
  }
  if (!spec.san.empty()) {
    AddExt(cert.get(), &ctx, NID_subject_alt_name, spec.san.c_str());
  }
  EXPECT_GT(X509_sign(cert.get(), issuer_key.get(), EVP_sha256()), 0);
  return cert;
}

std::string Pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_X509(bio.get(), cert), 1);
  return BioContents(bio.get());
}

class X509Test : public ::testing::Test {
 protected:
  X509Test() {
    root_ = MakeCert(RootSpec("Test Root"), root_key(), root_key(), nullptr);
    leaf_ = MakeCert({.cn = "leaf.example",
                      .serial_hex = "0ABCDE",
                      .san = "DNS:leaf.example,DNS:www.leaf.example,IP:192.0.2.7,IP:2001:db8::7",
                      .not_before = 1700000000,
                      .not_after = 2556144000},
                     leaf_key(), root_key(), root_.get());
  }
  static const PrivateKey& root_key() { return TestKey(KeyType::kEc384); }
  static const PrivateKey& leaf_key() { return TestKey(KeyType::kEc256); }

  X509Ptr root_;
  X509Ptr leaf_;
};

TEST_F(X509Test, ParsesChainFields) {
  auto chain = ParsePemChain(Pem(leaf_.get()) + Pem(root_.get()));
  ASSERT_TRUE(chain.ok()) << chain.error().message;
  ASSERT_EQ(chain->size(), 2u);
  const CertInfo& leaf = (*chain)[0];
  const CertInfo& root = (*chain)[1];

  EXPECT_EQ(leaf.subject_cn, "leaf.example");
  EXPECT_EQ(leaf.issuer_cn, "Test Root");
  EXPECT_EQ(leaf.subject, "CN=leaf.example,O=Test Org");
  EXPECT_EQ(leaf.issuer, "CN=Test Root,O=Test Org");
  EXPECT_EQ(leaf.names, (std::vector<std::string>{"leaf.example", "www.leaf.example", "192.0.2.7",
                                                  "2001:db8::7"}));
  EXPECT_EQ(leaf.serial_hex, "abcde");
  EXPECT_EQ(leaf.serial_der, std::string("\x0a\xbc\xde", 3));
  EXPECT_EQ(leaf.not_before, 1700000000);
  EXPECT_EQ(leaf.not_after, 2556144000);  // GeneralizedTime (after 2049).
  EXPECT_EQ(leaf.public_key_der, *leaf_key().PublicKeyDer());
  EXPECT_EQ(leaf.der, *ToDer(leaf_.get(), i2d_X509, "test"));
  EXPECT_EQ(leaf.pem, Pem(leaf_.get()));

  const ASN1_OCTET_STRING* root_ski = X509_get0_subject_key_id(root_.get());
  ASSERT_NE(root_ski, nullptr);
  EXPECT_EQ(leaf.aki_keyid,
            std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(root_ski)),
                        ASN1_STRING_length(root_ski)));
  EXPECT_EQ(leaf.aki_keyid.size(), 20u);

  EXPECT_EQ(root.subject_cn, "Test Root");
  EXPECT_EQ(root.serial_hex, "7f");
  EXPECT_TRUE(root.names.empty());
  EXPECT_TRUE(root.aki_keyid.empty());
  EXPECT_EQ(root.not_after, 1707776000);
}

TEST_F(X509Test, ParseCertPemWantsExactlyOne) {
  auto one = ParseCertPem(Pem(leaf_.get()));
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one->subject_cn, "leaf.example");
  EXPECT_FALSE(ParseCertPem(Pem(leaf_.get()) + Pem(root_.get())).ok());
  EXPECT_FALSE(ParseCertPem("").ok());
}

TEST_F(X509Test, PemFieldReparsesToSameCertificate) {
  auto first = ParseCertPem(Pem(leaf_.get()));
  ASSERT_TRUE(first.ok());
  auto second = ParseCertPem(first->pem);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->der, first->der);
}

TEST_F(X509Test, AcceptsWhitespaceAndCrlfBetweenBlocks) {
  std::string leaf = Pem(leaf_.get());
  std::string crlf;
  for (char c : leaf) {
    if (c == '\n') {
      crlf += '\r';
    }
    crlf += c;
  }
  auto chain = ParsePemChain("\n  " + crlf + "\r\n\t\n" + Pem(root_.get()) + "\n\n");
  ASSERT_TRUE(chain.ok()) << chain.error().message;
  EXPECT_EQ(chain->size(), 2u);
}

TEST_F(X509Test, RejectsStrayText) {
  std::string leaf = Pem(leaf_.get());
  std::string root = Pem(root_.get());
  EXPECT_FALSE(ParsePemChain("subject=leaf\n" + leaf).ok());
  EXPECT_FALSE(ParsePemChain(leaf + "junk\n" + root).ok());
  EXPECT_FALSE(ParsePemChain(leaf + root + "trailer").ok());
}

TEST_F(X509Test, RejectsOtherBlocksAndBrokenOnes) {
  std::string leaf = Pem(leaf_.get());
  auto key_pem = leaf_key().ToPem();
  ASSERT_TRUE(key_pem.ok());
  auto with_key = ParsePemChain(leaf + std::string(key_pem->view()));
  ASSERT_FALSE(with_key.ok());
  EXPECT_NE(with_key.error().message.find("PRIVATE KEY"), std::string::npos);

  EXPECT_FALSE(ParsePemChain(leaf.substr(0, leaf.size() - 10)).ok());  // No END line.
  std::string corrupt = leaf;
  corrupt[40] = '!';
  EXPECT_FALSE(ParsePemChain(corrupt).ok());
  EXPECT_FALSE(
      ParsePemChain("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").ok());
  EXPECT_FALSE(ParsePemChain("").ok());
  EXPECT_FALSE(ParsePemChain(" \n\t").ok());
}

TEST_F(X509Test, EnforcesSizeCap) {
  std::string leaf = Pem(leaf_.get());
  EXPECT_TRUE(ParsePemChain(leaf, leaf.size()).ok());
  EXPECT_FALSE(ParsePemChain(leaf, leaf.size() - 1).ok());
}

TEST_F(X509Test, VerifyIssuedBy) {
  auto chain = ParsePemChain(Pem(leaf_.get()) + Pem(root_.get()));
  ASSERT_TRUE(chain.ok());
  const CertInfo& leaf = (*chain)[0];
  const CertInfo& root = (*chain)[1];
  EXPECT_TRUE(*VerifyIssuedBy(leaf, root));
  EXPECT_TRUE(*VerifyIssuedBy(root, root));
  EXPECT_FALSE(*VerifyIssuedBy(leaf, leaf));
  EXPECT_FALSE(*VerifyIssuedBy(root, leaf));

  // Same name, different key: the name matches but the signature must not.
  X509Ptr impostor = MakeCert(RootSpec("Test Root"), leaf_key(), leaf_key(), nullptr);
  auto impostor_info = ParseCertPem(Pem(impostor.get()));
  ASSERT_TRUE(impostor_info.ok());
  EXPECT_FALSE(*VerifyIssuedBy(leaf, *impostor_info));

  CertInfo garbage;
  garbage.der = "not der";
  EXPECT_FALSE(VerifyIssuedBy(leaf, garbage).ok());
}

TEST(X509TimeTest, FormatTime) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(1700000000), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatTime(2556144000), "2051-01-01T00:00:00Z");
  EXPECT_EQ(FormatTime(951782400), "2000-02-29T00:00:00Z");
}

}  // namespace
}  // namespace bulkhead::crypto
