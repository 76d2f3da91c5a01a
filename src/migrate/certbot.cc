#include "migrate/certbot.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include "crypto/x509.h"
#include "migrate/jwk_key.h"
#include "util/fs.h"

namespace bulkhead::migrate {
namespace fs = std::filesystem;
namespace {

// kMaxAccountDepth bounds the walk of accounts/: <host>/<path...>/<id>.
constexpr int kMaxAccountDepth = 8;
// kMaxEntries bounds how many directory entries one walk looks at.
constexpr size_t kMaxEntries = 10000;

// VersionNumber parses "<prefix><n>.pem" and returns n, or 0.
int VersionNumber(std::string_view file, std::string_view prefix) {
  if (file.substr(0, prefix.size()) != prefix || file.size() < prefix.size() + 5 ||
      file.substr(file.size() - 4) != ".pem") {
    return 0;
  }
  std::string_view digits = file.substr(prefix.size(), file.size() - prefix.size() - 4);
  int n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return ec == std::errc() && end == digits.data() + digits.size() && n > 0 && n < 1000000 ? n : 0;
}

std::string Rel(const ImportOptions& o, const fs::path& p) {
  return p.lexically_relative(o.source_dir).string();
}

struct CertbotAccount {
  std::string id;
  std::string server;
  fs::path dir;
};

// FindAccounts lists accounts/<host>/<path>/<id> directories holding a
// private_key.json, sorted by path.
std::vector<CertbotAccount> FindAccounts(const ImportOptions& o, ImportReport* report) {
  std::vector<CertbotAccount> out;
  fs::path root = fs::path(o.source_dir) / "accounts";
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return out;
  }
  fs::recursive_directory_iterator it(root, ec), end;
  size_t seen = 0;
  for (; !ec && it != end; it.increment(ec)) {
    if (++seen > kMaxEntries) {
      report->Refused(fmt::format("accounts: more than {} entries; stopped looking", kMaxEntries));
      break;
    }
    if (it.depth() >= kMaxAccountDepth) {
      it.disable_recursion_pending();
    }
    if (it->path().filename() != "private_key.json" || it.depth() < 2) {
      continue;
    }
    fs::path dir = it->path().parent_path();
    fs::path rel = dir.lexically_relative(root);
    CertbotAccount a;
    a.id = dir.filename().string();
    a.server = "https://" + rel.parent_path().generic_string();
    a.dir = dir;
    out.push_back(std::move(a));
  }
  if (ec) {
    report->Refused(fmt::format("accounts: cannot list {}: {}", Rel(o, root), ec.message()));
  }
  std::sort(out.begin(), out.end(),
            [](const CertbotAccount& a, const CertbotAccount& b) { return a.dir < b.dir; });
  return out;
}

Status ImportOneAccount(const ImportOptions& o, const CertbotAccount& a, bool* out_already) {
  BH_ASSIGN(std::string key_text, ReadCapped((a.dir / "private_key.json").string()));
  Secret key_json(std::move(key_text));
  nlohmann::json jwk = nlohmann::json::parse(key_json.view(), nullptr, /*allow_exceptions=*/false);
  auto parsed = PrivateKeyFromJwk(jwk);
  // Wipe the parsed copy of the private members as well, whatever the outcome.
  if (jwk.is_object()) {
    for (auto& [k, v] : jwk.items()) {
      if (v.is_string()) {
        std::string& s = v.get_ref<std::string&>();
        OPENSSL_cleanse(s.data(), s.size());
      }
    }
  }
  if (!parsed.ok()) {
    return parsed.error().Wrap("private_key.json");
  }
  crypto::PrivateKey key = std::move(parsed).value();
  BH_ASSIGN(std::string regr_text, ReadCapped((a.dir / "regr.json").string()));
  nlohmann::json regr = nlohmann::json::parse(regr_text, nullptr, false);
  if (!regr.is_object() || !regr.contains("uri") || !regr["uri"].is_string()) {
    return Err("regr.json has no \"uri\" (the account URL)");
  }
  AccountToImport account;
  account.server = a.server;
  account.url = regr["uri"].get<std::string>();
  // certbot keeps only accounts the CA accepted; it records no status.
  account.status = "valid";
  if (regr.contains("body") && regr["body"].is_object()) {
    const nlohmann::json& body = regr["body"];
    if (body.contains("status") && body["status"].is_string()) {
      account.status = body["status"].get<std::string>();
    }
    if (body.contains("contact") && body["contact"].is_array()) {
      for (const nlohmann::json& c : body["contact"]) {
        if (c.is_string()) {
          account.contact.push_back(c);
        }
      }
    }
  }
  return ImportAccount(o.state_dir, key, account, out_already);
}

// ReadVersions reads and checks every archive/<name>/certN.pem set, oldest
// first, and says which is live (where live/<name>/cert.pem points).
Status ReadVersions(const ImportOptions& o, const std::string& name, CertToImport* out) {
  fs::path archive = fs::path(o.source_dir) / "archive" / name;
  std::vector<int> numbers;
  std::error_code ec;
  size_t seen = 0;
  for (fs::directory_iterator it(archive, ec), end; !ec && it != end; it.increment(ec)) {
    if (++seen > kMaxEntries) {
      return Err("{}: more than {} entries", Rel(o, archive), kMaxEntries);
    }
    int n = VersionNumber(it->path().filename().string(), "cert");
    if (n > 0) {
      numbers.push_back(n);
    }
  }
  if (ec) {
    return Err("cannot list {}: {}", Rel(o, archive), ec.message());
  }
  if (numbers.empty()) {
    return Err("{} holds no certN.pem", Rel(o, archive));
  }
  std::sort(numbers.begin(), numbers.end());
  fs::path live_link = fs::path(o.source_dir) / "live" / name / "cert.pem";
  fs::path target = fs::read_symlink(live_link, ec);
  if (ec) {
    return Err("{} is not a symbolic link: {}", Rel(o, live_link), ec.message());
  }
  int live = VersionNumber(target.filename().string(), "cert");
  auto live_at = std::find(numbers.begin(), numbers.end(), live);
  // certbot's links are ../../archive/<name>/certN.pem; one into another
  // lineage's archive is not this certificate's live version.
  if (live == 0 || live_at == numbers.end() || target.parent_path().filename() != name) {
    return Err("{} points at {}, not a version in {}", Rel(o, live_link), target.string(),
               Rel(o, archive));
  }
  out->live_index = static_cast<size_t>(live_at - numbers.begin());
  for (int n : numbers) {
    std::string shown = fmt::format("{}/*{}.pem", Rel(o, archive), n);
    BH_ASSIGN(std::string fullchain,
              ReadCapped((archive / fmt::format("fullchain{}.pem", n)).string()));
    BH_ASSIGN(Secret key, ReadSecretFileCapped((archive / fmt::format("privkey{}.pem", n)).string(),
                                               kMaxImportFileBytes));
    BH_ASSIGN(std::string cert, ReadCapped((archive / fmt::format("cert{}.pem", n)).string()));
    BH_ASSIGN(store::CertFiles files, VerifiedVersion(fullchain, std::move(key), shown));
    auto leaf = crypto::ParseCertPem(cert);
    auto chain_leaf = crypto::ParseCertPem(files.cert_pem);
    if (!leaf.ok() || !chain_leaf.ok() || leaf->der != chain_leaf->der) {
      return Err("{}: cert{}.pem is not the first certificate of fullchain{}.pem", shown, n, n);
    }
    out->versions.push_back(std::move(files));
  }
  return OkStatus();
}

Status ImportOneCert(const ImportOptions& o, const fs::path& conf_path, std::string* out_summary) {
  std::string name = conf_path.stem().string();
  std::string shown = Rel(o, conf_path);
  if (!store::IsValidCertName(name)) {
    return Err("{}: {} is not usable as a certificate name", shown, name);
  }
  BH_ASSIGN(std::string text, ReadFileCapped(conf_path.string(), kMaxConfigObjBytes));
  BH_ASSIGN(ConfSection conf, ParseConfigObj(text, shown));
  CertToImport cert;
  BH_TRY(ReadVersions(o, name, &cert));
  const store::CertFiles& live = cert.versions[cert.live_index];
  BH_ASSIGN(crypto::CertInfo leaf, crypto::ParseCertPem(live.cert_pem));
  BH_ASSIGN(crypto::PrivateKey live_key, crypto::PrivateKey::FromPem(live.privkey_pem.view()));
  BH_ASSIGN(manager::SettingsInput in, CertbotSettingsInput(conf, shown, live_key.type()));
  in.name = name;
  in.names = leaf.names;
  in.ca_bundle = o.ca_bundle;
  auto settings = manager::BuildCertSettings(in);
  if (!settings.ok()) {
    return Err("{}: {}", shown, settings.error().message);
  }
  cert.settings = std::move(settings).value();
  BH_TRY(ImportCert(o.state_dir, cert));
  *out_summary = fmt::format(
      "{} version{} (live: {}), names {}, {} {}, key {}", cert.versions.size(),
      cert.versions.size() == 1 ? "" : "s", cert.live_index + 1,
      fmt::join(cert.settings.names, ","), manager::ChallengeMethodName(cert.settings.method),
      cert.settings.challenge_target, crypto::KeyTypeName(cert.settings.key_type));
  return OkStatus();
}

}  // namespace

