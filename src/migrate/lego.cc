#include "migrate/lego.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "crypto/x509.h"
#include "manager/settings_input.h"
#include "store/account_store.h"
#include "util/fs.h"

namespace bulkhead::migrate {
namespace fs = std::filesystem;
namespace {

// kMaxEntries bounds how many directory entries one listing looks at.
constexpr size_t kMaxEntries = 10000;

std::vector<fs::path> ListDir(const fs::path& dir, std::error_code& ec) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir, ec)) {
    return out;
  }
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end && out.size() < kMaxEntries;
       it.increment(ec)) {
    out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status ImportOneAccount(const ImportOptions& o, const fs::path& dir, bool* out_already) {
  std::string email = dir.filename().string();
  BH_ASSIGN(std::string text, ReadCapped((dir / "account.json").string()));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("registration") || !j["registration"].is_object() ||
      !j["registration"].contains("uri") || !j["registration"]["uri"].is_string()) {
    return Err("account.json has no registration.uri (the account URL)");
  }
  const nlohmann::json& reg = j["registration"];
  AccountToImport account;
  account.server = o.server;
  account.url = reg["uri"].get<std::string>();
  account.status = "valid";
  if (reg.contains("body") && reg["body"].is_object()) {
    const nlohmann::json& body = reg["body"];
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
  BH_ASSIGN(Secret pem,
            ReadSecretFileCapped((dir / "keys" / (email + ".key")).string(), kMaxImportFileBytes));
  BH_ASSIGN(crypto::PrivateKey key, crypto::PrivateKey::FromPem(pem.view()));
  return ImportAccount(o.state_dir, key, account, out_already);
}

Status ImportOneCert(const ImportOptions& o, const fs::path& crt, std::string* out_summary) {
  std::string name = crt.stem().string();
  std::string shown = crt.lexically_relative(o.source_dir).string();
  if (!store::IsValidCertName(name)) {
    return Err("{}: {} is not usable as a certificate name", shown, name);
  }
  if (o.webroot.empty() && o.standalone.empty()) {
    return Err(
        "lego keeps no renewal settings; import again with --webroot DIR or "
        "--standalone ADDR:PORT (how renew is to answer http-01)");
  }
  BH_ASSIGN(std::string fullchain, ReadCapped(crt.string()));
  fs::path key_path = crt;
  key_path.replace_extension(".key");
  BH_ASSIGN(Secret key, ReadSecretFileCapped(key_path.string(), kMaxImportFileBytes));
  CertToImport cert;
  BH_ASSIGN(store::CertFiles files, VerifiedVersion(fullchain, std::move(key), shown));
  BH_ASSIGN(crypto::CertInfo leaf, crypto::ParseCertPem(files.cert_pem));
  BH_ASSIGN(crypto::PrivateKey live_key, crypto::PrivateKey::FromPem(files.privkey_pem.view()));
  manager::SettingsInput in;
  in.name = name;
  in.names = leaf.names;
  in.webroot = o.webroot;
  in.standalone = o.standalone;
  in.key_type = std::string(crypto::KeyTypeName(live_key.type()));
  in.server = o.server;
  in.ca_bundle = o.ca_bundle;
  auto settings = manager::BuildCertSettings(in);
  if (!settings.ok()) {
    return Err("{}: {}", shown, settings.error().message);
  }
  cert.settings = std::move(settings).value();
  cert.versions.push_back(std::move(files));
  BH_TRY(ImportCert(o.state_dir, cert));
  *out_summary =
      fmt::format("names {}, {} {}, key {}", fmt::join(cert.settings.names, ","),
                  manager::ChallengeMethodName(cert.settings.method),
                  cert.settings.challenge_target, crypto::KeyTypeName(cert.settings.key_type));
  return OkStatus();
}

}  // namespace

ImportReport ImportLego(const ImportOptions& o) {
  ImportReport report;
  auto ca_dir = store::CaDirName(o.server);
  std::error_code ec;
  for (const fs::path& host : ListDir(fs::path(o.source_dir) / "accounts", ec)) {
    std::error_code ec2;
    for (const fs::path& dir : ListDir(host, ec2)) {
      std::string what =
          fmt::format("account {} ({})", dir.filename().string(), host.filename().string());
      if (!ca_dir.ok() || host.filename() != *ca_dir) {
        report.Refused(
            fmt::format("{}: refused: it belongs to the CA at {}, not {}; import "
                        "again with --server and that CA's directory URL",
                        what, host.filename().string(), o.server));
        continue;
      }
      bool already = false;
      Status st = ImportOneAccount(o, dir, &already);
      if (!st.ok()) {
        report.Refused(fmt::format("{}: refused: {}", what, st.error().message));
      } else {
        report.Imported(fmt::format("{}: {}", what, already ? "already imported" : "imported"));
      }
    }
  }
  for (const fs::path& p : ListDir(fs::path(o.source_dir) / "certificates", ec)) {
    std::string file = p.filename().string();
    bool issuer = file.size() > 11 && file.substr(file.size() - 11) == ".issuer.crt";
    if (p.extension() != ".crt" || issuer) {
      continue;
    }
    std::string summary;
    Status st = ImportOneCert(o, p, &summary);
    std::string what = fmt::format("certificate {}", p.stem().string());
    if (!st.ok()) {
      report.Refused(fmt::format("{}: refused: {}", what, st.error().message));
    } else {
      report.Imported(fmt::format("{}: imported {}", what, summary));
    }
  }
  if (report.lines.empty()) {
    report.Refused(fmt::format("{}: no lego accounts or certificates found", o.source_dir));
  }
  return report;
}

}  // namespace bulkhead::migrate
