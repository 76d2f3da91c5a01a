#include "config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "manager/session.h"
#include "manager/settings_input.h"
#include "store/cert_store.h"
#include "util/fs.h"

namespace bulkhead::config {
namespace {

// Where is what a message needs to point at a value: the file, the line
// and the dotted key.
struct Where {
  const std::string& path;
  int line = 0;
  std::string key;
};

Error Bad(const Where& at, std::string_view what) {
  return ErrCode(ErrorCode::kUsage, "{}:{}: {}: {}", at.path, at.line, at.key, what);
}

int LineOf(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

Result<std::string> String(const toml::node& v, const Where& at) {
  const auto* s = v.as_string();
  if (s == nullptr) {
    return Bad(at, "expected a string");
  }
  const std::string& text = s->get();
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return Bad(at, "control characters are not allowed");
    }
  }
  return text;
}

Result<std::string> Path(const toml::node& v, const Where& at) {
  BH_ASSIGN(std::string p, String(v, at));
  if (p.empty() || p[0] != '/') {
    return Bad(at, fmt::format("\"{}\" is not an absolute path", p));
  }
  return p;
}

Result<bool> Bool(const toml::node& v, const Where& at) {
  const auto* b = v.as_boolean();
  if (b == nullptr) {
    return Bad(at, "expected true or false");
  }
  return b->get();
}

Result<int> Int(const toml::node& v, const Where& at, int min, int max) {
  const auto* i = v.as_integer();
  if (i == nullptr) {
    return Bad(at, "expected a whole number");
  }
  int64_t n = i->get();
  if (n < min || n > max) {
    return Bad(at, fmt::format("{} is out of range ({} to {})", n, min, max));
  }
  return static_cast<int>(n);
}

Result<std::vector<std::string>> Strings(const toml::node& v, const Where& at) {
  const auto* a = v.as_array();
  if (a == nullptr) {
    return Bad(at, "expected a list of strings, e.g. [\"a\", \"b\"]");
  }
  std::vector<std::string> out;
  for (const toml::node& item : *a) {
    BH_ASSIGN(std::string s, String(item, Where{at.path, LineOf(item), at.key}));
    out.push_back(std::move(s));
  }
  return out;
}

using Setter = std::function<Status(const toml::node&, const Where&)>;

// Keys lists the names a table accepts, for the "unknown key" message.
std::string Keys(const std::map<std::string, Setter>& setters) {
  std::string out;
  for (const auto& [k, unused] : setters) {
    out += (out.empty() ? "" : ", ") + k;
  }
  return out;
}

// Apply runs each key of `table` through its setter; an unknown key is an
// error listing the known ones (a typo must not silently mean "default").
Status Apply(const toml::table& table, const std::string& prefix,
             const std::map<std::string, Setter>& setters, const std::string& path,
             const std::set<std::string>& skip = {}) {
  for (const auto& [key, value] : table) {
    std::string k(key.str());
    if (skip.contains(k)) {
      continue;
    }
    Where at{path, static_cast<int>(key.source().begin.line), prefix + k};
    auto it = setters.find(k);
    if (it == setters.end()) {
      return Bad(at, fmt::format("unknown key (known here: {})", Keys(setters)));
    }
    BH_TRY(it->second(value, at));
  }
  return OkStatus();
}

Status ParseGlobal(const toml::table& root, const std::string& path, GlobalConfig* g) {
  std::map<std::string, Setter> setters = {
      {"state-dir",
       [&](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(g->state_dir, Path(v, at));
         return OkStatus();
       }},
      {"server",
       [&](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(g->server, String(v, at));
         if (Result<std::string> r = manager::ResolveServer(g->server); !r.ok()) {
           return Bad(at, r.error().message);
         }
         return OkStatus();
       }},
      {"ca-bundle",
       [&](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(g->ca_bundle, Path(v, at));
         return OkStatus();
       }},
      {"user",
       [&](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(g->user, String(v, at));
         return OkStatus();
       }},
      {"email",
       [&](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(g->email, String(v, at));
         return OkStatus();
       }},
      {"key-type",
       [&](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(g->key_type, String(v, at));
         if (Result<crypto::KeyType> t = crypto::ParseKeyType(g->key_type); !t.ok()) {
           return Bad(at, t.error().message);
         }
         return OkStatus();
       }},
      {"renew-days",
       [&](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(int days, Int(v, at, 0, 36500));
         g->renew_days = days;
         return OkStatus();
       }},
  };
  return Apply(root, "", setters, path, {"certificate"});
}

// CertSetters binds a [certificate.NAME] table's keys to `in`.
std::map<std::string, Setter> CertSetters(manager::SettingsInput& in, bool& has_names) {
  auto str = [](std::string* field) {
    return [field](const toml::node& v, const Where& at) -> Status {
      BH_ASSIGN(*field, String(v, at));
      return OkStatus();
    };
  };
  auto path = [](std::string* field) {
    return [field](const toml::node& v, const Where& at) -> Status {
      BH_ASSIGN(*field, Path(v, at));
      return OkStatus();
    };
  };
  auto integer = [](int* field, int min, int max) {
    return [field, min, max](const toml::node& v, const Where& at) -> Status {
      BH_ASSIGN(*field, Int(v, at, min, max));
      return OkStatus();
    };
  };
  return {
      {"names",
       [&in, &has_names](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(in.names, Strings(v, at));
         if (in.names.empty()) {
           return Bad(at, "at least one name is needed");
         }
         has_names = true;
         return OkStatus();
       }},
      {"webroot", path(&in.webroot)},
      {"challenge-dir", path(&in.challenge_dir)},
      {"standalone", str(&in.standalone)},
      {"dns-drop", path(&in.dns_drop)},
      {"dns-rfc2136", str(&in.dns_rfc2136)},
      {"tsig-key", path(&in.tsig_key)},
      {"dns-hook", path(&in.dns_hook)},
      {"dns-resolver", str(&in.dns_resolver)},
      {"dns-timeout", integer(&in.dns_timeout, 1, 86400)},
      {"dns-wait", integer(&in.dns_wait, 0, 86400)},
      {"key-type", str(&in.key_type)},
      {"reuse-key",
       [&in](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(in.reuse_key, Bool(v, at));
         return OkStatus();
       }},
      {"csr", path(&in.csr)},
      {"preferred-chain", str(&in.preferred_chain)},
      {"profile", str(&in.profile)},
      {"preflight",
       [&in](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(bool on, Bool(v, at));
         in.no_preflight = !on;
         return OkStatus();
       }},
      {"preflight-port", integer(&in.preflight_port, 1, 65535)},
      {"tlsa",
       [&in](const toml::node& v, const Where& at) -> Status {
         BH_ASSIGN(in.tlsa, Strings(v, at));
         return OkStatus();
       }},
      {"server", str(&in.server)},
      {"ca-bundle", path(&in.ca_bundle)},
      {"account", str(&in.account)},
  };
}

Result<CertEntry> ParseCertificate(const std::string& name, const toml::table& table,
                                   const std::string& path, const GlobalConfig& global,
                                   const CaDefaults& cli) {
  std::string prefix = fmt::format("certificate.{}.", name);
  Where table_at{path, LineOf(table), "certificate." + name};
  manager::SettingsInput in;
  in.name = name;
  if (!global.key_type.empty()) {
    in.key_type = global.key_type;
  }
  bool has_names = false;
  BH_TRY(Apply(table, prefix, CertSetters(in, has_names), path));
  if (!has_names) {
    return Bad(table_at, "\"names\" is missing: the names to certify, e.g. names = [\"" +
                             name + "\"]");
  }
  // The CA: this table, else the command line, else the top level, else
  // Let's Encrypt (a flag overrides the file's defaults, not what a
  // certificate's own table says).
  std::string server = !in.server.empty()       ? in.server
                       : !cli.server.empty()    ? cli.server
                       : !global.server.empty() ? global.server
                                                : "letsencrypt";
  Result<std::string> url = manager::ResolveServer(server);
  if (!url.ok()) {
    return Bad(Where{path, LineOf(table), prefix + "server"}, url.error().message);
  }
  in.server = *url;
  if (in.ca_bundle.empty()) {
    in.ca_bundle = !cli.ca_bundle.empty() ? cli.ca_bundle : global.ca_bundle;
  }
  Result<manager::CertSettings> settings = manager::BuildCertSettings(in);
  if (!settings.ok()) {
    return Bad(table_at, settings.error().message);
  }
  return CertEntry{std::move(*settings), LineOf(table)};
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::string& path, const CaDefaults& cli) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return ErrCode(ErrorCode::kUsage, "{}:{}: {}", path, e.source().begin.line, e.description());
  }
  Config config;
  config.path = path;
  BH_TRY(ParseGlobal(root, path, &config.global));
  const toml::node* certs = root.get("certificate");
  if (certs == nullptr) {
    return config;
  }
  const toml::table* table = certs->as_table();
  if (table == nullptr) {
    return Bad(Where{path, LineOf(*certs), "certificate"},
               "expected tables: [certificate.\"NAME\"]");
  }
  for (const auto& [key, value] : *table) {
    std::string name(key.str());
    Where at{path, static_cast<int>(key.source().begin.line), "certificate." + name};
    if (!store::IsValidCertName(name)) {
      return Bad(at, "not a usable certificate name: 1 to 100 characters of A-Z a-z 0-9 . _ -, "
                     "not starting with '.'");
    }
    const toml::table* cert = value.as_table();
    if (cert == nullptr) {
      return Bad(at, "expected a table: [certificate.\"" + name + "\"]");
    }
    BH_ASSIGN(CertEntry entry, ParseCertificate(name, *cert, path, config.global, cli));
    config.certificates.push_back(std::move(entry));
  }
  return config;
}