Result<std::string> CertbotKeyType(const ConfSection& params, crypto::KeyType live) {
  std::string type = params.Get("key_type");
  if (type.empty()) {
    return std::string(crypto::KeyTypeName(live));
  }
  if (type == "rsa") {
    std::string size = params.Get("rsa_key_size", "2048");
    if (size == "2048" || size == "3072" || size == "4096") {
      return "rsa" + size;
    }
    return Err("rsa_key_size = {}: bulkhead makes RSA keys of 2048, 3072 or 4096 bits",
               size.substr(0, 16));
  }
  if (type == "ecdsa") {
    std::string curve = params.Get("elliptic_curve", "secp256r1");
    if (curve == "secp256r1") {
      return std::string("ec256");
    }
    if (curve == "secp384r1") {
      return std::string("ec384");
    }
    return Err("elliptic_curve = {}: bulkhead makes EC keys on secp256r1 or secp384r1",
               curve.substr(0, 32));
  }
  return Err("key_type = {}: bulkhead makes rsa and ecdsa keys only", type.substr(0, 16));
}

Result<manager::SettingsInput> CertbotSettingsInput(const ConfSection& conf,
                                                    std::string_view source,
                                                    crypto::KeyType live_key_type) {
  const ConfSection* params = conf.Section("renewalparams");
  if (params == nullptr) {
    return Err("{}: no [renewalparams] section", source);
  }
  manager::SettingsInput in;
  std::string auth = params->Get("authenticator");
  if (auth == "webroot") {
    std::set<std::string> roots;
    if (const ConfSection* map = params->Section("webroot_map"); map && !map->values.empty()) {
      for (const auto& [domain, dir] : map->values) {
        roots.insert(dir);
      }
    } else {
      for (const std::string& dir : SplitConfigList(params->Get("webroot_path"))) {
        roots.insert(dir);
      }
    }
    if (roots.size() != 1) {
      return Err(
          "{}: {} webroot directories; bulkhead answers every name of a certificate "
          "from one (issue it again with --webroot DIR)",
          source, roots.size());
    }
    if (roots.begin()->empty() || roots.begin()->front() != '/') {
      return Err("{}: the webroot {} is not an absolute path", source, *roots.begin());
    }
    in.webroot = *roots.begin();
  } else if (auth == "standalone") {
    std::string port = params->Get("http01_port", "80");
    int n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535) {
      return Err("{}: http01_port = {} is not a port", source, port.substr(0, 16));
    }
    in.standalone = fmt::format("0.0.0.0:{}", n);
  } else if (auth.rfind("dns-", 0) == 0) {
    return Err(
        "{}: authenticator = {}: bulkhead cannot run certbot's DNS plugins; issue it "
        "again with --dns-rfc2136 SERVER (and --tsig-key) or --dns-hook PROG",
        source, auth.substr(0, 64));
  } else if (auth.empty()) {
    return Err("{}: [renewalparams] names no authenticator", source);
  } else {
    return Err(
        "{}: authenticator = {}: bulkhead does not edit server configurations or ask a "
        "person; issue it again with --webroot DIR or --standalone ADDR:PORT",
        source, auth.substr(0, 64));
  }
  auto key_type = CertbotKeyType(*params, live_key_type);
  if (!key_type.ok()) {
    return Err("{}: {}", source, key_type.error().message);
  }
  in.key_type = *key_type;
  std::string reuse = params->Get("reuse_key", "False");
  in.reuse_key = reuse == "True" || reuse == "true";
  in.preferred_chain = params->Get("preferred_chain");
  in.server = params->Get("server", kCertbotDefaultServer);
  return in;
}

