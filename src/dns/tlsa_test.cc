#include "dns/tlsa.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/ossl.h"
#include "crypto/x509.h"

namespace bulkhead::dns {
namespace {

using crypto::CertInfo;
using crypto::X509Ptr;
using PkeyPtr = crypto::OsslPtr<EVP_PKEY, EVP_PKEY_free>;

PkeyPtr NewKey() { return PkeyPtr(EVP_EC_gen("P-256")); }

// MakeCert returns a certificate for `key` named `cn`, signed by
// `issuer_key` and naming `issuer_cn` as issuer, parsed as CertInfo.
CertInfo MakeCert(const char* cn, EVP_PKEY* key, const char* issuer_cn, EVP_PKEY* issuer_key,
                  bool ca, X509Ptr* out_x509 = nullptr) {
  X509Ptr x(X509_new());
  EXPECT_TRUE(x);
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 42);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_NAME* subject = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_NAME* issuer = X509_get_issuer_name(x.get());
  X509_NAME_add_entry_by_txt(issuer, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(issuer_cn), -1, -1, 0);
  X509_set_pubkey(x.get(), key);
  if (ca) {
    X509_EXTENSION* ext =
        X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  EXPECT_GT(X509_sign(x.get(), issuer_key, EVP_sha256()), 0);
  crypto::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x.get());
  auto info = crypto::ParseCertPem(crypto::BioContents(bio.get()));
  EXPECT_TRUE(info.ok()) << (info.ok() ? "" : info.error().message);
  if (out_x509 != nullptr) {
    *out_x509 = std::move(x);
  }
  return info.ok() ? *info : CertInfo{};
}

class TlsaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_key_ = NewKey();
    leaf_key_ = NewKey();
    other_key_ = NewKey();
    root_ = MakeCert("Root", root_key_.get(), "Root", root_key_.get(), true, &root_x509_);
    leaf_ = MakeCert("leaf.test", leaf_key_.get(), "Root", root_key_.get(), false, &leaf_x509_);
    // Same subject as the root, different key: an impostor CA.
    impostor_ = MakeCert("Root", other_key_.get(), "Root", other_key_.get(), true);
  }

  // Oracle computes a digest with OpenSSL's own X509 helpers, independently
  // of CertInfo.
  static std::string PubkeyDigest(X509* x, const EVP_MD* md) {
    unsigned char* der = nullptr;
    int der_len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
    EXPECT_GT(der_len, 0);
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EXPECT_EQ(EVP_Digest(der, static_cast<size_t>(der_len), buf, &len, md, nullptr), 1);
    OPENSSL_free(der);
    return std::string(reinterpret_cast<char*>(buf), len);
  }
  static std::string CertDigest(X509* x, const EVP_MD* md) {
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EXPECT_EQ(X509_digest(x, md, buf, &len), 1);
    return std::string(reinterpret_cast<char*>(buf), len);
  }

  PkeyPtr root_key_, leaf_key_, other_key_;
  X509Ptr root_x509_, leaf_x509_;
  CertInfo root_, leaf_, impostor_;
};

TEST_F(TlsaTest, AssociationDataMatchesOpenSslDigests) {
  auto spki256 = AssociationData(leaf_, TlsaSelector::kSpki, TlsaMatching::kSha256);
  ASSERT_TRUE(spki256.ok());
  EXPECT_EQ(*spki256, PubkeyDigest(leaf_x509_.get(), EVP_sha256()));
  auto spki512 = AssociationData(leaf_, TlsaSelector::kSpki, TlsaMatching::kSha512);
  ASSERT_TRUE(spki512.ok());
  EXPECT_EQ(*spki512, PubkeyDigest(leaf_x509_.get(), EVP_sha512()));
  auto cert256 = AssociationData(leaf_, TlsaSelector::kCert, TlsaMatching::kSha256);
  ASSERT_TRUE(cert256.ok());
  EXPECT_EQ(*cert256, CertDigest(leaf_x509_.get(), EVP_sha256()));
  auto cert512 = AssociationData(leaf_, TlsaSelector::kCert, TlsaMatching::kSha512);
  ASSERT_TRUE(cert512.ok());
  EXPECT_EQ(*cert512, CertDigest(leaf_x509_.get(), EVP_sha512()));
  auto full_cert = AssociationData(leaf_, TlsaSelector::kCert, TlsaMatching::kFull);
  ASSERT_TRUE(full_cert.ok());
  EXPECT_EQ(*full_cert, leaf_.der);
  auto full_spki = AssociationData(leaf_, TlsaSelector::kSpki, TlsaMatching::kFull);
  ASSERT_TRUE(full_spki.ok());
  EXPECT_EQ(*full_spki, leaf_.public_key_der);
}

