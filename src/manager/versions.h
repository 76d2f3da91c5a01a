// The kept versions of a certificate, judged, and rollback: pointing `live`
// back at an earlier version after a bad deployment (a chain old clients
// reject, a certificate for the wrong names). The store keeps the versions
// (store/cert_store.h); this decides which of them may go live.
//
// Everything read here was written by the store role and is read as
// untrusted: no symlink is followed, every file has a size cap, and a
// version that fails a check is reported with the reason, never used.
#ifndef BULKHEAD_MANAGER_VERSIONS_H_
#define BULKHEAD_MANAGER_VERSIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/x509.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::manager {

// VersionCheck is one kept version and what is wrong with it.
struct VersionCheck {
  int version = 0;
  bool live = false;
  std::optional<crypto::CertInfo> leaf;  // cert.pem, when it parses.
  bool has_key = false;                  // privkey.pem is stored.
  // The names in the settings.json kept with the version; nullopt when the
  // version has none (stored before copies were kept) or it is unreadable.
  std::optional<std::vector<std::string>> settings_names;
  // Why this version may not go live (does not parse, expired, key does
  // not match, ...); empty when it may.
  std::vector<std::string> problems;

  bool usable() const { return problems.empty(); }
};

// CheckVersion reads version `version` of `name` and judges it at time
// `now`: cert.pem and fullchain.pem parse, fullchain.pem starts with
// cert.pem, the certificate is within its validity period, and a stored
// privkey.pem parses and holds the certificate's key (the key is read into
// wiped memory and freed at once). A version without a key (issued from a
// CSR) is usable. Never fails: what cannot be read is a problem.
VersionCheck CheckVersion(const store::CertStore& certs, std::string_view name, int version,
                          bool live, int64_t now);

// CheckVersions returns CheckVersion for every kept version, newest first.
// Fails if the versions cannot be listed (kNotFound: none kept).
Result<std::vector<VersionCheck>> CheckVersions(const store::CertStore& certs,
                                                std::string_view name, int64_t now);

// LiveDamage returns what is wrong with the files of version `version`
// that a server loads (CheckVersion's problems, leaving out the validity
// period: an expired certificate is renewal's business, not damage).
// Empty when they are whole.
std::vector<std::string> LiveDamage(const store::CertStore& certs, std::string_view name,
                                    int version, int64_t now);

// RollbackOutcome is what Rollback did.
struct RollbackOutcome {
  VersionCheck from;  // The version that was live.
  VersionCheck to;    // The version that is live now.
  // Earlier versions passed over because they may not go live, as
  // "version N: reason; reason".
  std::vector<std::string> passed_over;
};

// Rollback points `live` of `name` at version `to`, or, without it, at the
// newest version older than the live one that may go live. It takes the
// certificate's lock (failing at once if a run holds it), refuses a version
// that is live already, not kept, or has a problem (the error lists them),
// and changes nothing else: versions, settings.json and pending orders stay
// as they are, so the next renewal is planned from the rolled-back
// certificate with the current settings.
Result<RollbackOutcome> Rollback(const store::CertStore& certs, std::string_view name,
                                 std::optional<int> to, int64_t now);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_VERSIONS_H_