ImportReport ImportCertbot(const ImportOptions& o) {
  ImportReport report;
  for (const CertbotAccount& a : FindAccounts(o, &report)) {
    bool already = false;
    Status st = ImportOneAccount(o, a, &already);
    std::string what = fmt::format("account {} ({})", a.id, a.server);
    if (!st.ok()) {
      report.Refused(fmt::format("{}: refused: {}", what, st.error().message));
    } else {
      report.Imported(fmt::format("{}: {}", what, already ? "already imported" : "imported"));
    }
  }
  fs::path renewal = fs::path(o.source_dir) / "renewal";
  std::vector<fs::path> confs;
  std::error_code ec;
  if (fs::is_directory(renewal, ec)) {
    for (fs::directory_iterator it(renewal, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".conf" && confs.size() < kMaxEntries) {
        confs.push_back(it->path());
      }
    }
    if (ec) {
      report.Refused(fmt::format("renewal: cannot list: {}", ec.message()));
    }
  }
  std::sort(confs.begin(), confs.end());
  for (const fs::path& conf : confs) {
    std::string summary;
    Status st = ImportOneCert(o, conf, &summary);
    std::string what = fmt::format("certificate {}", conf.stem().string());
    if (!st.ok()) {
      report.Refused(fmt::format("{}: refused: {}", what, st.error().message));
    } else {
      report.Imported(fmt::format("{}: imported {}", what, summary));
    }
  }
  if (report.lines.empty()) {
    report.Refused(fmt::format("{}: no certbot accounts or renewal files found", o.source_dir));
  }
  return report;
}

}  // namespace bulkhead::migrate
