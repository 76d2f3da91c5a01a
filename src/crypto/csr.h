// Certificate signing requests.
#ifndef BULKHEAD_CRYPTO_CSR_H_
#define BULKHEAD_CRYPTO_CSR_H_

#include <string>
#include <string_view>
#include <vector>

#include "crypto/key.h"
#include "util/result.h"

namespace bulkhead::crypto {

// MakeCsr returns a DER PKCS#10 request signed by `key` (SHA-256) with every
// name of `names` as a subjectAltName (dNSName, or iPAddress for a literal
// IPv4/IPv6 address) and the first DNS name (if it fits in 64 bytes) as the
// subject CN. Fails on an empty list.
Result<std::string> MakeCsr(const PrivateKey& key, const std::vector<std::string>& names);

// CsrInfo is what bulkhead reads from a CSR the user supplies.
struct CsrInfo {
  std::string der;                 // The request, DER.
  std::vector<std::string> names;  // SAN dNSNames/iPAddresses plus the CN if not among them.
  std::string public_key_der;      // SubjectPublicKeyInfo, DER.
};

// ParseCsr reads a PEM or DER CSR, checks its self-signature and returns its
// names. Fails naming the problem (bad encoding, bad signature, no names).
Result<CsrInfo> ParseCsr(std::string_view pem_or_der);

}  // namespace bulkhead::crypto

#endif  // BULKHEAD_CRYPTO_CSR_H_
