// What a person asks for a certificate, before it is CertSettings: the
// form `issue`'s flags and a configuration file's [certificate.NAME] table
// share, so both go through one translation and one validation
// (CertSettings::Validate, which settings.json and root's record pass too).
#ifndef BULKHEAD_MANAGER_SETTINGS_INPUT_H_
#define BULKHEAD_MANAGER_SETTINGS_INPUT_H_

#include <string>
#include <vector>

#include "manager/settings.h"
#include "util/result.h"

namespace bulkhead::manager {

// SettingsInput mirrors `issue`'s options. Paths must already be absolute
// (the front end knows against what: the working directory, or a
// configuration file's rule); empty strings mean "not given".
struct SettingsInput {
  std::vector<std::string> names;  // As typed: IDNs, IP addresses, wildcards.
  std::string name;                // Certificate name; "": from the first name.
  // Exactly one challenge method.
  std::string webroot;
  std::string challenge_dir;
  std::string standalone;
  std::string dns_drop;
  std::string dns_rfc2136;
  std::string tsig_key;
  std::string dns_hook;
  std::string dns_resolver;
  int dns_timeout = 300;
  int dns_wait = 0;
  std::string key_type = "ec256";
  bool reuse_key = false;
  std::string csr;
  std::string preferred_chain;
  std::string profile;
  bool no_preflight = false;
  int preflight_port = 0;         // 0: not given (80).
  std::vector<std::string> tlsa;  // HOST:PORT.
  std::string server;             // ACME directory URL (already resolved).
  std::string ca_bundle;          // Absolute, or "".
  std::string account = "default";
};

// BuildCertSettings turns `in` into validated CertSettings: names
// canonicalized and de-duplicated, one challenge method (kUsage naming the
// choices otherwise), addresses parsed, each option placed where it
// belongs so that Validate refuses the wrong combination. Fails (kUsage)
// naming the first problem.
Result<CertSettings> BuildCertSettings(const SettingsInput& in);

// SettingsDifferences lists, one short phrase each, how `wanted` differs
// from `stored` in what makes a certificate what it is: names (added and
// dropped, named), CA, account, challenge method or target, key type, key
// reuse, CSR, preferred chain, profile, TLSA endpoints and DNS and
// pre-flight options. Empty when a re-issue would change nothing.
std::vector<std::string> SettingsDifferences(const CertSettings& stored,
                                             const CertSettings& wanted);

// DroppedNames returns the names `stored` has and `wanted` does not.
std::vector<std::string> DroppedNames(const CertSettings& stored, const CertSettings& wanted);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_SETTINGS_INPUT_H_
