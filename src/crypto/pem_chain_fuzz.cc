// Fuzz target for certificate chains as a CA sends them (RFC 8555 section
// 7.4.2, application/pem-certificate-chain): ParsePemChain splits and
// decodes the PEM, then each certificate is checked against the next as
// the issuance code does. Must never crash, leak or hang on any input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/x509.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bulkhead::crypto;
  std::string_view pem(reinterpret_cast<const char*>(data), size);
  // A small cap also exercises the size check without slowing the fuzzer.
  auto chain = ParsePemChain(pem, /*max_bytes=*/64 * 1024);
  if (!chain.ok()) {
    if (chain.error().message.empty()) {
      std::abort();  // Every rejection must say why.
    }
    return 0;
  }
  if (chain->empty()) {
    std::abort();  // ParsePemChain fails rather than return no certificates.
  }
  for (size_t i = 0; i < chain->size(); ++i) {
    const CertInfo& cert = (*chain)[i];
    (void)FormatTime(cert.not_before);
    (void)FormatTime(cert.not_after);
    if (i + 1 < chain->size()) {
      (void)VerifyIssuedBy(cert, (*chain)[i + 1]);
    }
    (void)VerifyIssuedBy(cert, cert);  // Self-signed roots are checked this way.
  }
  return 0;
}
