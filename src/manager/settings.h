// CertSettings: what `issue` was asked for a certificate, stored with it so
// that `renew` repeats it without flags.
#ifndef BULKHEAD_MANAGER_SETTINGS_H_
#define BULKHEAD_MANAGER_SETTINGS_H_

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "crypto/key.h"
#include "util/result.h"

namespace bulkhead::manager {

// ChallengeMethod is how http-01 tokens are published.
enum class ChallengeMethod { kWebroot, kChallengeDir, kStandalone };

struct CertSettings {
  std::string name;
  std::vector<std::string> names;
  ChallengeMethod method = ChallengeMethod::kWebroot;
  std::string challenge_target;  // Directory, or ADDR:PORT for standalone.
  crypto::KeyType key_type = crypto::KeyType::kEc256;
  bool reuse_key = false;
  std::string csr_file;
  std::string preferred_chain;
  std::string server;     // ACME directory URL.
  std::string ca_bundle;  // PEM file trusted for the CA, or "".
  std::string account = "default";
  // Set by `revoke`: the next `renew` replaces a revoked certificate, with a
  // fresh key when the reason was keyCompromise.
  std::string revoked_serial;
  bool revoked_key_compromise = false;

  nlohmann::json ToJson() const;
  // FromJson validates every member; `source` names the file in errors.
  static Result<CertSettings> FromJson(const nlohmann::json& j, std::string_view source);
};

std::string_view ChallengeMethodName(ChallengeMethod m);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_SETTINGS_H_
