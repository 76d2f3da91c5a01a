#include "manager/settings_input.h"

#include <gtest/gtest.h>

namespace bulkhead::manager {
namespace {

SettingsInput Input() {
  SettingsInput in;
  in.names = {"Example.com", "www.example.com", "example.com"};
  in.webroot = "/var/www";
  in.server = "https://ca.example/dir";
  return in;
}

TEST(SettingsInputTest, BuildsCanonicalValidatedSettings) {
  Result<CertSettings> s = BuildCertSettings(Input());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->names, (std::vector<std::string>{"example.com", "www.example.com"}));
  EXPECT_EQ(s->name, "example.com");
  EXPECT_EQ(s->method, ChallengeMethod::kWebroot);
  EXPECT_TRUE(s->preflight.enabled);

  SettingsInput two = Input();
  two.standalone = "127.0.0.1:80";
  EXPECT_EQ(BuildCertSettings(two).error().code, ErrorCode::kUsage);
  SettingsInput none = Input();
  none.names.clear();
  EXPECT_EQ(BuildCertSettings(none).error().code, ErrorCode::kUsage);
  SettingsInput wildcard = Input();
  wildcard.names = {"*.example.com"};  // Validate: wildcards need dns-01.
  EXPECT_EQ(BuildCertSettings(wildcard).error().code, ErrorCode::kUsage);
}

TEST(SettingsInputTest, DifferencesNameWhatChanged) {
  CertSettings stored = *BuildCertSettings(Input());
  EXPECT_TRUE(SettingsDifferences(stored, stored).empty());
  SettingsInput changed = Input();
  changed.names = {"example.com", "api.example.com"};
  changed.key_type = "rsa2048";
  changed.server = "https://other.example/dir";
  CertSettings wanted = *BuildCertSettings(changed);
  std::vector<std::string> d = SettingsDifferences(stored, wanted);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0], "names added: api.example.com");
  EXPECT_EQ(d[1], "names dropped: www.example.com");
  EXPECT_EQ(d[2], "CA: https://ca.example/dir -> https://other.example/dir");
  EXPECT_EQ(d[3], "key type: ec256 -> rsa2048");
  EXPECT_EQ(DroppedNames(stored, wanted), std::vector<std::string>{"www.example.com"});
  // Order alone is no difference; revocation state is not a setting.
  CertSettings reordered = stored;
  std::swap(reordered.names[0], reordered.names[1]);
  reordered.revoked_serial = "01";
  EXPECT_TRUE(SettingsDifferences(stored, reordered).empty());
}

}  // namespace
}  // namespace bulkhead::manager
