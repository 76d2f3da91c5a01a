// Flattened JWS (RFC 7515) as ACME (RFC 8555 section 6.2) uses it.
#ifndef BULKHEAD_JOSE_JWS_H_
#define BULKHEAD_JOSE_JWS_H_

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "crypto/key.h"
#include "util/result.h"

namespace bulkhead::jose {

// SignRaw signs `signing_input` with `key` and returns the JWS signature
// bytes: ECDSA as fixed-size r||s (RFC 7518 3.4), RSA PKCS#1 v1.5 SHA-256.
Result<std::string> SignRaw(const crypto::PrivateKey& key, std::string_view signing_input);

// SignFlattened builds {"protected","payload","signature"} with `header` as the
// protected header (alg is filled in from the key) over `payload` (empty
// string for POST-as-GET, which encodes as "").
Result<nlohmann::json> SignFlattened(const crypto::PrivateKey& key, nlohmann::json header,
                                     std::string_view payload);

// VerifyFlattened checks a flattened JWS against the public JWK `jwk` and
// returns its decoded payload. Used by tests and by keyChange self-checks.
Result<std::string> VerifyFlattened(const nlohmann::json& jws, const nlohmann::json& jwk);

// ExternalAccountBinding returns the RFC 8555 7.3.4 EAB JWS: HS256 over the
// account's public JWK, header {"alg":"HS256","kid":kid,"url":url}.
// `hmac_key_b64url` is the CA-issued key (base64url); fails if it is not.
Result<nlohmann::json> ExternalAccountBinding(const nlohmann::json& account_jwk,
                                              std::string_view kid,
                                              std::string_view hmac_key_b64url,
                                              std::string_view url);

}  // namespace bulkhead::jose

#endif  // BULKHEAD_JOSE_JWS_H_
