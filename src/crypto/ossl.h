// Internal helpers shared by the crypto/ and jose/ implementations: owning
// smart pointers for OpenSSL objects and conversions that several files need.
// Not part of the public interface of any role.
#ifndef BULKHEAD_CRYPTO_OSSL_H_
#define BULKHEAD_CRYPTO_OSSL_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <climits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bulkhead::crypto {

// OsslFree adapts an OpenSSL free function to a unique_ptr deleter.
template <auto kFree>
struct OsslFree {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
template <typename T, auto kFree>
using OsslPtr = std::unique_ptr<T, OsslFree<kFree>>;

using BioPtr = OsslPtr<BIO, BIO_free_all>;
using X509Ptr = OsslPtr<X509, X509_free>;
using X509ReqPtr = OsslPtr<X509_REQ, X509_REQ_free>;
using X509NamePtr = OsslPtr<X509_NAME, X509_NAME_free>;
using MdCtxPtr = OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using PkeyCtxPtr = OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using BignumPtr = OsslPtr<BIGNUM, BN_free>;
using EcdsaSigPtr = OsslPtr<ECDSA_SIG, ECDSA_SIG_free>;
using GeneralNamesPtr = OsslPtr<GENERAL_NAMES, GENERAL_NAMES_free>;
using ParamBldPtr = OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = OsslPtr<OSSL_PARAM, OSSL_PARAM_free>;
using OctetStringPtr = OsslPtr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using Asn1IntegerPtr = OsslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1TimePtr = OsslPtr<ASN1_TIME, ASN1_TIME_free>;

// ExtensionStackFree frees a STACK_OF(X509_EXTENSION) and its members.
struct ExtensionStackFree {
  void operator()(STACK_OF(X509_EXTENSION) * exts) const {
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
};
using ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionStackFree>;

// OsslErr returns an Error "what: <OpenSSL reason>" and clears OpenSSL's
// error queue so that stale entries do not leak into later messages.
Error OsslErr(std::string_view what);

// MemBio returns a read-only BIO over `data` (not copied; `data` must
// outlive it), or null if `data` is too large for OpenSSL's int lengths.
BioPtr MemBio(std::string_view data);

// BioContents returns a copy of what has been written to a memory BIO.
std::string BioContents(BIO* bio);

// ToDer encodes `obj` with an OpenSSL i2d_* function. Fails naming `what`.
template <typename T, typename I2d>
Result<std::string> ToDer(T* obj, I2d i2d, std::string_view what) {
  int len = i2d(obj, nullptr);
  if (len <= 0) {
    return OsslErr(what);
  }
  std::string out(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (i2d(obj, &p) != len) {
    return OsslErr(what);
  }
  return out;
}

// AppendGeneralNames appends the dNSName and iPAddress entries of `names`
// to `out`, in order; other kinds are skipped. Fails on a malformed address.
Status AppendGeneralNames(const GENERAL_NAMES* names, std::vector<std::string>* out);

// NameEntryUtf8 returns the first `nid` entry of `name` as UTF-8, or "" if
// there is none. Fails if the entry cannot be converted.
Result<std::string> NameEntryUtf8(const X509_NAME* name, int nid);

// BytesToBignum returns a BIGNUM for the big-endian `bytes`.
Result<BignumPtr> BytesToBignum(std::string_view bytes);

}  // namespace bulkhead::crypto

#endif  // BULKHEAD_CRYPTO_OSSL_H_
