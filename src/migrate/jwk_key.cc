#include "migrate/jwk_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>
#include <vector>

#include "util/base64url.h"

namespace bulkhead::migrate {
namespace {

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
struct BldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct CtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

// kMaxMemberBytes bounds one decoded member: a 4096-bit modulus is 512.
constexpr size_t kMaxMemberBytes = 1024;

// Member decodes the base64url string member `name`.
Result<std::string> Member(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return Err("JWK: no string member \"{}\"", name);
  }
  auto bytes = Base64UrlDecode(it->get<std::string>());
  if (!bytes.ok() || bytes->empty() || bytes->size() > kMaxMemberBytes) {
    return Err("JWK: member \"{}\" is not a base64url value of 1..{} bytes", name, kMaxMemberBytes);
  }
  return std::move(bytes).value();
}

// StringMember returns the string member `name`, or "" if it is absent or
// not a string.
std::string StringMember(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  return it != jwk.end() && it->is_string() ? it->get<std::string>() : "";
}

// Secret members are wiped once they are numbers.
struct Wiped {
  std::string bytes;
  ~Wiped() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

Result<BnPtr> MemberBn(const nlohmann::json& jwk, const char* name) {
  BH_ASSIGN(std::string raw, Member(jwk, name));
  Wiped w{std::move(raw)};
  BnPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(w.bytes.data()),
                     static_cast<int>(w.bytes.size()), nullptr));
  if (!bn) {
    return Err("JWK: member \"{}\": BN_bin2bn failed", name);
  }
  return bn;
}

Result<crypto::PrivateKey> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) <= 0) {
    return Err("JWK: OpenSSL does not accept the {} key parameters", type);
  }
  crypto::PkeyPtr pkey(raw);
  std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  // The pairwise check proves the private half matches the public one, so
  // a damaged file is refused here rather than by the CA later.
  if (!check || EVP_PKEY_pairwise_check(check.get()) <= 0) {
    return Err("JWK: the {} private key does not match its public key", type);
  }
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Err("JWK: cannot encode the key as PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  Wiped pem{std::string(data, static_cast<size_t>(len))};
  return crypto::PrivateKey::FromPem(pem.bytes);
}

Result<crypto::PrivateKey> RsaFromJwk(const nlohmann::json& jwk) {
  static constexpr std::pair<const char*, const char*> kMembers[] = {
      {"n", OSSL_PKEY_PARAM_RSA_N},          {"e", OSSL_PKEY_PARAM_RSA_E},
      {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
      {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
      {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
  };
  std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
  std::vector<BnPtr> numbers;  // Must outlive the built parameters.
  for (const auto& [member, param] : kMembers) {
    BH_ASSIGN(BnPtr bn, MemberBn(jwk, member));
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), param, bn.get()) != 1) {
      return Err("JWK: OSSL_PARAM_BLD_push_BN failed");
    }
    numbers.push_back(std::move(bn));
  }
  return FromParams("RSA", bld.get());
}

Result<crypto::PrivateKey> EcFromJwk(const nlohmann::json& jwk) {
  std::string crv = StringMember(jwk, "crv");
  const char* group = nullptr;
  size_t size = 0;
  if (crv == "P-256") {
    group = "P-256";
    size = 32;
  } else if (crv == "P-384") {
    group = "P-384";
    size = 48;
  } else {
    return Err("JWK: unsupported EC curve \"{}\" (P-256 and P-384 are)", crv.substr(0, 16));
  }
  BH_ASSIGN(std::string x, Member(jwk, "x"));
  BH_ASSIGN(std::string y, Member(jwk, "y"));
  if (x.size() != size || y.size() != size) {
    return Err("JWK: EC coordinates are not {} bytes long", size);
  }
  std::string point = "\x04" + x + y;
  BH_ASSIGN(BnPtr d, MemberBn(jwk, "d"));
  std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
    return Err("JWK: cannot build the EC key parameters");
  }
  return FromParams("EC", bld.get());
}

}  // namespace

Result<crypto::PrivateKey> PrivateKeyFromJwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) {
    return Err("JWK: not a JSON object");
  }
  std::string kty = StringMember(jwk, "kty");
  if (kty == "RSA") {
    return RsaFromJwk(jwk);
  }
  if (kty == "EC") {
    return EcFromJwk(jwk);
  }
  return Err("JWK: unsupported key type \"{}\" (RSA and EC are)", kty.substr(0, 16));
}

}  // namespace bulkhead::migrate
