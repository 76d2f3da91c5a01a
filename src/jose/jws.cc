#include "jose/jws.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <array>

#include "crypto/ossl.h"
#include "jose/jwk.h"
#include "util/base64url.h"

namespace bulkhead::jose {
namespace {

using crypto::BignumPtr;
using crypto::EcdsaSigPtr;
using crypto::MdCtxPtr;
using crypto::OsslErr;
using crypto::PkeyPtr;

// AlgSpec ties a JWS "alg" to the JWK it needs and how it signs.
struct AlgSpec {
  std::string_view alg;
  std::string_view kty;
  std::string_view crv;  // EC only.
  const char* group;     // EC only: OpenSSL group name.
  size_t coord_len;      // EC only: bytes per coordinate and per r, s.
};
constexpr std::array<AlgSpec, 4> kAlgs = {{
    {"ES256", "EC", "P-256", "P-256", 32},
    {"ES384", "EC", "P-384", "P-384", 48},
    {"RS256", "RSA", "", nullptr, 0},
    {"HS256", "oct", "", nullptr, 0},
}};

Result<const AlgSpec*> FindAlg(std::string_view alg) {
  for (const auto& spec : kAlgs) {
    if (spec.alg == alg) {
      return &spec;
    }
  }
  return Err("JWS alg \"{}\" is not supported", alg);
}

const EVP_MD* DigestFor(std::string_view alg) {
  return alg == "ES384" ? EVP_sha384() : EVP_sha256();
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// EcdsaDerToRaw converts a DER ECDSA-Sig-Value to JWS r||s, each part
// left-padded to `coord_len` bytes.
Result<std::string> EcdsaDerToRaw(std::string_view der, size_t coord_len) {
  const unsigned char* p = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) {
    return OsslErr("decoding ECDSA signature");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * coord_len, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  int len = static_cast<int>(coord_len);
  if (BN_bn2binpad(r, out, len) != len || BN_bn2binpad(s, out + coord_len, len) != len) {
    return Err("ECDSA signature component too long");
  }
  return raw;
}

// EcdsaRawToDer converts JWS r||s back to DER for OpenSSL to verify.
Result<std::string> EcdsaRawToDer(std::string_view raw, size_t coord_len) {
  if (raw.size() != 2 * coord_len) {
    return Err("ECDSA signature is {} bytes, want {}", raw.size(), 2 * coord_len);
  }
  BH_ASSIGN(BignumPtr r, crypto::BytesToBignum(raw.substr(0, coord_len)));
  BH_ASSIGN(BignumPtr s, crypto::BytesToBignum(raw.substr(coord_len)));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return OsslErr("building ECDSA signature");
  }
  // ECDSA_SIG_set0 took ownership of r and s.
  (void)r.release();
  (void)s.release();
  return crypto::ToDer(sig.get(), i2d_ECDSA_SIG, "encoding ECDSA signature");
}

// JwkString returns a string member of a JWK, failing if absent.
Result<std::string> JwkString(const nlohmann::json& jwk, const char* member) {
  auto it = jwk.find(member);
  if (it == jwk.end() || !it->is_string()) {
    return Err("JWK has no string \"{}\"", member);
  }
  return it->get<std::string>();
}

// JwkBytes returns a base64url-decoded member of a JWK.
Result<std::string> JwkBytes(const nlohmann::json& jwk, const char* member) {
  BH_ASSIGN(std::string text, JwkString(jwk, member));
  BH_ASSIGN(std::string bytes, Base64UrlDecode(text));
  if (bytes.empty()) {
    return Err("JWK member \"{}\" is empty", member);
  }
  return bytes;
}

// PkeyFromParams builds a public EVP_PKEY of `type` from OSSL_PARAMs.
Result<PkeyPtr> PkeyFromParams(const char* type, OSSL_PARAM_BLD* bld) {
  crypto::ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  crypto::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return OsslErr(fmt::format("building {} public key from JWK", type));
  }
  return PkeyPtr(raw);
}

Result<PkeyPtr> EcPkeyFromJwk(const nlohmann::json& jwk, const AlgSpec& spec) {
  BH_ASSIGN(std::string crv, JwkString(jwk, "crv"));
  if (crv != spec.crv) {
    return Err("JWK curve {} does not match alg {}", crv, spec.alg);
  }
  BH_ASSIGN(std::string x, JwkBytes(jwk, "x"));
  BH_ASSIGN(std::string y, JwkBytes(jwk, "y"));
  if (x.size() != spec.coord_len || y.size() != spec.coord_len) {
    return Err("JWK coordinates must be {} bytes", spec.coord_len);
  }
  // Uncompressed SEC1 point: 0x04 || x || y.
  std::string point = "\x04" + x + y;
  crypto::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, spec.group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return OsslErr("building EC key parameters");
  }
  return PkeyFromParams("EC", bld.get());
}

