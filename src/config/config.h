// The declarative configuration file (TOML): global settings and one table
// per certificate, which `renew` makes the state match (config/plan.h).
//
//   server = "letsencrypt"              # or letsencrypt-staging, or a URL
//   email = "admin@example.org"
//   [certificate."example.com"]
//   names = ["example.com", "www.example.com"]
//   webroot = "/var/www/example"
//
// Every value goes through the same translation and validation as `issue`'s
// flags (manager::BuildCertSettings), and every error names the file, the
// line and the key. docs/CONFIG.md lists the keys.
#ifndef BULKHEAD_CONFIG_CONFIG_H_
#define BULKHEAD_CONFIG_CONFIG_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "manager/settings.h"
#include "util/result.h"

namespace bulkhead::config {

// kMaxConfigBytes bounds the file: a thousand certificates fit in far less.
inline constexpr size_t kMaxConfigBytes = 1 << 20;

// GlobalConfig is the top level of the file; unset values are empty.
struct GlobalConfig {
  std::string state_dir;
  std::string server;      // As written: an alias or an https URL.
  std::string ca_bundle;   // Absolute path.
  std::string user;        // Who the roles run as when started as root.
  std::string email;       // Contact for `account register`.
  std::string key_type;    // Default for certificates that do not say.
  std::optional<int> renew_days;  // `renew --days` when not given.
};

// CertEntry is one [certificate.NAME] table, validated.
struct CertEntry {
  manager::CertSettings settings;
  int line = 0;  // Where its table starts, for messages.
};

// Config is a whole parsed file.
struct Config {
  std::string path;
  GlobalConfig global;
  std::vector<CertEntry> certificates;  // In file order.
};

// CaDefaults is what the command line says about the CA: it applies to
// certificates whose own table names none, before the file's top level.
struct CaDefaults {
  std::string server;     // Resolved URL, or "" (then Let's Encrypt).
  std::string ca_bundle;  // Absolute path or "".
};

// ParseConfig parses `text` (the contents of `path`, used in messages). It
// fails (kUsage) with "PATH:LINE: KEY: what is wrong" for a syntax error,
// an unknown key, a value of the wrong type, a relative path, a duplicate
// certificate name, or a certificate table that BuildCertSettings refuses.
// `cli` fills in the CA where the file does not name one.
Result<Config> ParseConfig(std::string_view text, const std::string& path, const CaDefaults& cli);

// LoadConfig reads `path` (at most kMaxConfigBytes, a regular file) and
// parses it. When the process runs as root the file must belong to root
// and be writable by nobody else: it decides which programs root starts
// and where it writes. A missing file is ErrorCode::kNotFound.
Result<Config> LoadConfig(const std::string& path, const CaDefaults& cli);

// DefaultConfigPath is /etc/bulkhead/bulkhead.toml for root, else
// $XDG_CONFIG_HOME/bulkhead/bulkhead.toml ($HOME/.config when unset), or
// "" when neither variable is set.
std::string DefaultConfigPath(bool is_root);

}  // namespace bulkhead::config

#endif  // BULKHEAD_CONFIG_CONFIG_H_
