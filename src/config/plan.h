// What `renew` does to make the state match the configuration file: issue
// what the file has and the state does not, re-issue what the file
// describes differently, renew the rest when due, and leave certificates
// the file does not mention as they are (renewed from their own settings,
// never deleted).
#ifndef BULKHEAD_CONFIG_PLAN_H_
#define BULKHEAD_CONFIG_PLAN_H_

#include <string>
#include <vector>

#include "config/config.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::config {

// ConfigAction is what one certificate needs.
enum class ConfigAction {
  kIssue,      // In the file, not managed yet.
  kReissue,    // In the file and managed, with different settings.
  kKeep,       // In the file and managed alike: renew when due.
  kNotInFile,  // Managed, not in the file: renewed as stored when due.
};

// ConfigActionName returns "issue", "re-issue", "keep" or "not in file".
std::string_view ConfigActionName(ConfigAction action);

// ConfigStep is the plan for one certificate.
struct ConfigStep {
  std::string name;
  ConfigAction action = ConfigAction::kKeep;
  // kReissue: how the file differs (manager::SettingsDifferences), or why
  // the stored settings could not be compared.
  std::vector<std::string> differences;
  const CertEntry* entry = nullptr;  // Into the Config; null for kNotInFile.
};

// PlanConfig compares `config` with the certificates managed in `certs`:
// one step per certificate of the file, in file order, then one per
// managed certificate the file does not name, sorted. Stored settings that
// cannot be read are a kReissue naming the reason (the file is what the
// operator wants). Fails only if the managed certificates cannot be listed.
Result<std::vector<ConfigStep>> PlanConfig(const Config& config, const store::CertStore& certs);

}  // namespace bulkhead::config

#endif  // BULKHEAD_CONFIG_PLAN_H_
