// The certificate store: versioned directories and an atomically switched
// `live` symlink per certificate, so a reader never sees a new certificate
// with an old key, and old versions stay for rollback.
//
// Layout under <root> (normally <state-dir>/certs):
//   <name>/settings.json     what `issue` was asked, so `renew` can repeat it
//   <name>/lock              flock(2) target: one run per certificate
//   <name>/<n>/              version n (1, 2, ...), mode 0700:
//       privkey.pem (0600), cert.pem, chain.pem, fullchain.pem (0644),
//       settings.json (0600): the settings this version was issued with
//       (versions stored before this copy existed have none)
//   <name>/live -> <n>       relative symlink, replaced by rename(2)
//   <name>/pending/          an order in progress (0700): order.json and the
//                            new key (privkey.pem, 0600), so an interrupted
//                            run resumes the same order with the same key
//   <name>/next/             with TLSA records (DANE): the key the next
//                            certificate will use, made ahead of time
//                            (privkey.pem 0600) and its public half
//                            (pubkey.pem 0644) for the zone's TLSA record
//   <name>/dane.json         the rollover state (manager/dane.h)
#ifndef BULKHEAD_STORE_CERT_STORE_H_
#define BULKHEAD_STORE_CERT_STORE_H_

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "util/fs.h"
#include "util/result.h"
#include "util/secret.h"

namespace bulkhead::store {

// kKeepVersions is how many version directories survive a commit: enough to
// roll back past a bad deploy or two, small enough to stay tidy.
inline constexpr int kKeepVersions = 5;

// IsValidCertName reports whether `name` is usable as a directory name:
// 1..100 chars of [A-Za-z0-9._-], not starting with '.'.
bool IsValidCertName(std::string_view name);

// DefaultCertName derives a certificate name from its first identifier
// ("*.example.com" -> "_.example.com"; ':' in IPv6 -> '_').
std::string DefaultCertName(std::string_view first_identifier);

// CertFiles is one complete certificate set to commit.
struct CertFiles {
  Secret privkey_pem;         // Empty when the key is not ours (issue --csr)
                              // or when key_from_pending is set.
  bool key_from_pending = false;  // Hard-link pending/privkey.pem instead.
  std::string cert_pem;       // Leaf only.
  std::string chain_pem;      // Intermediates only.
  std::string fullchain_pem;  // Leaf followed by intermediates.
  std::string settings_json;  // Kept in the version directory; empty: none.
};

// LiveSet is what `live` points at.
struct LiveSet {
  int version = 0;
  std::string dir;        // Absolute path of the version directory.
  std::string cert_pem;
  std::string fullchain_pem;
  bool has_key = false;   // privkey.pem exists.
};

// VersionList is what versions of one certificate are kept.
struct VersionList {
  std::vector<int> versions;  // Ascending.
  int live = 0;               // The version `live` points at; 0: none.
};

// CertStore owns <root>. Contract: Commit either makes the new set live
// complete or leaves the old one live; it never modifies an existing version
// directory. Lock must be held around any Commit for the same name.
class CertStore {
 public:
  explicit CertStore(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }
  std::string CertDir(std::string_view name) const;

  // Lock takes the per-certificate lock (creating the directory, 0700).
  // With wait=false a held lock is an immediate error naming the file.
  Result<FileLock> Lock(std::string_view name, bool wait) const;

  // LoadSettings returns settings.json; ErrorCode::kNotFound if the
  // certificate is not managed. The store role writes the file, so it is
  // read as untrusted: not followed if it is a symlink, a regular file of at
  // most 64 KiB, JSON nested at most kMaxJsonDepth deep; errors name it.
  // (Root checks the values against its own record: manager/settings_record.h.)
  Result<nlohmann::json> LoadSettings(std::string_view name) const;
  Status SaveSettings(std::string_view name, const nlohmann::json& settings) const;

  // LoadLive reads the live set; ErrorCode::kNotFound if none yet. The
  // version directory and its files are not followed if they are symlinks,
  // and must be regular files of at most 1 MiB.
  Result<LiveSet> LoadLive(std::string_view name) const;

