#include "jose/jwk.h"

#include <openssl/core_names.h>

#include <array>

#include "crypto/ossl.h"
#include "util/base64url.h"

namespace bulkhead::jose {
namespace {

using crypto::BignumPtr;
using crypto::KeyType;

// GetBignum reads one BIGNUM parameter (a coordinate, modulus or exponent).
Result<BignumPtr> GetBignum(EVP_PKEY* pkey, const char* param) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1) {
    return crypto::OsslErr(fmt::format("reading key parameter {}", param));
  }
  return BignumPtr(bn);
}

// PaddedB64 encodes `bn` big-endian, left-padded with zeros to `len` bytes.
Result<std::string> PaddedB64(const BIGNUM* bn, size_t len) {
  std::string bytes(len, '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(len)) !=
      static_cast<int>(len)) {
    return Err("key coordinate does not fit in {} bytes", len);
  }
  return Base64UrlEncode(bytes);
}

// MinimalB64 encodes `bn` big-endian without leading zero bytes.
std::string MinimalB64(const BIGNUM* bn) {
  std::string bytes(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  return Base64UrlEncode(bytes);
}

Result<nlohmann::json> EcJwk(const crypto::PrivateKey& key) {
  bool p256 = key.type() == KeyType::kEc256;
  size_t len = p256 ? 32 : 48;
  BH_ASSIGN(BignumPtr x, GetBignum(key.get(), OSSL_PKEY_PARAM_EC_PUB_X));
  BH_ASSIGN(BignumPtr y, GetBignum(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y));
  BH_ASSIGN(std::string x64, PaddedB64(x.get(), len));
  BH_ASSIGN(std::string y64, PaddedB64(y.get(), len));
  return nlohmann::json{{"crv", p256 ? "P-256" : "P-384"}, {"kty", "EC"}, {"x", x64}, {"y", y64}};
}

Result<nlohmann::json> RsaJwk(const crypto::PrivateKey& key) {
  BH_ASSIGN(BignumPtr n, GetBignum(key.get(), OSSL_PKEY_PARAM_RSA_N));
  BH_ASSIGN(BignumPtr e, GetBignum(key.get(), OSSL_PKEY_PARAM_RSA_E));
  return nlohmann::json{{"e", MinimalB64(e.get())}, {"kty", "RSA"}, {"n", MinimalB64(n.get())}};
}

// RequiredMembers lists the RFC 7638 section 3.2 members for a "kty".
std::vector<std::string_view> RequiredMembers(std::string_view kty) {
  if (kty == "EC") {
    return {"crv", "kty", "x", "y"};
  }
  if (kty == "RSA") {
    return {"e", "kty", "n"};
  }
  if (kty == "oct") {
    return {"k", "kty"};
  }
  return {};
}

}  // namespace

Result<nlohmann::json> PublicJwk(const crypto::PrivateKey& key) {
  switch (key.type()) {
    case KeyType::kEc256:
    case KeyType::kEc384:
      return EcJwk(key);
    case KeyType::kRsa2048:
    case KeyType::kRsa3072:
    case KeyType::kRsa4096:
      return RsaJwk(key);
  }
  return Err("public JWK: unknown key type");
}

Result<std::string> Thumbprint(const nlohmann::json& jwk) {
  if (!jwk.is_object() || !jwk.contains("kty") || !jwk["kty"].is_string()) {
    return Err("JWK thumbprint: no \"kty\" member");
  }
  std::string kty = jwk["kty"].get<std::string>();
  std::vector<std::string_view> members = RequiredMembers(kty);
  if (members.empty()) {
    return Err("JWK thumbprint: unsupported kty \"{}\"", kty);
  }
  // nlohmann::json objects are ordered maps, so dump() of an object built
  // from only the required members is already the canonical RFC 7638 form.
  nlohmann::json canonical = nlohmann::json::object();
  for (std::string_view member : members) {
    auto it = jwk.find(member);
    if (it == jwk.end() || !it->is_string()) {
      return Err("JWK thumbprint: missing string member \"{}\"", member);
    }
    canonical[std::string(member)] = *it;
  }
  try {
    return Base64UrlEncode(crypto::Sha256(canonical.dump()));
  } catch (const nlohmann::json::exception& e) {
    return Err("JWK thumbprint: {}", e.what());
  }
}

std::string_view JwsAlg(crypto::KeyType type) {
  switch (type) {
    case KeyType::kEc256:
      return "ES256";
    case KeyType::kEc384:
      return "ES384";
    case KeyType::kRsa2048:
    case KeyType::kRsa3072:
    case KeyType::kRsa4096:
      return "RS256";
  }
  return "";
}

}  // namespace bulkhead::jose
