#include "renew/ari.h"

#include <time.h>

#include <cctype>
#include <random>

#include "util/base64url.h"
#include "util/json.h"

namespace bulkhead::renew {
namespace {

using nlohmann::json;

// Digits parses exactly `n` decimal digits at `*pos`.
bool Digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (*pos + n > s.size()) {
    return false;
  }
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, std::string_view any_of) {
  if (*pos < s.size() && any_of.find(s[*pos]) != std::string_view::npos) {
    ++*pos;
    return true;
  }
  return false;
}

std::string FormatUtc(int64_t t) { return crypto::FormatTime(t); }

}  // namespace

Result<std::string> CertId(const crypto::CertInfo& cert) {
  if (cert.aki_keyid.empty()) {
    return Err("the certificate has no authority key identifier, which ARI needs");
  }
  if (cert.serial_der.empty()) {
    return Err("the certificate has no serial number");
  }
  std::string serial = cert.serial_der;
  if (static_cast<unsigned char>(serial[0]) & 0x80) {
    serial.insert(serial.begin(), '\0');
  }
  return Base64UrlEncode(cert.aki_keyid) + "." + Base64UrlEncode(serial);
}

Result<int64_t> ParseRfc3339(std::string_view text) {
  auto bad = [&] { return Err("\"{}\" is not an RFC 3339 time", std::string(text.substr(0, 40))); };
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!Digits(text, &pos, 4, &year) || !Expect(text, &pos, "-") ||
      !Digits(text, &pos, 2, &month) || !Expect(text, &pos, "-") ||
      !Digits(text, &pos, 2, &day) || !Expect(text, &pos, "Tt") ||
      !Digits(text, &pos, 2, &hour) || !Expect(text, &pos, ":") ||
      !Digits(text, &pos, 2, &minute) || !Expect(text, &pos, ":") ||
      !Digits(text, &pos, 2, &second)) {
    return bad();
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return bad();
  }
  if (Expect(text, &pos, ".")) {
    size_t digits = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      ++pos;
      ++digits;
    }
    if (digits == 0) {
      return bad();
    }
  }
  int64_t offset = 0;
  if (Expect(text, &pos, "Zz")) {
    offset = 0;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!Digits(text, &pos, 2, &oh) || !Expect(text, &pos, ":") || !Digits(text, &pos, 2, &om) ||
        oh > 23 || om > 59) {
      return bad();
    }
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return bad();
  }
  if (pos != text.size()) {
    return bad();
  }
  struct tm tm = {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second > 59 ? 59 : second;
  time_t t = ::timegm(&tm);
  if (tm.tm_mday != day) {
    return bad();  // 31 February and friends were normalised away.
  }
  return static_cast<int64_t>(t) - offset;
}

Result<RenewalWindow> ParseRenewalInfo(std::string_view body) {
  json j = ParseUntrustedJson(body);
  if (j.is_discarded() || !j.is_object()) {
    return Err("the renewal information from the CA is not a JSON object");
  }
  auto sw = j.find("suggestedWindow");
  if (sw == j.end() || !sw->is_object()) {
    return Err("the renewal information from the CA lacks the object \"suggestedWindow\"");
  }
  RenewalWindow w;
  for (auto [key, out] : {std::pair<const char*, int64_t*>{"start", &w.start}, {"end", &w.end}}) {
    auto it = sw->find(key);
    if (it == sw->end() || !it->is_string()) {
      return Err("the renewal information from the CA lacks suggestedWindow.{}", key);
    }
    auto t = ParseRfc3339(it->get<std::string>());
    if (!t.ok()) {
      return t.error().Wrap(fmt::format("suggestedWindow.{}", key));
    }
    *out = *t;
  }
  if (w.end <= w.start) {
    return Err("the renewal window from the CA ends ({}) before it starts ({})", FormatUtc(w.end),
               FormatUtc(w.start));
  }
  auto expl = j.find("explanationURL");
  if (expl != j.end()) {
    if (!expl->is_string() || expl->get<std::string>().size() > 2048) {
      return Err("the renewal information from the CA has a malformed \"explanationURL\"");
    }
    w.explanation_url = expl->get<std::string>();
  }
  return w;
}

int64_t ClampRetryAfter(long retry_after_seconds) {
  if (retry_after_seconds < 0) {
    return kDefaultPollSeconds;
  }
  return std::clamp<int64_t>(retry_after_seconds, kMinPollSeconds, kMaxPollSeconds);
}

json AriState::ToJson() const {
  json j = {{"version", 1},           {"cert_id", cert_id},       {"supported", supported},
            {"window_start", window_start}, {"window_end", window_end}, {"renew_at", renew_at},
            {"next_check", next_check}, {"checked_at", checked_at}};
  if (!explanation_url.empty()) {
    j["explanation_url"] = explanation_url;
  }
  if (!last_error.empty()) {
    j["last_error"] = last_error;
  }
  return j;
}

