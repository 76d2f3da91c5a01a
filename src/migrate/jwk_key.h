// Private keys given as JWKs (RFC 7518 section 6), as certbot keeps its
// account key (private_key.json), turned into bulkhead's PEM keys.
#ifndef BULKHEAD_MIGRATE_JWK_KEY_H_
#define BULKHEAD_MIGRATE_JWK_KEY_H_

#include <nlohmann/json.hpp>

#include "crypto/key.h"
#include "util/result.h"

namespace bulkhead::migrate {

// PrivateKeyFromJwk builds the private key a JWK describes: RSA from
// n, e, d, p, q, dp, dq, qi; EC (P-256, P-384) from crv, x, y, d. The key
// is checked (its private and public halves belong together) and must be
// a type crypto::KeyType knows. Fails naming the member that is missing or
// malformed, or the check that failed; never echoes key material.
Result<crypto::PrivateKey> PrivateKeyFromJwk(const nlohmann::json& jwk);

}  // namespace bulkhead::migrate

#endif  // BULKHEAD_MIGRATE_JWK_KEY_H_
