#include "crypto/warmup.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <array>

#include "crypto/ossl.h"

namespace bulkhead::crypto {
namespace {

using SslCtxPtr = OsslPtr<SSL_CTX, SSL_CTX_free>;

// SignAndVerify runs one ES256-style signature and its verification, which
// fetches the digest and signature implementations.
void SignAndVerify(EVP_PKEY* key) {
  static constexpr std::array<unsigned char, 4> kData = {'w', 'a', 'r', 'm'};
  std::array<unsigned char, 128> sig{};
  size_t sig_len = sig.size();
  MdCtxPtr sign(EVP_MD_CTX_new());
  if (!sign || EVP_DigestSignInit(sign.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(sign.get(), sig.data(), &sig_len, kData.data(), kData.size()) != 1) {
    return;
  }
  MdCtxPtr verify(EVP_MD_CTX_new());
  if (verify && EVP_DigestVerifyInit(verify.get(), nullptr, EVP_sha256(), nullptr, key) == 1) {
    EVP_DigestVerify(verify.get(), sig.data(), sig_len, kData.data(), kData.size());
  }
}

}  // namespace

void WarmUpBeforeFork() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key != nullptr) {
    SignAndVerify(key);
    EVP_PKEY_free(key);
  }
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  // Whatever failed above is of no interest to the errors reported later.
  ERR_clear_error();
}

}  // namespace bulkhead::crypto