TEST_F(TlsaTest, SelectCertificateByUsage) {
  std::vector<CertInfo> chain = {leaf_, root_};
  for (TlsaUsage usage : {TlsaUsage::kPkixEe, TlsaUsage::kDaneEe}) {
    auto c = SelectCertificate(chain, usage);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->der, leaf_.der);
  }
  for (TlsaUsage usage : {TlsaUsage::kPkixTa, TlsaUsage::kDaneTa}) {
    auto c = SelectCertificate(chain, usage);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->der, root_.der);
  }
  // A lone leaf cannot describe its CA; a lone self-signed certificate can.
  std::vector<CertInfo> lone_leaf = {leaf_};
  EXPECT_FALSE(SelectCertificate(lone_leaf, TlsaUsage::kDaneTa).ok());
  std::vector<CertInfo> lone_root = {root_};
  auto self = SelectCertificate(lone_root, TlsaUsage::kDaneTa);
  ASSERT_TRUE(self.ok());
  EXPECT_EQ((*self)->der, root_.der);
  EXPECT_FALSE(SelectCertificate({}, TlsaUsage::kDaneEe).ok());
}

TEST(TlsaParamsTest, Ranges) {
  TlsaRecord r;
  EXPECT_TRUE(ParseTlsaParams(0, 0, 0, &r).ok());
  EXPECT_TRUE(ParseTlsaParams(3, 1, 2, &r).ok());
  EXPECT_EQ(r.usage, TlsaUsage::kDaneEe);
  EXPECT_EQ(r.selector, TlsaSelector::kSpki);
  EXPECT_EQ(r.mtype, TlsaMatching::kSha512);
  EXPECT_FALSE(ParseTlsaParams(4, 1, 1, &r).ok());
  EXPECT_FALSE(ParseTlsaParams(-1, 1, 1, &r).ok());
  EXPECT_FALSE(ParseTlsaParams(3, 2, 1, &r).ok());
  EXPECT_FALSE(ParseTlsaParams(3, 1, 3, &r).ok());
  EXPECT_EQ(ParseTlsaParams(3, 1, 255, &r).error().code, ErrorCode::kUsage);
}

TEST(TlsaOwnerTest, FormsAndRejects) {
  EXPECT_EQ(*TlsaOwner("mail.example.test", 25), "_25._tcp.mail.example.test.");
  EXPECT_EQ(*TlsaOwner("mail.example.test.", 25), "_25._tcp.mail.example.test.");
  EXPECT_FALSE(TlsaOwner("mail.example.test", 0).ok());
  EXPECT_FALSE(TlsaOwner("mail.example.test", 65536).ok());
  EXPECT_FALSE(TlsaOwner("", 443).ok());
  EXPECT_FALSE(TlsaOwner("a..b", 443).ok());
  EXPECT_FALSE(TlsaOwner("a b", 443).ok());
  EXPECT_FALSE(TlsaOwner("a\nb", 443).ok());
  EXPECT_FALSE(TlsaOwner(std::string(64, 'a') + ".test", 443).ok());
}

