#include "migrate/import.h"

#include <fmt/format.h>

#include "crypto/x509.h"
#include "jose/jwk.h"
#include "manager/session.h"
#include "manager/settings_record.h"
#include "util/fs.h"

namespace bulkhead::migrate {

bool ImportReport::AnyRefused() const {
  for (const Line& l : lines) {
    if (l.refused) {
      return true;
    }
  }
  return false;
}

Result<std::string> ReadCapped(const std::string& path) {
  return ReadFileCapped(path, kMaxImportFileBytes);
}

Status ImportAccount(const std::string& state_dir, const crypto::PrivateKey& key,
                     const AccountToImport& account, bool* out_already) {
  *out_already = false;
  if (account.url.rfind("https://", 0) != 0 || account.url.size() > 2048) {
    return Err("the account URL is not an https:// URL");
  }
  manager::CaConfig ca;
  ca.directory_url = account.server;
  BH_ASSIGN(store::AccountStore store, manager::AccountStoreFor(state_dir, ca));
  BH_ASSIGN(std::string spki, key.PublicKeyDer());
  if (store.HasKey()) {
    BH_ASSIGN(Secret existing_pem, store.ReadKey());
    BH_ASSIGN(crypto::PrivateKey existing, crypto::PrivateKey::FromPem(existing_pem.view()));
    BH_ASSIGN(std::string existing_spki, existing.PublicKeyDer());
    if (existing_spki != spki) {
      return Err(
          "bulkhead already has an account for {} with another key ({}); bulkhead keeps "
          "one account per CA, so the imported one would replace it and lose it",
          account.server, store.KeyPath());
    }
    *out_already = true;
    return OkStatus();
  }
  BH_ASSIGN(nlohmann::json jwk, jose::PublicJwk(key));
  BH_ASSIGN(std::string thumbprint, jose::Thumbprint(jwk));
  BH_ASSIGN(Secret pem, key.ToPem());
  BH_TRY(store.CreateKey(pem));
  nlohmann::json info = {{"url", account.url},
                         {"status", account.status},
                         {"contact", account.contact},
                         {"server", account.server},
                         {"key_type", crypto::KeyTypeName(key.type())},
                         {"thumbprint", thumbprint}};
  return store.SaveInfo(info);
}

Result<store::CertFiles> VerifiedVersion(std::string_view fullchain_pem, Secret key_pem,
                                         std::string_view source) {
  auto chain = crypto::ParsePemChain(fullchain_pem);
  if (!chain.ok()) {
    return Err("{}: the certificate chain does not parse: {}", source, chain.error().message);
  }
  auto key = crypto::PrivateKey::FromPem(key_pem.view());
  if (!key.ok()) {
    return Err("{}: the private key is not usable: {}", source, key.error().message);
  }
  BH_ASSIGN(std::string spki, key->PublicKeyDer());
  if (spki != chain->front().public_key_der) {
    return Err("{}: the private key is not the key of the certificate", source);
  }
  store::CertFiles files;
  files.privkey_pem = std::move(key_pem);
  files.cert_pem = chain->front().pem;
  for (size_t i = 0; i < chain->size(); ++i) {
    files.fullchain_pem += (*chain)[i].pem;
    if (i > 0) {
      files.chain_pem += (*chain)[i].pem;
    }
  }
  return files;
}

namespace {

// StoreVersions commits every version in order, points `live` at the live
// one and writes settings.json last, which makes the certificate managed.
Status StoreVersions(const store::CertStore& certs, CertToImport& cert) {
  const std::string& name = cert.settings.name;
  std::string settings_json = cert.settings.ToJson().dump();
  std::vector<int> committed;
  for (store::CertFiles& files : cert.versions) {
    files.settings_json = settings_json;
    BH_ASSIGN(int n, certs.Commit(name, files));
    committed.push_back(n);
  }
  if (cert.live_index + 1 != cert.versions.size()) {
    BH_TRY(certs.SetLive(name, committed[cert.live_index]));
  }
  return certs.SaveSettings(name, cert.settings.ToJson());
}

}  // namespace

Status ImportCert(const std::string& state_dir, CertToImport& cert) {
  const std::string& name = cert.settings.name;
  if (cert.versions.empty() || cert.live_index >= cert.versions.size()) {
    return Err("no version to import");
  }
  store::CertStore certs(state_dir + "/certs");
  if (certs.LoadSettings(name).ok() || certs.Versions(name).ok()) {
    return Err(
        "bulkhead already has a certificate named {} ({}); remove it or import into "
        "another --state-dir",
        name, certs.CertDir(name));
  }
  BH_ASSIGN(FileLock lock, certs.Lock(name, /*wait=*/false));
  Status stored = StoreVersions(certs, cert);
  if (!stored.ok()) {
    // Without settings.json bulkhead does not manage the half-stored
    // directory, but a second import would refuse it.
    return stored.error().Wrap(
        fmt::format("{} is incomplete; remove it before importing again", certs.CertDir(name)));
  }
  // As root, renew trusts only settings root recorded; the import is root
  // choosing these settings, as `issue` would be.
  return manager::SaveSettingsRecord(state_dir, cert.settings);
}

}  // namespace bulkhead::migrate
