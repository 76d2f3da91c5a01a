#include "config/plan.h"

#include <algorithm>
#include <set>

#include "manager/settings_input.h"

namespace bulkhead::config {

std::string_view ConfigActionName(ConfigAction action) {
  switch (action) {
    case ConfigAction::kIssue:
      return "issue";
    case ConfigAction::kReissue:
      return "re-issue";
    case ConfigAction::kKeep:
      return "keep";
    case ConfigAction::kNotInFile:
      return "not in file";
  }
  return "?";
}

Result<std::vector<ConfigStep>> PlanConfig(const Config& config, const store::CertStore& certs) {
  BH_ASSIGN(std::vector<std::string> managed, certs.List());
  std::set<std::string> in_file;
  std::vector<ConfigStep> steps;
  for (const CertEntry& entry : config.certificates) {
    const std::string& name = entry.settings.name;
    in_file.insert(name);
    ConfigStep step{name, ConfigAction::kKeep, {}, &entry};
    if (std::find(managed.begin(), managed.end(), name) == managed.end()) {
      step.action = ConfigAction::kIssue;
    } else {
      Result<nlohmann::json> json = certs.LoadSettings(name);
      Result<manager::CertSettings> stored =
          json.ok() ? manager::CertSettings::FromJson(*json, name)
                    : Result<manager::CertSettings>(json.error());
      if (!stored.ok()) {
        step.action = ConfigAction::kReissue;
        step.differences.push_back("stored settings unusable: " + stored.error().message);
      } else {
        step.differences = manager::SettingsDifferences(*stored, entry.settings);
        if (!step.differences.empty()) {
          step.action = ConfigAction::kReissue;
        }
      }
    }
    steps.push_back(std::move(step));
  }
  for (const std::string& name : managed) {
    if (!in_file.contains(name)) {
      steps.push_back(ConfigStep{name, ConfigAction::kNotInFile, {}, nullptr});
    }
  }
  return steps;
}

}  // namespace bulkhead::config
