#include "crypto/key.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <array>
#include <cstring>

#include "crypto/ossl.h"

namespace bulkhead::crypto {
namespace {

struct KeyTypeEntry {
  KeyType type;
  std::string_view name;
};
constexpr std::array<KeyTypeEntry, 5> kKeyTypes = {{
    {KeyType::kEc256, "ec256"},
    {KeyType::kEc384, "ec384"},
    {KeyType::kRsa2048, "rsa2048"},
    {KeyType::kRsa3072, "rsa3072"},
    {KeyType::kRsa4096, "rsa4096"},
}};

// NoPassphrase refuses to supply a passphrase, so that an encrypted key
// fails to load instead of OpenSSL prompting on the terminal.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

// EcKeyType maps the curve of an EC key to a KeyType.
Result<KeyType> EcKeyType(EVP_PKEY* pkey) {
  char group[64] = {};
  size_t group_len = 0;
  if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &group_len) != 1) {
    return OsslErr("EC key without a named curve");
  }
  std::string_view name(group, group_len);
  if (name == "prime256v1" || name == "P-256") {
    return KeyType::kEc256;
  }
  if (name == "secp384r1" || name == "P-384") {
    return KeyType::kEc384;
  }
  return Err("EC curve {} is not supported (use P-256 or P-384)", name);
}

// RsaKeyType maps the modulus size of an RSA key to a KeyType.
Result<KeyType> RsaKeyType(EVP_PKEY* pkey) {
  int bits = EVP_PKEY_get_bits(pkey);
  switch (bits) {
    case 2048:
      return KeyType::kRsa2048;
    case 3072:
      return KeyType::kRsa3072;
    case 4096:
      return KeyType::kRsa4096;
    default:
      return Err("RSA key of {} bits is not supported (use 2048, 3072 or 4096)", bits);
  }
}

// DetectKeyType returns the KeyType of a loaded key, or fails for anything
// bulkhead does not create (other curves, Ed25519, RSA-PSS, odd sizes).
Result<KeyType> DetectKeyType(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "EC")) {
    return EcKeyType(pkey);
  }
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    return RsaKeyType(pkey);
  }
  const char* name = EVP_PKEY_get0_type_name(pkey);
  return Err("key type {} is not supported (use EC P-256/P-384 or RSA)",
             name != nullptr ? name : "unknown");
}

}  // namespace

Result<KeyType> ParseKeyType(std::string_view name) {
  for (const auto& entry : kKeyTypes) {
    if (entry.name == name) {
      return entry.type;
    }
  }
  return ErrCode(ErrorCode::kUsage,
                 "unknown key type \"{}\" (expected ec256, ec384, rsa2048, rsa3072 or rsa4096)",
                 name);
}

std::string_view KeyTypeName(KeyType type) {
  for (const auto& entry : kKeyTypes) {
    if (entry.type == type) {
      return entry.name;
    }
  }
  return "unknown";
}

Result<PrivateKey> PrivateKey::Generate(KeyType type) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case KeyType::kEc256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyType::kEc384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
    case KeyType::kRsa2048:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case KeyType::kRsa3072:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072});
      break;
    case KeyType::kRsa4096:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{4096});
      break;
  }
  if (raw == nullptr) {
    return OsslErr(fmt::format("generating {} key", KeyTypeName(type)));
  }
  return PrivateKey(PkeyPtr(raw), type);
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  if (!bio) {
    return Err("private key PEM is too large");
  }
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pkey) {
    return OsslErr("reading private key PEM (encrypted keys are not supported)");
  }
  BH_ASSIGN(KeyType type, DetectKeyType(pkey.get()));
  return PrivateKey(std::move(pkey), type);
}

Result<Secret> PrivateKey::ToPem() const {
  // A secure-memory BIO keeps the PEM out of ordinary heap pages and is
  // cleansed when freed; we wipe it explicitly as well.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio) {
    return OsslErr("BIO_new");
  }
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr,
                                    nullptr) != 1) {
    return OsslErr("writing private key PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) {
    return Err("writing private key PEM: no output");
  }
  Secret pem(std::string(data, static_cast<size_t>(len)));
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return pem;
}

Result<std::string> PrivateKey::PublicKeyDer() const {
  return ToDer(pkey_.get(), i2d_PUBKEY, "encoding public key");
}

Result<std::string> PrivateKey::PublicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) {
    return OsslErr("writing public key PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) {
    return Err("writing public key PEM: no output");
  }
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> SpkiFromPublicKeyPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  if (!bio) {
    return Err("public key PEM too large");
  }
  using PkeyPtr = OsslPtr<EVP_PKEY, EVP_PKEY_free>;
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return OsslErr("reading PEM public key");
  }
  return ToDer(key.get(), i2d_PUBKEY, "encoding public key");
}

std::string Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &md_len, EVP_sha256(), nullptr) != 1) {
    // Only an allocation failure gets here; an empty digest can never
    // match a real one, so callers fail closed.
    return std::string();
  }
  return std::string(reinterpret_cast<char*>(md), md_len);
}

Result<std::string> HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  // A null key pointer would mean "no key set" to OpenSSL; an empty key is
  // a valid (if weak) HMAC key, so always pass a real pointer.
  static const char kNoBytes[1] = {0};
  const char* key_ptr = key.empty() ? kNoBytes : key.data();
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_ptr, key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, sizeof(mac),
                &mac_len) == nullptr) {
    return OsslErr("HMAC-SHA256");
  }
  return std::string(reinterpret_cast<char*>(mac), mac_len);
}

}  // namespace bulkhead::crypto
