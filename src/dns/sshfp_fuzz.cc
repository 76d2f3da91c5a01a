// Fuzz target for OpenSSH public key files as the zone compiler reads them
// for --sshfp-map: they come from the hosts they describe. Must never crash,
// leak or hang on any input; every refusal says why, and an accepted key
// always hashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dns/sshfp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bulkhead::dns;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto key = ParseSshPublicKey(text);
  if (!key.ok()) {
    if (key.error().message.empty()) {
      std::abort();  // Every rejection must say why.
    }
    return 0;
  }
  if (key->blob.empty() || !SshfpFingerprint(*key, SshfpHash::kSha256).ok() ||
      !SshfpFingerprint(*key, SshfpHash::kSha1).ok()) {
    std::abort();
  }
  return 0;
}
