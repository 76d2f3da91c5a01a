#include "crypto/csr.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <string>
#include <vector>

#include "crypto/ossl.h"
#include "crypto/test_keys.h"

namespace bulkhead::crypto {
namespace {

X509ReqPtr DecodeReq(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509ReqPtr(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
}

std::string SubjectCn(X509_REQ* req) {
  auto cn = NameEntryUtf8(X509_REQ_get_subject_name(req), NID_commonName);
  EXPECT_TRUE(cn.ok());
  return cn.ok() ? *cn : std::string();
}

std::string ToPemText(X509_REQ* req) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_X509_REQ(bio.get(), req), 1);
  return BioContents(bio.get());
}

// SignedReq builds a request by hand with only a subject CN (no SAN), or
// with no name at all when `cn` is empty.
std::string SignedReq(const PrivateKey& key, const std::string& cn) {
  X509ReqPtr req(X509_REQ_new());
  if (!cn.empty()) {
    X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.data()), -1, -1, 0);
  }
  X509_REQ_set_pubkey(req.get(), key.get());
  EXPECT_GT(X509_REQ_sign(req.get(), key.get(), EVP_sha256()), 0);
  return *ToDer(req.get(), i2d_X509_REQ, "test CSR");
}

class CsrTypeTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(CsrTypeTest, MakeCsrCarriesNamesKeyAndSignature) {
  const PrivateKey& key = TestKey(GetParam());
  const std::vector<std::string> names = {"example.com", "www.example.com", "192.0.2.1",
                                          "2001:db8::1"};
  auto der = MakeCsr(key, names);
  ASSERT_TRUE(der.ok()) << der.error().message;

  X509ReqPtr req = DecodeReq(*der);
  ASSERT_TRUE(req);
  EXPECT_EQ(X509_REQ_verify(req.get(), key.get()), 1);
  int md_nid = 0;
  ASSERT_EQ(OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req.get()), &md_nid, nullptr), 1);
  EXPECT_EQ(md_nid, NID_sha256);
  EXPECT_EQ(SubjectCn(req.get()), "example.com");

  auto info = ParseCsr(*der);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->names, names);
  EXPECT_EQ(info->der, *der);
  EXPECT_EQ(info->public_key_der, *key.PublicKeyDer());
}

INSTANTIATE_TEST_SUITE_P(AllTypes, CsrTypeTest, ::testing::ValuesIn(kAllKeyTypes),
                         [](const auto& info) { return std::string(KeyTypeName(info.param)); });

TEST(CsrTest, CnIsFirstDnsNameNotAddress) {
  auto der = MakeCsr(TestKey(KeyType::kEc256), {"192.0.2.9", "host.example", "other.example"});
  ASSERT_TRUE(der.ok()) << der.error().message;
  X509ReqPtr req = DecodeReq(*der);
  ASSERT_TRUE(req);
  EXPECT_EQ(SubjectCn(req.get()), "host.example");
}

TEST(CsrTest, LongFirstNameHasNoCn) {
  std::string long_name = std::string(60, 'a') + ".example";  // 68 bytes.
  auto der = MakeCsr(TestKey(KeyType::kEc256), {long_name, "short.example"});
  ASSERT_TRUE(der.ok()) << der.error().message;
  X509ReqPtr req = DecodeReq(*der);
  ASSERT_TRUE(req);
  EXPECT_EQ(SubjectCn(req.get()), "");
  auto info = ParseCsr(*der);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->names, (std::vector<std::string>{long_name, "short.example"}));
}

TEST(CsrTest, OnlyAddressesHasNoCn) {
  auto der = MakeCsr(TestKey(KeyType::kEc256), {"::1", "127.0.0.1"});
  ASSERT_TRUE(der.ok()) << der.error().message;
  X509ReqPtr req = DecodeReq(*der);
  EXPECT_EQ(SubjectCn(req.get()), "");
  EXPECT_EQ(ParseCsr(*der)->names, (std::vector<std::string>{"::1", "127.0.0.1"}));
}

TEST(CsrTest, MakeCsrRejectsBadNameLists) {
  EXPECT_FALSE(MakeCsr(TestKey(KeyType::kEc256), {}).ok());
  EXPECT_FALSE(MakeCsr(TestKey(KeyType::kEc256), {"ok.example", ""}).ok());
  EXPECT_FALSE(MakeCsr(TestKey(KeyType::kEc256), {std::string("a\0b.example", 11)}).ok());
}

TEST(CsrTest, ParseCsrAcceptsPem) {
  auto der = MakeCsr(TestKey(KeyType::kEc384), {"pem.example"});
  ASSERT_TRUE(der.ok());
  std::string pem = ToPemText(DecodeReq(*der).get());
  ASSERT_TRUE(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
  auto info = ParseCsr(pem);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->der, *der);
  EXPECT_EQ(info->names, std::vector<std::string>{"pem.example"});
}

TEST(CsrTest, ParseCsrAddsCnMissingFromSan) {
  auto info = ParseCsr(SignedReq(TestKey(KeyType::kEc256), "cn-only.example"));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->names, std::vector<std::string>{"cn-only.example"});
}

TEST(CsrTest, ParseCsrRejectsNamelessRequest) {
  EXPECT_FALSE(ParseCsr(SignedReq(TestKey(KeyType::kEc256), "")).ok());
}

TEST(CsrTest, ParseCsrRejectsBadSignature) {
  auto der = MakeCsr(TestKey(KeyType::kEc256), {"sig.example"});
  ASSERT_TRUE(der.ok());
  std::string tampered = *der;
  // The subject CN bytes sit inside the signed part; change one letter.
  size_t at = tampered.find("sig.example");
  ASSERT_NE(at, std::string::npos);
  tampered[at] = 'z';
  auto info = ParseCsr(tampered);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message.find("signature"), std::string::npos) << info.error().message;
}

TEST(CsrTest, ParseCsrRejectsGarbageAndTrailingBytes) {
  EXPECT_FALSE(ParseCsr("").ok());
  EXPECT_FALSE(ParseCsr("garbage").ok());
  EXPECT_FALSE(ParseCsr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE "
                        "REQUEST-----\n")
                   .ok());
  auto der = MakeCsr(TestKey(KeyType::kEc256), {"trail.example"});
  ASSERT_TRUE(der.ok());
  EXPECT_FALSE(ParseCsr(*der + "x").ok());
}

}  // namespace
}  // namespace bulkhead::crypto
