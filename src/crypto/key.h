// Private keys: generation, PEM encoding, signing. OpenSSL 3 EVP only.
#ifndef BULKHEAD_CRYPTO_KEY_H_
#define BULKHEAD_CRYPTO_KEY_H_

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"
#include "util/secret.h"

namespace bulkhead::crypto {

// KeyType names every key bulkhead creates or accepts.
enum class KeyType { kEc256, kEc384, kRsa2048, kRsa3072, kRsa4096 };

// ParseKeyType accepts "ec256", "ec384", "rsa2048", "rsa3072", "rsa4096";
// anything else is an ErrorCode::kUsage error listing the accepted names.
Result<KeyType> ParseKeyType(std::string_view name);

// KeyTypeName returns the command-line name of `type` ("ec256", ...).
std::string_view KeyTypeName(KeyType type);

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// PrivateKey owns an EVP_PKEY holding a private key. Move-only; OpenSSL
// cleanses the key material when it is freed.
class PrivateKey {
 public:
  // Generate creates a fresh key of `type`.
  static Result<PrivateKey> Generate(KeyType type);

  // FromPem parses a PEM private key (PKCS#8, or traditional EC/RSA). It
  // fails for encrypted keys and for key types or sizes not in KeyType.
  static Result<PrivateKey> FromPem(std::string_view pem);

  // ToPem returns the key as unencrypted PKCS#8 PEM in a Secret.
  Result<Secret> ToPem() const;

  // PublicKeyDer returns the DER SubjectPublicKeyInfo of the key.
  Result<std::string> PublicKeyDer() const;

  // PublicKeyPem returns the SubjectPublicKeyInfo as a "PUBLIC KEY" PEM
  // block (what `openssl pkey -pubout` prints). Fails only on an OpenSSL
  // error.
  Result<std::string> PublicKeyPem() const;

  KeyType type() const { return type_; }
  EVP_PKEY* get() const { return pkey_.get(); }

 private:
  PrivateKey(PkeyPtr pkey, KeyType type) : pkey_(std::move(pkey)), type_(type) {}
  PkeyPtr pkey_;
  KeyType type_;
};

// SpkiFromPublicKeyPem returns the DER SubjectPublicKeyInfo of a "PUBLIC
// KEY" PEM block (as PrivateKey::PublicKeyPem writes). Fails if `pem` holds
// no such block.
Result<std::string> SpkiFromPublicKeyPem(std::string_view pem);

// Sha256 returns the raw 32-byte SHA-256 digest of `data`.
std::string Sha256(std::string_view data);

// HmacSha256 returns the raw HMAC-SHA256 of `data` under `key`.
Result<std::string> HmacSha256(std::string_view key, std::string_view data);

}  // namespace bulkhead::crypto

#endif  // BULKHEAD_CRYPTO_KEY_H_
