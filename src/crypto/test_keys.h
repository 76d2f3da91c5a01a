// Test-only helper: one key of each type per test binary. RSA generation
// takes seconds, and tests only need some key of the right type. Header-only
// so that it is never linked into the library.
#ifndef BULKHEAD_CRYPTO_TEST_KEYS_H_
#define BULKHEAD_CRYPTO_TEST_KEYS_H_

#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

#include "crypto/key.h"

namespace bulkhead::crypto {

// kAllKeyTypes lists every KeyType, for parameterised tests.
inline constexpr KeyType kAllKeyTypes[] = {KeyType::kEc256, KeyType::kEc384, KeyType::kRsa2048,
                                           KeyType::kRsa3072, KeyType::kRsa4096};

// TestKey returns a key of `type`, generated on first use and shared by all
// tests of the binary. Aborts if OpenSSL cannot generate it, as no test could
// run meaningfully after that.
inline const PrivateKey& TestKey(KeyType type) {
  static std::mutex mu;
  static std::map<KeyType, PrivateKey> keys;
  std::lock_guard<std::mutex> lock(mu);
  auto it = keys.find(type);
  if (it == keys.end()) {
    auto key = PrivateKey::Generate(type);
    if (!key.ok()) {
      std::fprintf(stderr, "TestKey: %s\n", key.error().message.c_str());
      std::abort();
    }
    it = keys.emplace(type, std::move(key).value()).first;
  }
  return it->second;
}

}  // namespace bulkhead::crypto

#endif  // BULKHEAD_CRYPTO_TEST_KEYS_H_
