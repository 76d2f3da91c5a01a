// Reading certificates and chains (PEM), as received from a CA or the store.
#ifndef BULKHEAD_CRYPTO_X509_H_
#define BULKHEAD_CRYPTO_X509_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bulkhead::crypto {

// CertInfo is the parsed summary of one X.509 certificate.
struct CertInfo {
  std::string pem;             // This certificate alone, PEM.
  std::string der;             // This certificate alone, DER.
  std::string subject;         // One-line RFC 2253 form.
  std::string subject_cn;      // Empty if none.
  std::string issuer;          // One-line RFC 2253 form.
  std::string issuer_cn;       // Empty if none.
  std::vector<std::string> names;  // SAN dNSName and iPAddress entries, in order.
  std::string serial_hex;      // Lower-case hex, no leading zeros, no colons.
  std::string serial_der;      // The serial's big-endian magnitude bytes.
  std::string aki_keyid;       // Authority key identifier (raw), empty if none.
  std::string public_key_der;  // SubjectPublicKeyInfo, DER.
  int64_t not_before = 0;      // Unix seconds.
  int64_t not_after = 0;       // Unix seconds.
};

// ParsePemChain splits PEM text into certificates, leaf first as given. It
// fails if there are none, if any block is not a certificate, if there is
// non-whitespace text between blocks, or if the text exceeds `max_bytes`.
Result<std::vector<CertInfo>> ParsePemChain(std::string_view pem, size_t max_bytes = 1 << 20);

// ParseCertPem is ParsePemChain for exactly one certificate.
Result<CertInfo> ParseCertPem(std::string_view pem);

// VerifyIssuedBy reports whether `child` is signed by `issuer`'s key and
// names it as issuer.
Result<bool> VerifyIssuedBy(const CertInfo& child, const CertInfo& issuer);

// FormatTime renders Unix seconds as "2026-01-02T03:04:05Z".
std::string FormatTime(int64_t unix_seconds);

}  // namespace bulkhead::crypto

#endif  // BULKHEAD_CRYPTO_X509_H_
