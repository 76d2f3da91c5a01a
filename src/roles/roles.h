// The roles of the ACME client and the narrow, message-shaped interfaces
// between them. The protocol code (acme/) only ever sees these interfaces,
// never a key file, a key object or a directory path, so each role can run
// in its own process with its own sandbox.
//
//   role       holds                         operations
//   signer     the account key               Jwk, Thumbprint, Sign
//   keys       the certificate's domain key  PrepareKey (returns CSR)
//   challenge  the one challenge directory   challenge::Publisher
//   store      the certificate directory     store::CertStore
//   net        the connection to the CA      acme::HttpClient
#ifndef BULKHEAD_ROLES_ROLES_H_
#define BULKHEAD_ROLES_ROLES_H_

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "crypto/key.h"
#include "util/result.h"
#include "util/secret.h"

namespace bulkhead::roles {

// SignRequest is everything the signer needs to produce one JWS.
struct SignRequest {
  std::string url;      // The "url" protected header.
  std::string nonce;    // The "nonce" header; empty omits it (keyChange inner JWS).
  std::string kid;      // Account URL; empty means embed the "jwk" instead.
  std::string payload;  // Serialized JSON, or "" for POST-as-GET.
};

// Signer holds an account key and signs with it. Contract: the key never
// leaves the implementation; Sign returns a flattened JWS (RFC 7515 7.2.2).
class Signer {
 public:
  virtual ~Signer() = default;
  virtual const nlohmann::json& Jwk() const = 0;
  virtual const std::string& Thumbprint() const = 0;
  virtual Result<nlohmann::json> Sign(const SignRequest& request) = 0;
};

// NewLocalSigner returns a Signer over a PEM key held in this process.
Result<std::unique_ptr<Signer>> NewLocalSigner(const Secret& key_pem);

// NewSignerFromKey returns a Signer that owns `key`.
Result<std::unique_ptr<Signer>> NewSignerFromKey(crypto::PrivateKey key);

// PreparedKey is what the keys role hands back for one order: the CSR to
// send, and the key PEM to commit with the certificate (empty when the user
// supplied the CSR and keeps the key).
struct PreparedKey {
  std::string csr_der;
  std::string public_key_der;  // SubjectPublicKeyInfo the certificate must carry.
  Secret key_pem;
};

// KeyRequest says which domain key to use.
struct KeyRequest {
  std::vector<std::string> names;
  crypto::KeyType type = crypto::KeyType::kEc256;
  bool reuse = false;       // Use `existing_pem` if it is non-empty.
  Secret existing_pem;      // The live key, when reuse is asked.
  std::string csr_pem;      // A user CSR: used as is, no key is made.
};

// PrepareKey generates (or reuses) the domain key and builds the CSR, or
// validates a user-supplied CSR against `names`.
Result<PreparedKey> PrepareKey(KeyRequest request);

}  // namespace bulkhead::roles

#endif  // BULKHEAD_ROLES_ROLES_H_