Result<AriState> AriState::FromJson(const json& j, std::string_view source) {
  auto bad = [&](std::string_view what) {
    return Err("{}: {} is missing or malformed", source, what);
  };
  if (!j.is_object()) {
    return bad("the object");
  }
  AriState s;
  auto str = [&](const char* key, std::string* out, bool required) -> Status {
    return ReadJsonString(j, key, out, required) ? OkStatus() : Status(bad(key));
  };
  auto num = [&](const char* key, int64_t* out) -> Status {
    return ReadJsonInt(j, key, out) ? OkStatus() : Status(bad(key));
  };
  BH_TRY(str("cert_id", &s.cert_id, /*required=*/true));
  auto sup = j.find("supported");
  if (sup == j.end() || !sup->is_boolean()) {
    return bad("supported");
  }
  s.supported = sup->get<bool>();
  BH_TRY(num("window_start", &s.window_start));
  BH_TRY(num("window_end", &s.window_end));
  BH_TRY(num("renew_at", &s.renew_at));
  BH_TRY(num("next_check", &s.next_check));
  BH_TRY(num("checked_at", &s.checked_at));
  BH_TRY(str("explanation_url", &s.explanation_url, /*required=*/false));
  BH_TRY(str("last_error", &s.last_error, /*required=*/false));
  if (s.supported && s.window_end <= s.window_start) {
    return bad("window");
  }
  return s;
}

int64_t UniformTime(int64_t start, int64_t end) {
  if (end <= start + 1) {
    return start;
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> dist(start, end - 1);
  return dist(rng);
}

AriState ApplyWindow(const AriState& old, const std::string& cert_id, const RenewalWindow& w,
                     int64_t retry_after, int64_t now, const RandomTime& pick) {
  AriState s;
  s.cert_id = cert_id;
  s.supported = true;
  s.window_start = w.start;
  s.window_end = w.end;
  s.explanation_url = w.explanation_url;
  s.checked_at = now;
  s.next_check = now + ClampRetryAfter(retry_after);
  bool same_cert = old.cert_id == cert_id && old.supported;
  if (same_cert && old.window_start == w.start && old.window_end == w.end) {
    s.renew_at = old.renew_at;  // Chosen once per window.
  } else if (same_cert && w.start < old.window_start) {
    s.renew_at = now;  // The CA pulled the window in: act now.
  } else if (w.start <= now) {
    s.renew_at = now;
  } else {
    s.renew_at = pick(w.start, w.end);
  }
  return s;
}

AriState ApplyError(const AriState& old, const std::string& cert_id, std::string_view error,
                    int64_t now) {
  AriState s = old.cert_id == cert_id ? old : AriState{};
  s.cert_id = cert_id;
  s.checked_at = now;
  s.next_check = now + kErrorRetrySeconds;
  s.last_error = std::string(error.substr(0, 500));
  return s;
}

AriState ApplyUnsupported(const std::string& cert_id, int64_t now) {
  AriState s;
  s.cert_id = cert_id;
  s.checked_at = now;
  s.next_check = now + kMaxPollSeconds;
  return s;
}

bool NeedsCheck(const AriState* state, const std::string& cert_id, int64_t now) {
  return state == nullptr || state->cert_id != cert_id || now >= state->next_check;
}

RenewalDecision DecideWithAri(const crypto::CertInfo& leaf, const AriState* state, int64_t now,
                              int days, bool force) {
  if (force || days >= 0 || state == nullptr || !state->supported) {
    return Decide(leaf.not_before, leaf.not_after, now, days, force);
  }
  auto id = CertId(leaf);
  // A window past expiry (a confused CA) must not outlive the certificate.
  if (!id.ok() || *id != state->cert_id || state->renew_at >= leaf.not_after ||
      now >= leaf.not_after) {
    return Decide(leaf.not_before, leaf.not_after, now, days, force);
  }
  RenewalDecision d;
  d.renew_at = state->renew_at;
  std::string window = fmt::format("the CA's renewal window {} .. {}", FormatUtc(state->window_start),
                                   FormatUtc(state->window_end));
  if (now >= state->renew_at) {
    d.due = true;
    d.reason = fmt::format("inside {} (chosen time {})", window, FormatUtc(state->renew_at));
  } else {
    d.reason = fmt::format("not due until {}, inside {}", FormatUtc(state->renew_at), window);
  }
  return d;
}

bool InsideWindow(const AriState* state, const std::string& cert_id, int64_t now) {
  return state != nullptr && state->supported && state->cert_id == cert_id &&
         now >= state->window_start && now < state->window_end;
}

}  // namespace bulkhead::renew