Result<Config> LoadConfig(const std::string& path, const CaDefaults& cli) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return ErrCode(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUsage,
                   "configuration file {}: {}", path, std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return ErrCode(ErrorCode::kUsage, "configuration file {}: not a regular file", path);
  }
  if (::geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & 022) != 0)) {
    return ErrCode(ErrorCode::kUsage,
                   "configuration file {}: root does not use a file that belongs to another "
                   "user or that others may write (it names the programs root starts and the "
                   "directories it writes); chown root and chmod go-w it",
                   path);
  }
  if (static_cast<size_t>(st.st_size) > kMaxConfigBytes) {
    return ErrCode(ErrorCode::kUsage, "configuration file {}: larger than {} bytes", path,
                   kMaxConfigBytes);
  }
  std::string text(static_cast<size_t>(st.st_size) + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrCode(ErrorCode::kUsage, "configuration file {}: {}", path, std::strerror(errno));
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  if (got > static_cast<size_t>(st.st_size)) {
    return ErrCode(ErrorCode::kUsage, "configuration file {}: changed while being read", path);
  }
  text.resize(got);
  return ParseConfig(text, path, cli);
}

std::string DefaultConfigPath(bool is_root) {
  if (is_root) {
    return "/etc/bulkhead/bulkhead.toml";
  }
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/bulkhead/bulkhead.toml";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    return std::string(home) + "/.config/bulkhead/bulkhead.toml";
  }
  return "";
}

}  // namespace bulkhead::config