TEST(TlsaFormatTest, PresentationFormAndParseBack) {
  TlsaRecord r;
  r.data = std::string("\x01\xab\xff", 3);
  EXPECT_EQ(FormatTlsa("_443._tcp.a.test.", 3600, r),
            "_443._tcp.a.test.\t3600\tIN\tTLSA\t3 1 1 01abff");
  auto parsed = ParseTlsaRdata("3 1 1 01AB ff");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, r);
  EXPECT_FALSE(ParseTlsaRdata("3 1 1").ok());
  EXPECT_FALSE(ParseTlsaRdata("3 1 1 abc").ok());
  EXPECT_FALSE(ParseTlsaRdata("3 1 1 zz").ok());
  EXPECT_FALSE(ParseTlsaRdata("9 1 1 00").ok());
  EXPECT_FALSE(ParseTlsaRdata("3x 1 1 00").ok());
}

TEST_F(TlsaTest, ComputeDefaultIsDaneEeSpkiSha256) {
  TlsaRecord r;
  ASSERT_TRUE(ComputeTlsa({leaf_, root_}, &r).ok());
  EXPECT_EQ(r.usage, TlsaUsage::kDaneEe);
  EXPECT_EQ(r.data, PubkeyDigest(leaf_x509_.get(), EVP_sha256()));
}

TEST_F(TlsaTest, MatchEndEntity) {
  TlsaRecord r;
  ASSERT_TRUE(ComputeTlsa({leaf_}, &r).ok());
  TlsaMatch m = MatchTlsa(r, {leaf_, root_});
  EXPECT_TRUE(m.matched) << m.detail;
  EXPECT_EQ(m.depth, 0);
  // The same key in a re-issued certificate still matches 3 1 1 ...
  CertInfo reissued = MakeCert("leaf2.test", leaf_key_.get(), "Root", root_key_.get(), false);
  EXPECT_TRUE(MatchTlsa(r, {reissued}).matched);
  // ... but not 3 0 1, and a different key never does.
  TlsaRecord full;
  ASSERT_TRUE(ParseTlsaParams(3, 0, 1, &full).ok());
  ASSERT_TRUE(ComputeTlsa({leaf_}, &full).ok());
  EXPECT_FALSE(MatchTlsa(full, {reissued}).matched);
  CertInfo other = MakeCert("leaf.test", other_key_.get(), "Root", root_key_.get(), false);
  EXPECT_FALSE(MatchTlsa(r, {other, root_}).matched);
  EXPECT_FALSE(MatchTlsa(r, {}).matched);
}

TEST_F(TlsaTest, MatchTrustAnchorRequiresIssuance) {
  TlsaRecord r;
  ASSERT_TRUE(ParseTlsaParams(2, 1, 1, &r).ok());
  ASSERT_TRUE(ComputeTlsa({leaf_, root_}, &r).ok());
  TlsaMatch m = MatchTlsa(r, {leaf_, root_});
  EXPECT_TRUE(m.matched) << m.detail;
  EXPECT_EQ(m.depth, 1);
  // The TA record must not match the leaf itself.
  EXPECT_FALSE(MatchTlsa(r, {leaf_}).matched);
  // A leaf not issued by the anchor, with the anchor appended, is refused.
  CertInfo stray = MakeCert("leaf.test", leaf_key_.get(), "Root", other_key_.get(), false);
  TlsaMatch bad = MatchTlsa(r, {stray, root_});
  EXPECT_FALSE(bad.matched);
  EXPECT_NE(bad.detail.find("not issued"), std::string::npos) << bad.detail;
  // An impostor root with the same name does not match the record.
  EXPECT_FALSE(MatchTlsa(r, {leaf_, impostor_}).matched);
  // A lone self-signed certificate may be its own anchor.
  TlsaRecord self;
  ASSERT_TRUE(ParseTlsaParams(2, 0, 1, &self).ok());
  ASSERT_TRUE(ComputeTlsa({root_}, &self).ok());
  EXPECT_TRUE(MatchTlsa(self, {root_}).matched);
}

}  // namespace
}  // namespace bulkhead::dns
