// The JWS signer interface the ACME protocol code signs through, and the
// in-process implementation over a key object. The signer *role* (a process
// holding the account key, roles/signer.cc) implements the same interface
// on the other side of a channel.
#ifndef BULKHEAD_JOSE_SIGNER_H_
#define BULKHEAD_JOSE_SIGNER_H_

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "crypto/key.h"
#include "util/result.h"
#include "util/secret.h"

namespace bulkhead::jose {

// SignRequest is everything a signer needs to produce one JWS.
struct SignRequest {
  std::string url;      // The "url" protected header.
  std::string nonce;    // The "nonce" header; empty omits it (keyChange inner JWS).
  std::string kid;      // Account URL; empty means embed the "jwk" instead.
  std::string payload;  // Serialized JSON, or "" for POST-as-GET.
};

// Signer holds an account key and signs with it. Contract: the key never
// leaves the implementation; Sign returns a flattened JWS (RFC 7515 7.2.2)
// or an error (a refused or failed signature), never a partial JWS.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual const nlohmann::json& Jwk() const = 0;
  virtual const std::string& Thumbprint() const = 0;
  virtual Result<nlohmann::json> Sign(const SignRequest& request) = 0;
};

// NewLocalSigner returns a Signer over a PEM key held in this process, or
// an error ("account key: ...") if the PEM is not a supported private key.
Result<std::unique_ptr<Signer>> NewLocalSigner(const Secret& key_pem);

// NewSignerFromKey returns a Signer that owns `key`, or an error if its
// public JWK cannot be computed.
Result<std::unique_ptr<Signer>> NewSignerFromKey(crypto::PrivateKey key);

}  // namespace bulkhead::jose

#endif  // BULKHEAD_JOSE_SIGNER_H_
