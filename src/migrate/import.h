// What importing from another ACME client shares, whatever the client:
// the report, and writing an account or a certificate into bulkhead's
// state the way `account register` and `issue` leave it. The readers of
// each client's files are certbot.h and lego.h; nothing here writes
// outside the state directory.
#ifndef BULKHEAD_MIGRATE_IMPORT_H_
#define BULKHEAD_MIGRATE_IMPORT_H_

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "crypto/key.h"
#include "manager/settings.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::migrate {

// ImportReport collects one line per account and certificate looked at.
struct ImportReport {
  struct Line {
    bool refused = false;
    std::string text;
  };
  std::vector<Line> lines;

  void Imported(std::string text) { lines.push_back({false, std::move(text)}); }
  void Refused(std::string text) { lines.push_back({true, std::move(text)}); }
  // AnyRefused says whether anything was refused (the command then exits 1).
  bool AnyRefused() const;
};

// kMaxImportFileBytes bounds every file read from another client's
// directory (keys, JSON, PEM chains): all are a few KiB.
inline constexpr size_t kMaxImportFileBytes = 1 << 20;

// AccountToImport is an account as another client kept it.
struct AccountToImport {
  std::string server;  // ACME directory URL.
  std::string url;     // The account URL (kid).
  std::string status;
  nlohmann::json contact = nlohmann::json::array();
};

// ImportAccount writes `key` and `account` as the "default" account for
// account.server under `state_dir` (account.key O_EXCL 0400, account.json
// with url, status, contact, server, key_type and thumbprint). When that
// account exists with the same key, nothing is written and
// `*out_already` is set. Fails, writing nothing, when it exists with
// another key (naming both), or the URL or server is unusable.
Status ImportAccount(const std::string& state_dir, const crypto::PrivateKey& key,
                     const AccountToImport& account, bool* out_already);

// VerifiedVersion checks one certificate version read from `source`
// (named in errors): `fullchain_pem` parses, leaf first, and `key_pem` is
// the key of the leaf. Returns the files to commit (leaf, intermediates,
// full chain, key). Fails naming the first problem.
Result<store::CertFiles> VerifiedVersion(std::string_view fullchain_pem, Secret key_pem,
                                         std::string_view source);

// CertToImport is a certificate with every version to keep, oldest first.
struct CertToImport {
  std::vector<store::CertFiles> versions;
  size_t live_index = 0;  // Which of `versions` is live.
  manager::CertSettings settings;
};

// ImportCert stores `cert` (each version gets a copy of the settings) under
// <state_dir>/certs/<settings.name>: each version committed in order, `live` set to the live one,
// settings.json written and, as root, root's settings record. Fails without writing when bulkhead
// already has a certificate of that name.
Status ImportCert(const std::string& state_dir, CertToImport& cert);

// ReadCapped reads a file of another client, at most kMaxImportFileBytes.
Result<std::string> ReadCapped(const std::string& path);

}  // namespace bulkhead::migrate

#endif  // BULKHEAD_MIGRATE_IMPORT_H_
