// The keys role's pure part: making (or reusing) the certificate's domain
// key and building the CSR, or checking a CSR the user supplied. The role
// as a process (RunKeysRole) is in roles/compartments.h.
#ifndef BULKHEAD_ROLES_KEYS_H_
#define BULKHEAD_ROLES_KEYS_H_

#include <string>
#include <vector>

#include "crypto/key.h"
#include "util/result.h"
#include "util/secret.h"

namespace bulkhead::roles {

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
// validates a user-supplied CSR against `names`. Returns an error for no
// names, a broken existing key, or a user CSR that does not parse or names
// other identifiers (kUsage).
Result<PreparedKey> PrepareKey(KeyRequest request);

}  // namespace bulkhead::roles

#endif  // BULKHEAD_ROLES_KEYS_H_
