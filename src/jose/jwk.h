// JSON Web Keys (RFC 7517) and thumbprints (RFC 7638).
#ifndef BULKHEAD_JOSE_JWK_H_
#define BULKHEAD_JOSE_JWK_H_

#include <nlohmann/json.hpp>

#include <string>

#include "crypto/key.h"
#include "util/result.h"

namespace bulkhead::jose {

// PublicJwk returns the public JWK of `key`: {"crv","kty","x","y"} for EC
// (coordinates left-padded to the curve size), {"e","kty","n"} for RSA.
Result<nlohmann::json> PublicJwk(const crypto::PrivateKey& key);

// Thumbprint returns the base64url SHA-256 RFC 7638 thumbprint of a public
// JWK (only the required members, lexicographic order, no whitespace).
// Fails if required members are missing.
Result<std::string> Thumbprint(const nlohmann::json& jwk);

// JwsAlg returns the JWS "alg" for a key type: ES256, ES384 or RS256.
std::string_view JwsAlg(crypto::KeyType type);

}  // namespace bulkhead::jose

#endif  // BULKHEAD_JOSE_JWK_H_