Result<PkeyPtr> RsaPkeyFromJwk(const nlohmann::json& jwk) {
  BH_ASSIGN(std::string n_bytes, JwkBytes(jwk, "n"));
  BH_ASSIGN(std::string e_bytes, JwkBytes(jwk, "e"));
  BH_ASSIGN(BignumPtr n, crypto::BytesToBignum(n_bytes));
  BH_ASSIGN(BignumPtr e, crypto::BytesToBignum(e_bytes));
  crypto::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return OsslErr("building RSA key parameters");
  }
  return PkeyFromParams("RSA", bld.get());
}

// VerifyAsymmetric checks `sig` over `input` with the public key in `jwk`.
Status VerifyAsymmetric(const AlgSpec& spec, const nlohmann::json& jwk, std::string_view input,
                        std::string_view sig) {
  PkeyPtr pkey;
  std::string der_sig(sig);
  if (spec.kty == "EC") {
    BH_ASSIGN(pkey, EcPkeyFromJwk(jwk, spec));
    BH_ASSIGN(der_sig, EcdsaRawToDer(sig, spec.coord_len));
  } else {
    BH_ASSIGN(pkey, RsaPkeyFromJwk(jwk));
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(spec.alg), nullptr, pkey.get()) != 1) {
    return OsslErr("JWS verify init");
  }
  if (EVP_DigestVerify(ctx.get(), Bytes(der_sig), der_sig.size(), Bytes(input), input.size()) !=
      1) {
    return OsslErr("JWS signature does not verify");
  }
  return OkStatus();
}

// VerifyHmac checks an HS256 `sig` with the symmetric key of an "oct" JWK.
Status VerifyHmac(const nlohmann::json& jwk, std::string_view input, std::string_view sig) {
  BH_ASSIGN(std::string key, JwkBytes(jwk, "k"));
  BH_ASSIGN(std::string mac, crypto::HmacSha256(key, input));
  OPENSSL_cleanse(key.data(), key.size());
  if (mac.size() != sig.size() || CRYPTO_memcmp(mac.data(), sig.data(), mac.size()) != 0) {
    return Err("JWS HMAC does not verify");
  }
  return OkStatus();
}

// Assemble builds the flattened JWS from an encoded header and payload
// whose signature is `sig`.
nlohmann::json Assemble(std::string protected64, std::string payload64, std::string_view sig) {
  return nlohmann::json{{"protected", std::move(protected64)},
                        {"payload", std::move(payload64)},
                        {"signature", Base64UrlEncode(sig)}};
}

// DumpJson serialises JSON, turning nlohmann's exceptions (invalid UTF-8)
// into an Error.
Result<std::string> DumpJson(const nlohmann::json& j, std::string_view what) {
  try {
    return j.dump();
  } catch (const nlohmann::json::exception& e) {
    return Err("{}: {}", what, e.what());
  }
}

// FlattenedMember returns one string member of a flattened JWS.
Result<std::string> FlattenedMember(const nlohmann::json& jws, const char* member) {
  if (!jws.is_object()) {
    return Err("JWS is not a JSON object");
  }
  auto it = jws.find(member);
  if (it == jws.end() || !it->is_string()) {
    return Err("JWS has no string \"{}\"", member);
  }
  return it->get<std::string>();
}