  // Versions lists the kept version directories and which one is live.
  // Fails if the directory cannot be listed or `live` is not a link to a
  // version number; kNotFound if the certificate has no directory.
  Result<VersionList> Versions(std::string_view name) const;

  // LoadVersion reads version `version` as LoadLive reads the live one
  // (LiveSet::version is `version`); kNotFound if it is not kept.
  Result<LiveSet> LoadVersion(std::string_view name, int version) const;

  // ReadVersionKey returns privkey.pem of version `version`, read without
  // following a symlink; kNotFound if that version has no key.
  Result<Secret> ReadVersionKey(std::string_view name, int version) const;

  // LoadVersionSettings returns the settings.json kept with version
  // `version`, read as LoadSettings reads the current one; kNotFound if
  // the version has no copy.
  Result<nlohmann::json> LoadVersionSettings(std::string_view name, int version) const;

  // SetLive points `live` at the kept version `version` with one rename(2)
  // (rollback). The caller holds Lock and has checked the version; this only
  // refuses a version whose directory is missing or lacks cert.pem or
  // fullchain.pem. Never removes a version.
  Status SetLive(std::string_view name, int version) const;

  // ReadLiveKey returns the live privkey.pem (for --reuse-key and
  // revoke --with-cert-key); kNotFound if there is none.
  Result<Secret> ReadLiveKey(std::string_view name) const;

  // Commit writes `files` into a new version directory (highest existing + 1),
  // fsyncs, switches `live` atomically, then prunes versions beyond
  // kKeepVersions (never the live one). Leftover temporary entries from an
  // interrupted earlier commit are removed first. Returns the new version.
  Result<int> Commit(std::string_view name, const CertFiles& files) const;

  // PendingDir is <name>/pending.
  std::string PendingDir(std::string_view name) const;

  // WritePendingKey stores the key for an order in progress, replacing any
  // earlier pending key (new file, O_EXCL, 0600, then rename).
  Status WritePendingKey(std::string_view name, const Secret& key_pem) const;

  // ReadPendingKey returns pending/privkey.pem; kNotFound if absent.
  Result<Secret> ReadPendingKey(std::string_view name) const;

  // WritePendingPublicKey stores pending/pubkey.der (SubjectPublicKeyInfo,
  // 0644): the key the certificate of the order in progress must carry,
  // written by the keys role, read by the store before it commits.
  Status WritePendingPublicKey(std::string_view name, std::string_view spki_der) const;

  // ReadPendingPublicKey returns pending/pubkey.der (at most 16 KiB);
  // kNotFound if absent.
  Result<std::string> ReadPendingPublicKey(std::string_view name) const;

  // SavePendingOrder / LoadPendingOrder keep pending/order.json (what order
  // is in progress); Load gives kNotFound if there is none, and reads it as
  // LoadSettings reads settings.json (callers check every field's type).
  Status SavePendingOrder(std::string_view name, const nlohmann::json& order) const;
  Result<nlohmann::json> LoadPendingOrder(std::string_view name) const;

  // NextDir is <name>/next.
  std::string NextDir(std::string_view name) const;

  // WriteNextKey stores a pre-generated next key and its public key PEM,
  // replacing any earlier one: each file is created O_EXCL under a
  // temporary name (key 0600, public key 0644) and renamed into place, the
  // key first, so pubkey.pem never names a key that is not stored.
  Status WriteNextKey(std::string_view name, const Secret& key_pem,
                      std::string_view public_pem) const;

  // ReadNextKey returns next/privkey.pem; kNotFound if absent.
  Result<Secret> ReadNextKey(std::string_view name) const;

  // ClearPending removes pending/ entirely. Missing is not an error.
  Status ClearPending(std::string_view name) const;

  // List returns the managed certificate names (those with settings.json),
  // sorted.
  Result<std::vector<std::string>> List() const;

 private:
  std::string root_;
};

}  // namespace bulkhead::store

#endif  // BULKHEAD_STORE_CERT_STORE_H_
