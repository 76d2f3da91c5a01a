// CertSettings: what `issue` was asked for a certificate, stored with it so
// that `renew` repeats it without flags.
#ifndef BULKHEAD_MANAGER_SETTINGS_H_
#define BULKHEAD_MANAGER_SETTINGS_H_

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "crypto/key.h"
#include "util/result.h"

namespace bulkhead::manager {

// ChallengeMethod is how challenges are answered: http-01 by a token file
// or our own listener, dns-01 by a drop file, an RFC 2136 update or a hook.
enum class ChallengeMethod { kWebroot, kChallengeDir, kStandalone, kDnsDrop, kDnsRfc2136, kDnsHook };

// IsDnsMethod reports whether `m` answers dns-01.
bool IsDnsMethod(ChallengeMethod m);

// DnsSettings are the dns-01 options (see challenge/dns01.h).
struct DnsSettings {
  std::string tsig_key_file;  // kDnsRfc2136: the TSIG key file.
  std::string resolver;       // ADDR:PORT asked instead of discovery, or "".
  int timeout_seconds = 300;  // Bound on the propagation check.
  int wait_seconds = 0;       // > 0: a fixed wait instead of the check.
  bool operator==(const DnsSettings&) const = default;
};

// PreflightSettings are the http-01 pre-flight self-check's (see
// challenge/preflight.h): fetch each token the way the CA will before
// answering any challenge.
struct PreflightSettings {
  // Settings files from before the check existed have no "preflight" and
  // keep renewing without it; `issue` turns it on unless --no-preflight.
  bool enabled = false;
  int port = 80;         // Where the CA validates (--preflight-port).
  std::string resolver;  // ADDR:PORT names are resolved with, or "" (system).
  bool operator==(const PreflightSettings&) const = default;
};

// DaneSettings are the TLSA records that describe this certificate's key
// (DANE, RFC 7671). With any, a key change is made DANE-safe: the next key
// is generated ahead of time and used only once its record has been
// published long enough (manager/dane.h).
struct DaneSettings {
  // Each "host:port" (host canonical, without the trailing dot): the record
  // _port._tcp.host carries this certificate's 3 1 1 record.
  std::vector<std::string> endpoints;
  std::string resolver;  // ADDR:PORT asked for the records, or "" (the
                         // zone's authoritative servers).
  bool operator==(const DaneSettings&) const = default;
};

struct CertSettings {
  std::string name;
  std::vector<std::string> names;
  ChallengeMethod method = ChallengeMethod::kWebroot;
  std::string challenge_target;  // Directory, or ADDR:PORT for standalone and
                                 // RFC 2136, or the hook program.
  DnsSettings dns;               // Only for the dns-01 methods.
  PreflightSettings preflight;   // Only for the http-01 methods.
  DaneSettings dane;             // Empty endpoints: no TLSA records.
  crypto::KeyType key_type = crypto::KeyType::kEc256;
  bool reuse_key = false;
  std::string csr_file;
  std::string preferred_chain;
  std::string server;     // ACME directory URL.
  std::string ca_bundle;  // PEM file trusted for the CA, or "".
  std::string account = "default";
  // Set by `revoke`. A revoked live certificate is not renewed unless
  // `revoke --reissue` set revoked_reissue (or `renew --force`); its
  // replacement gets a fresh key when the reason was keyCompromise.
  std::string revoked_serial;
  bool revoked_key_compromise = false;
  bool revoked_reissue = false;
  // ACME profile (directory meta "profiles") sent in newOrder; "" = the
  // CA's default.
  std::string profile;

  // RunOptions are this run's choices, never stored in settings.json.
  struct RunOptions {
    std::string replaces;       // ARI certID of the certificate this renews.
    bool ari_exempt = false;    // Renewing inside the CA's ARI window.
    bool ignore_ledger = false;  // --ignore-ledger.
    bool quiet = false;          // renew --cron: what needs no human is logged at info.
    bool skip_preflight = false;  // renew --no-preflight: this run only.
    // Re-issuing for fewer names than the stored certificate has: `issue
    // --force`, or a configuration file whose table says so.
    bool allow_dropped_names = false;
    // A dry run (manager/dry_run.h): the store is scratch, and root's
    // record of the settings is left as it is.
    bool dry_run = false;
  };
  RunOptions run;

  // Validate checks every rule that makes settings usable, whatever their
  // source (the command line, settings.json, root's record): valid names,
  // wildcards only with dns-01, each method's own options only with it and
  // in range, --tlsa only with a key bulkhead makes, a profile name, a key
  // type, an https:// server. Fails with ErrorCode::kUsage naming the first
  // rule broken; the run options are not checked.
  Status Validate() const;

  nlohmann::json ToJson() const;
  // FromJson reads what ToJson wrote, checking the type of every member,
  // then Validate()s it. Fails naming `source` (the file) and the member or
  // rule; a broken rule keeps Validate's ErrorCode::kUsage.
  static Result<CertSettings> FromJson(const nlohmann::json& j, std::string_view source);
};

std::string_view ChallengeMethodName(ChallengeMethod m);

// ParseTlsaEndpoint checks "HOST:PORT" as given to `issue --tlsa` (HOST a
// DNS name, PORT 1..65535) and returns it canonical: host lower-case
// without a trailing dot. Fails (kUsage) naming the input.
Result<std::string> ParseTlsaEndpoint(std::string_view text);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_SETTINGS_H_