// ProtectedAlg decodes the protected header and returns its "alg".
Result<std::string> ProtectedAlg(std::string_view protected64) {
  BH_ASSIGN(std::string text, Base64UrlDecode(protected64));
  nlohmann::json header = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) {
    return Err("JWS protected header is not a JSON object");
  }
  auto it = header.find("alg");
  if (it == header.end() || !it->is_string()) {
    return Err("JWS protected header has no \"alg\"");
  }
  return it->get<std::string>();
}

}  // namespace

Result<std::string> SignRaw(const crypto::PrivateKey& key, std::string_view signing_input) {
  std::string_view alg = JwsAlg(key.type());
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(alg), nullptr, key.get()) != 1) {
    return OsslErr("JWS sign init");
  }
  size_t sig_len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &sig_len, Bytes(signing_input), signing_input.size()) !=
      1) {
    return OsslErr("JWS sign");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     Bytes(signing_input), signing_input.size()) != 1) {
    return OsslErr("JWS sign");
  }
  sig.resize(sig_len);
  if (alg == "RS256") {
    return sig;
  }
  BH_ASSIGN(const AlgSpec* spec, FindAlg(alg));
  return EcdsaDerToRaw(sig, spec->coord_len);
}

Result<nlohmann::json> SignFlattened(const crypto::PrivateKey& key, nlohmann::json header,
                                     std::string_view payload) {
  if (!header.is_object()) {
    return Err("JWS header must be a JSON object");
  }
  header["alg"] = std::string(JwsAlg(key.type()));
  BH_ASSIGN(std::string header_text, DumpJson(header, "JWS header"));
  std::string protected64 = Base64UrlEncode(header_text);
  std::string payload64 = Base64UrlEncode(payload);  // "" stays "" (POST-as-GET).
  BH_ASSIGN(std::string sig, SignRaw(key, protected64 + "." + payload64));
  return Assemble(std::move(protected64), std::move(payload64), sig);
}

Result<std::string> VerifyFlattened(const nlohmann::json& jws, const nlohmann::json& jwk) {
  BH_ASSIGN(std::string protected64, FlattenedMember(jws, "protected"));
  BH_ASSIGN(std::string payload64, FlattenedMember(jws, "payload"));
  BH_ASSIGN(std::string sig64, FlattenedMember(jws, "signature"));
  BH_ASSIGN(std::string alg, ProtectedAlg(protected64));
  BH_ASSIGN(const AlgSpec* spec, FindAlg(alg));
  if (!jwk.is_object()) {
    return Err("JWK is not a JSON object");
  }
  BH_ASSIGN(std::string kty, JwkString(jwk, "kty"));
  if (kty != spec->kty) {
    return Err("JWS alg {} does not match JWK kty {}", alg, kty);
  }
  BH_ASSIGN(std::string sig, Base64UrlDecode(sig64));
  BH_ASSIGN(std::string payload, Base64UrlDecode(payload64));
  std::string input = protected64 + "." + payload64;
  if (kty == "oct") {
    BH_TRY(VerifyHmac(jwk, input, sig));
  } else {
    BH_TRY(VerifyAsymmetric(*spec, jwk, input, sig));
  }
  return payload;
}

Result<nlohmann::json> ExternalAccountBinding(const nlohmann::json& account_jwk,
                                              std::string_view kid,
                                              std::string_view hmac_key_b64url,
                                              std::string_view url) {
  auto key = Base64UrlDecode(hmac_key_b64url);
  if (!key.ok()) {
    return key.error().Wrap("EAB HMAC key is not base64url");
  }
  if (key->empty()) {
    return Err("EAB HMAC key is empty");
  }
  nlohmann::json header = {{"alg", "HS256"}, {"kid", std::string(kid)}, {"url", std::string(url)}};
  BH_ASSIGN(std::string header_text, DumpJson(header, "EAB header"));
  BH_ASSIGN(std::string jwk_text, DumpJson(account_jwk, "EAB payload"));
  std::string protected64 = Base64UrlEncode(header_text);
  std::string payload64 = Base64UrlEncode(jwk_text);
  auto mac = crypto::HmacSha256(*key, protected64 + "." + payload64);
  OPENSSL_cleanse(key->data(), key->size());
  if (!mac.ok()) {
    return mac.error();
  }
  return Assemble(std::move(protected64), std::move(payload64), *mac);
}

}  // namespace bulkhead::jose
