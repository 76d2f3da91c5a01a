// Importing certbot's state (/etc/letsencrypt): accounts from
// accounts/<host>/<path>/<id>/{private_key.json,regr.json}, every kept
// version of each certificate from archive/<name>/ with live where
// live/<name>/cert.pem points, and renewal settings from
// renewal/<name>.conf. The source is only read.
#ifndef BULKHEAD_MIGRATE_CERTBOT_H_
#define BULKHEAD_MIGRATE_CERTBOT_H_

#include <string>
#include <vector>

#include "crypto/key.h"
#include "manager/settings_input.h"
#include "migrate/configobj.h"
#include "migrate/import.h"
#include "util/result.h"

namespace bulkhead::migrate {

// ImportOptions are what an import is told on the command line.
struct ImportOptions {
  std::string state_dir;   // bulkhead's state directory.
  std::string source_dir;  // The other client's directory (absolute).
  std::string ca_bundle;   // Recorded in each certificate's settings, or "".
  // lego only: its directory names the CA by host alone, so the directory
  // URL comes from here; and it keeps no renewal method, so it comes from
  // here too (at most one of the two).
  std::string server;
  std::string webroot;
  std::string standalone;
};

// kCertbotDefaultServer is the CA certbot uses when a renewal file names none.
inline constexpr const char* kCertbotDefaultServer =
    "https://acme-v02.api.letsencrypt.org/directory";

// CertbotKeyType maps [renewalparams] key_type, rsa_key_size and
// elliptic_curve to bulkhead's key type name ("ec256", "rsa2048", ...).
// Without key_type the live key's type `live` is kept. Fails naming the
// value bulkhead cannot make (an RSA size other than 2048/3072/4096, a
// curve other than secp256r1/secp384r1, another type).
Result<std::string> CertbotKeyType(const ConfSection& params, crypto::KeyType live);

// CertbotSettingsInput turns renewal file `conf` (read from `source`) into
// the settings `issue` would be given: the method (webroot: one directory
// for every name, from [[webroot_map]] or webroot_path; standalone: port
// http01_port on every address), the key type, reuse_key,
// preferred_chain and server. `names` and the certificate name are the
// caller's. Fails naming the setting that cannot be mapped and why (DNS
// plugins, nginx/apache/manual authenticators, several webroots).
Result<manager::SettingsInput> CertbotSettingsInput(const ConfSection& conf,
                                                    std::string_view source,
                                                    crypto::KeyType live_key_type);

// ImportCertbot imports everything under o.source_dir into o.state_dir,
// one report line per account and certificate; what cannot be mapped is
// refused with the reason and the rest still imported.
ImportReport ImportCertbot(const ImportOptions& o);

}  // namespace bulkhead::migrate

#endif  // BULKHEAD_MIGRATE_CERTBOT_H_
