// bulkhead revoke: revoke a managed certificate, by the account or by the
// certificate's own key.
#include <memory>

#include "acme/client.h"
#include "cli/cli.h"
#include "crypto/x509.h"
#include "manager/account_ops.h"
#include "manager/manager.h"
#include "manager/settings.h"
#include "manager/settings_record.h"

namespace bulkhead::cli {
namespace {

struct RevokeOptions {
  std::string name;
  std::string reason = "unspecified";
  bool with_cert_key = false;
  bool reissue = false;
};

// SaveRevocation records the revocation of `serial` in settings.json and
// root's record. Returns an exit status.
int SaveRevocation(const GlobalFlags& flags, const store::CertStore& certs,
                   manager::CertSettings* settings) {
  Status saved = certs.SaveSettings(settings->name, settings->ToJson());
  if (saved.ok()) {
    saved = manager::SaveSettingsRecord(StateDir(flags), *settings);
  }
  if (!saved.ok()) {
    return Fail(saved.error());
  }
  return kExitOk;
}

// PrintNext says what happens next to the revoked certificate `name`.
void PrintNext(const std::string& name, const manager::CertSettings& s) {
  if (s.revoked_reissue) {
    fmt::print("the next `bulkhead renew` replaces it{}\n",
               s.revoked_key_compromise || !s.reuse_key ? ", with a fresh key" : "");
    return;
  }
  fmt::print(
      "`bulkhead renew` will not replace it: servers keep serving the revoked certificate "
      "until you run `bulkhead renew --force --name {}` (or `bulkhead revoke --name {} "
      "--reissue`, then `bulkhead renew`), or stop managing it with `bulkhead delete --name "
      "{}`\n",
      name, name, name);
}

int RunRevoke(const GlobalFlags& flags, const RevokeOptions& o) {
  auto reason = acme::RevocationReason(o.reason);
  if (!reason.ok()) {
    return Fail(reason.error());
  }
  if (!store::IsValidCertName(o.name)) {
    return Fail(ErrCode(ErrorCode::kUsage, "--name: invalid certificate name"));
  }
  store::CertStore certs = CertStoreFor(flags);
  auto lock = certs.Lock(o.name, /*wait=*/false);
  if (!lock.ok()) {
    return Fail(lock.error());
  }
  auto settings_json = certs.LoadSettings(o.name);
  if (!settings_json.ok()) {
    return Fail(settings_json.error().Wrap(o.name));
  }
  auto settings = manager::CertSettings::FromJson(*settings_json, o.name);
  if (!settings.ok()) {
    return Fail(settings.error());
  }
  // The settings are rewritten below: as root, only what root recorded.
  if (Status trusted = manager::CheckSettingsRecord(StateDir(flags), certs, *settings);
      !trusted.ok()) {
    return Fail(trusted.error().Wrap(o.name));
  }
  auto live = certs.LoadLive(o.name);
  if (!live.ok()) {
    return Fail(live.error().Wrap(o.name));
  }
  auto leaf = crypto::ParseCertPem(live->cert_pem);
  if (!leaf.ok()) {
    return Fail(leaf.error().Wrap(o.name));
  }
  if (o.reissue && settings->revoked_serial == leaf->serial_hex) {
    // Revoked earlier without --reissue: the CA has nothing more to do,
    // only renew's instructions change.
    settings->revoked_reissue = true;
    settings->revoked_key_compromise = settings->revoked_key_compromise || *reason == 1;
    if (int st = SaveRevocation(flags, certs, &*settings); st != kExitOk) {
      return st;
    }
    fmt::print("{} (serial {}) was already revoked; ", o.name, leaf->serial_hex);
    PrintNext(o.name, *settings);
    return kExitOk;
  }
  manager::CaConfig ca{settings->server,
                       flags.ca_bundle_given ? AbsolutePath(flags.ca_bundle) : settings->ca_bundle,
                       flags.http_timeout_seconds * 1000L};

  manager::RevokeRequest request;
  request.cert_der = leaf->der;
  request.reason = *reason;
  if (o.with_cert_key) {
    // Signed with the certificate's key (jwk): works without any account,
    // e.g. after the account key is lost. Only the signer role reads it.
    if (!live->has_key) {
      return Fail(ErrCode(ErrorCode::kNotFound,
                          "{}: --with-cert-key: certificate {} (version {}) has no private key "
                          "stored (issued from a CSR?)",
                          o.name, o.name, live->version));
    }
    request.cert_key_path = live->dir + "/privkey.pem";
  }
  auto run_as = RolesRunAs(flags);
  if (!run_as.ok()) {
    return Fail(run_as.error());
  }
  Status st =
      manager::RevokeInCompartments(StateDir(flags), ca, request, flags.require_sandbox, *run_as);
  if (!st.ok()) {
    return Fail(st.error().Wrap(o.name));
  }
  settings->revoked_serial = leaf->serial_hex;
  settings->revoked_key_compromise = *reason == 1;
  settings->revoked_reissue = o.reissue;
  if (int st = SaveRevocation(flags, certs, &*settings); st != kExitOk) {
    return st;
  }
  fmt::print("revoked {} (serial {}, reason {}); ", o.name, leaf->serial_hex, o.reason);
  PrintNext(o.name, *settings);
  return kExitOk;
}

}  // namespace

void AddRevokeCommand(CLI::App& app, Cli& cli) {
  auto o = std::make_shared<RevokeOptions>();
  CLI::App* cmd = app.add_subcommand("revoke", "revoke a managed certificate");
  cmd->add_option("--name", o->name, "certificate name")->required();
  cmd->add_option("--reason", o->reason,
                  "unspecified, keyCompromise, affiliationChanged, superseded, "
                  "cessationOfOperation");
  cmd->add_flag("--with-cert-key", o->with_cert_key,
                "sign with the certificate's own key instead of the account key");
  cmd->add_flag("--reissue", o->reissue,
                "let the next renew replace it (without this, renew leaves a revoked "
                "certificate alone); on a certificate already revoked, only marks it");
  cmd->callback([&cli, o] { cli.run = [&cli, o] { return RunRevoke(cli.flags, *o); }; });
}

}  // namespace bulkhead::cli
