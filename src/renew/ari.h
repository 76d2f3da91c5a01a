// ACME Renewal Information (RFC 9773): the CA's suggested renewal window,
// the certificate identifier it is asked by, and the choice of one renewal
// time inside the window that bulkhead keeps with the certificate
// (<certs>/<name>/ari.json) so that `renew` and `plan` decide offline.
#ifndef BULKHEAD_RENEW_ARI_H_
#define BULKHEAD_RENEW_ARI_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "crypto/x509.h"
#include "renew/policy.h"
#include "util/result.h"

namespace bulkhead::renew {

// CertId returns the ARI certificate identifier: base64url(AKI key
// identifier) "." base64url(DER-encoded serial number content octets, with
// the leading zero a positive serial needs when its top bit is set). Fails
// if the certificate has no AKI key identifier or no serial.
Result<std::string> CertId(const crypto::CertInfo& cert);

// RenewalWindow is a parsed suggestedWindow.
struct RenewalWindow {
  int64_t start = 0;
  int64_t end = 0;
  std::string explanation_url;
};

// ParseRfc3339 parses "2025-01-02T03:04:05Z" (fractional seconds and a
// numeric offset allowed, as RFC 3339 says) into Unix seconds.
Result<int64_t> ParseRfc3339(std::string_view text);

// ParseRenewalInfo parses a renewalInfo body strictly: a JSON object with a
// "suggestedWindow" object whose "start" and "end" are RFC 3339 times with
// end after start, and an optional string "explanationURL". Anything else
// is an error naming what was wrong.
Result<RenewalWindow> ParseRenewalInfo(std::string_view body);

// Retry-After handling: clamped to [1 minute, 1 day]; a missing header means
// kDefaultPollSeconds; after an error, kErrorRetrySeconds.
inline constexpr int64_t kMinPollSeconds = 60;
inline constexpr int64_t kMaxPollSeconds = 86400;
inline constexpr int64_t kDefaultPollSeconds = 6 * 3600;
inline constexpr int64_t kErrorRetrySeconds = 6 * 3600;
int64_t ClampRetryAfter(long retry_after_seconds);

// AriState is what ari.json holds for the live certificate.
struct AriState {
  std::string cert_id;       // Which certificate this is about.
  bool supported = false;    // The CA answered with a window.
  int64_t window_start = 0;
  int64_t window_end = 0;
  int64_t renew_at = 0;      // Chosen once per window.
  int64_t next_check = 0;    // Do not ask the CA again before this.
  int64_t checked_at = 0;
  std::string explanation_url;
  std::string last_error;    // The last failed check, or "".

  nlohmann::json ToJson() const;
  // FromJson validates every member; `source` names the file in errors.
  static Result<AriState> FromJson(const nlohmann::json& j, std::string_view source);
};

// UniformTime returns a uniformly random time in [start, end).
using RandomTime = std::function<int64_t(int64_t start, int64_t end)>;
int64_t UniformTime(int64_t start, int64_t end);

// ApplyWindow returns `old` updated with a fresh answer for `cert_id` at
// `now`: the renewal time is kept while the window is unchanged; a new (or
// first) window gets a new random time inside it, or `now` if its start has
// passed; a window that moved earlier than before (a revocation, say) makes
// the certificate due at once.
AriState ApplyWindow(const AriState& old, const std::string& cert_id, const RenewalWindow& w,
                     int64_t retry_after, int64_t now, const RandomTime& pick = UniformTime);

// ApplyError returns `old` after a failed check: the window (if any) stays,
// the next check is kErrorRetrySeconds away.
AriState ApplyError(const AriState& old, const std::string& cert_id, std::string_view error,
                    int64_t now);

// ApplyUnsupported returns the state for a CA without renewalInfo: the
// lifetime rule applies; ask again after a day in case the CA adds it.
AriState ApplyUnsupported(const std::string& cert_id, int64_t now);

// NeedsCheck reports whether the CA should be asked about `cert_id` now.
bool NeedsCheck(const AriState* state, const std::string& cert_id, int64_t now);

// DecideWithAri is Decide with the CA's window: when `state` holds a window
// for this certificate, it is due at state->renew_at (reason names the
// window); otherwise Decide's lifetime rule. `force` and `days` >= 0 (an
// explicit operator choice) take precedence over the window.
RenewalDecision DecideWithAri(const crypto::CertInfo& leaf, const AriState* state, int64_t now,
                              int days, bool force);

// InsideWindow reports whether `now` is inside the stored window for
// `cert_id`: such a renewal is exempt from the CA's rate limits.
bool InsideWindow(const AriState* state, const std::string& cert_id, int64_t now);

}  // namespace bulkhead::renew

#endif  // BULKHEAD_RENEW_ARI_H_
