#include "manager/settings.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "acme/types.h"
#include "dns/query.h"
#include "dns/tlsa.h"
#include "store/cert_store.h"
#include "util/json.h"
#include "util/text.h"

namespace bulkhead::manager {

using nlohmann::json;

std::string_view ChallengeMethodName(ChallengeMethod m) {
  switch (m) {
    case ChallengeMethod::kWebroot:
      return "webroot";
    case ChallengeMethod::kChallengeDir:
      return "challenge-dir";
    case ChallengeMethod::kStandalone:
      return "standalone";
    case ChallengeMethod::kDnsDrop:
      return "dns-drop";
    case ChallengeMethod::kDnsRfc2136:
      return "dns-rfc2136";
    case ChallengeMethod::kDnsHook:
      return "dns-hook";
  }
  return "webroot";
}

Result<std::string> ParseTlsaEndpoint(std::string_view text) {
  size_t colon = text.rfind(':');
  int port = 0;
  if (colon == std::string_view::npos || colon + 1 == text.size() || text.size() > 300) {
    return ErrCode(ErrorCode::kUsage, "--tlsa \"{}\": expected HOST:PORT",
                   PrintableExcerpt(text, 300));
  }
  auto [end, ec] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
    return ErrCode(ErrorCode::kUsage, "--tlsa \"{}\": the port must be 1..65535",
                   PrintableExcerpt(text, 300));
  }
  std::string host(text.substr(0, colon));
  if (!host.empty() && host.back() == '.') {
    host.pop_back();
  }
  host = AsciiLower(host);
  if (host.empty() || !dns::TlsaOwner(host, port).ok()) {
    return ErrCode(ErrorCode::kUsage, "--tlsa \"{}\": \"{}\" is not a DNS name",
                   PrintableExcerpt(text, 300), PrintableExcerpt(host, 300));
  }
  return fmt::format("{}:{}", host, port);
}

bool IsDnsMethod(ChallengeMethod m) {
  return m == ChallengeMethod::kDnsDrop || m == ChallengeMethod::kDnsRfc2136 ||
         m == ChallengeMethod::kDnsHook;
}

namespace {

// CheckServer checks an ADDR[:PORT] setting, naming `what` in the error.
Status CheckServer(std::string_view what, const std::string& text) {
  auto server = dns::ParseServer(text);
  if (!server.ok()) {
    return server.error().Wrap(what);
  }
  return OkStatus();
}

constexpr int kMaxDnsSeconds = 86400;  // A day: longer is a mistake, not a slow zone.
constexpr size_t kMaxTlsaEndpoints = 64;
constexpr size_t kMaxShown = 200;  // Bytes of a bad value quoted in an error.

// FitsInt says whether the JSON integer `v` converts to int unchanged.
bool FitsInt(const json& v) {
  if (v.is_number_unsigned()) {
    return v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int>::max());
  }
  int64_t n = v.get<int64_t>();
  return n >= std::numeric_limits<int>::min() && n <= std::numeric_limits<int>::max();
}

}  // namespace

Status CertSettings::Validate() const {
  if (names.empty()) {
    return ErrCode(ErrorCode::kUsage, "no name to certify (-d NAME)");
  }
  for (const std::string& n : names) {
    BH_TRY(acme::ValidateName(n));
    // Only a TXT record proves control of a whole zone (RFC 8555 8.4).
    if (n.rfind("*.", 0) == 0 && !IsDnsMethod(method)) {
      return ErrCode(ErrorCode::kUsage,
                     "{}: wildcard names can only be validated with dns-01 (--dns-drop, "
                     "--dns-rfc2136 or --dns-hook)",
                     n);
    }
  }
  // The name is a directory under the store: no separators, no "..".
  if (!store::IsValidCertName(name)) {
    return ErrCode(ErrorCode::kUsage,
                   "--name \"{}\" must be 1..100 characters of letters, digits, '.', '_' and '-'",
                   PrintableExcerpt(name, 100));
  }
  if (challenge_target.empty()) {
    return ErrCode(ErrorCode::kUsage, "--{} needs a value", ChallengeMethodName(method));
  }
  switch (method) {
    case ChallengeMethod::kWebroot:
    case ChallengeMethod::kChallengeDir:
    case ChallengeMethod::kDnsDrop:
    case ChallengeMethod::kDnsHook:
      // Roles run elsewhere (and renew from cron): a relative path would
      // name a different file there.
      if (challenge_target.front() != '/') {
        return ErrCode(ErrorCode::kUsage, "--{} \"{}\" must be an absolute path",
                       ChallengeMethodName(method), PrintableExcerpt(challenge_target, kMaxShown));
      }
      break;
    case ChallengeMethod::kDnsRfc2136:
      BH_TRY(CheckServer("--dns-rfc2136", challenge_target));
      break;
    case ChallengeMethod::kStandalone:
      break;  // The challenge role parses ADDR:PORT when it binds.
  }

  const DnsSettings dns_defaults;
  if (!dns.tsig_key_file.empty() && method != ChallengeMethod::kDnsRfc2136) {
    return ErrCode(ErrorCode::kUsage, "--tsig-key goes with --dns-rfc2136");
  }
  if (!IsDnsMethod(method)) {
    if (dns.timeout_seconds != dns_defaults.timeout_seconds ||
        dns.wait_seconds != dns_defaults.wait_seconds) {
      return ErrCode(ErrorCode::kUsage, "--dns-timeout and --dns-wait go with a dns-01 method");
    }
    if (!dns.resolver.empty()) {
      return ErrCode(ErrorCode::kUsage, "the dns-01 resolver goes with a dns-01 method");
    }
  } else {
    if (dns.timeout_seconds < 1 || dns.timeout_seconds > kMaxDnsSeconds || dns.wait_seconds < 0 ||
        dns.wait_seconds > kMaxDnsSeconds) {
      return ErrCode(ErrorCode::kUsage,
                     "--dns-timeout must be 1..86400 seconds and --dns-wait 0..86400");
    }
    if (method == ChallengeMethod::kDnsRfc2136) {
      if (dns.tsig_key_file.empty()) {
        return ErrCode(ErrorCode::kUsage, "--dns-rfc2136 needs --tsig-key FILE");
      }
      if (dns.tsig_key_file.front() != '/') {
        return ErrCode(ErrorCode::kUsage, "--tsig-key \"{}\" must be an absolute path",
                       PrintableExcerpt(dns.tsig_key_file, kMaxShown));
      }
    }
    if (!dns.resolver.empty()) {
      BH_TRY(CheckServer("--dns-resolver", dns.resolver));
    }
  }

  const PreflightSettings preflight_off;
  if (IsDnsMethod(method)) {
    if (preflight.port != preflight_off.port) {
      return ErrCode(ErrorCode::kUsage, "--preflight-port goes with an http-01 method");
    }
    if (preflight != preflight_off) {
      return ErrCode(ErrorCode::kUsage, "the pre-flight check goes with an http-01 method");
    }
  } else {
    if (!preflight.enabled &&
        (preflight.port != preflight_off.port || !preflight.resolver.empty())) {
      return ErrCode(ErrorCode::kUsage,
                     "--dns-resolver and --preflight-port set up the pre-flight check, which "
                     "--no-preflight turns off");
    }
    if (preflight.port < 1 || preflight.port > 65535) {
      return ErrCode(ErrorCode::kUsage, "--preflight-port must be 1..65535");
    }
    if (!preflight.resolver.empty()) {
      BH_TRY(CheckServer("--dns-resolver (pre-flight check)", preflight.resolver));
    }
  }

  if (!dane.endpoints.empty() && !csr_file.empty()) {
    return ErrCode(ErrorCode::kUsage,
                   "--tlsa goes with a key bulkhead makes: with --csr the key is yours, so "
                   "publish its TLSA record yourself (bulkhead tlsa create)");
  }
  if (dane.endpoints.size() > kMaxTlsaEndpoints) {
    return ErrCode(ErrorCode::kUsage, "at most {} --tlsa endpoints", kMaxTlsaEndpoints);
  }
  for (const std::string& endpoint : dane.endpoints) {
    // Canonical, so that an endpoint names one TLSA owner and compares
    // equal to itself across runs.
    BH_ASSIGN(std::string canonical, ParseTlsaEndpoint(endpoint));
    if (canonical != endpoint) {
      return ErrCode(ErrorCode::kUsage, "--tlsa \"{}\": write it as \"{}\"",
                     PrintableExcerpt(endpoint, kMaxShown), canonical);
    }
  }
  if (!dane.resolver.empty()) {
    BH_TRY(CheckServer("--dns-resolver (TLSA lookups)", dane.resolver));
  }

  if (profile.size() > 64 ||
      profile.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos) {
    return ErrCode(ErrorCode::kUsage,
                   "--profile: a profile name is 1..64 letters, digits, '.', '_' or '-'");
  }
  // An out-of-range enumerator has no name, so it does not parse back.
  BH_TRY(crypto::ParseKeyType(crypto::KeyTypeName(key_type)));
  // RFC 8555 6.1: ACME runs over HTTPS only.
  if (server.rfind("https://", 0) != 0 || server.size() <= 8) {
    return ErrCode(ErrorCode::kUsage, "server \"{}\" must be an https:// directory URL (--server)",
                   PrintableExcerpt(server, kMaxShown));
  }
  return OkStatus();
}

json CertSettings::ToJson() const {
  json j = {
      {"version", 1},
      {"name", name},
      {"names", names},
      {"challenge", {{"method", ChallengeMethodName(method)}, {"target", challenge_target}}},
      {"key_type", crypto::KeyTypeName(key_type)},
      {"reuse_key", reuse_key},
      {"server", server},
      {"account", account},
  };
  if (IsDnsMethod(method)) {
    json& d = j["challenge"]["dns"];
    d = {{"timeout", dns.timeout_seconds}, {"wait", dns.wait_seconds}};
    if (!dns.tsig_key_file.empty()) {
      d["tsig_key"] = dns.tsig_key_file;
    }
    if (!dns.resolver.empty()) {
      d["resolver"] = dns.resolver;
    }
  }
  if (!IsDnsMethod(method)) {
    json& p = j["challenge"]["preflight"];
    p = {{"enabled", preflight.enabled}, {"port", preflight.port}};
    if (!preflight.resolver.empty()) {
      p["resolver"] = preflight.resolver;
    }
  }
  if (!csr_file.empty()) {
    j["csr_file"] = csr_file;
  }
  if (!preferred_chain.empty()) {
    j["preferred_chain"] = preferred_chain;
  }
  if (!ca_bundle.empty()) {
    j["ca_bundle"] = ca_bundle;
  }
  if (!profile.empty()) {
    j["profile"] = profile;
  }
  if (!dane.endpoints.empty()) {
    j["dane"] = {{"tlsa", dane.endpoints}};
    if (!dane.resolver.empty()) {
      j["dane"]["resolver"] = dane.resolver;
    }
  }
  if (!revoked_serial.empty()) {
    j["revoked"] = {{"serial", revoked_serial}, {"key_compromise", revoked_key_compromise}};
    if (revoked_reissue) {  // Absent when false: older files stay equal.
      j["revoked"]["reissue"] = true;
    }
  }
  return j;
}

Result<CertSettings> CertSettings::FromJson(const json& j, std::string_view source) {
  auto bad = [&](std::string_view what) {
    return Err("{}: {} is missing or malformed", source, what);
  };
  if (!j.is_object()) {
    return bad("the settings object");
  }
  auto str = [&](const char* key, std::string* out, bool required) -> Status {
    return ReadJsonString(j, key, out, required) ? OkStatus() : Status(bad(key));
  };
  CertSettings s;
  BH_TRY(str("name", &s.name, /*required=*/true));
  auto names = j.find("names");
  if (names == j.end() || !names->is_array() || names->empty()) {
    return bad("names");
  }
  for (const json& n : *names) {
    if (!n.is_string()) {
      return bad("names");
    }
    s.names.push_back(n.get<std::string>());
  }
  auto ch = j.find("challenge");
  if (ch == j.end() || !ch->is_object()) {
    return bad("challenge");
  }
  auto method = ch->find("method");
  auto target = ch->find("target");
  if (method == ch->end() || !method->is_string() || target == ch->end() || !target->is_string()) {
    return bad("challenge");
  }
  std::string m = method->get<std::string>();
  if (m == "webroot") {
    s.method = ChallengeMethod::kWebroot;
  } else if (m == "challenge-dir") {
    s.method = ChallengeMethod::kChallengeDir;
  } else if (m == "standalone") {
    s.method = ChallengeMethod::kStandalone;
  } else if (m == "dns-drop") {
    s.method = ChallengeMethod::kDnsDrop;
  } else if (m == "dns-rfc2136") {
    s.method = ChallengeMethod::kDnsRfc2136;
  } else if (m == "dns-hook") {
    s.method = ChallengeMethod::kDnsHook;
  } else {
    return bad("challenge.method");
  }
  s.challenge_target = target->get<std::string>();
  if (IsDnsMethod(s.method)) {
    auto d = ch->find("dns");
    if (d == ch->end() || !d->is_object()) {
      return bad("challenge.dns");
    }
    // Any int here; Validate holds the ranges.
    auto num = [&](const char* key, int* out) -> Status {
      int64_t v = 0;
      if (!ReadJsonInt(*d, key, &v, std::numeric_limits<int>::min(),
                       std::numeric_limits<int>::max())) {
        return bad(fmt::format("challenge.dns.{}", key));
      }
      *out = static_cast<int>(v);
      return OkStatus();
    };
    BH_TRY(num("timeout", &s.dns.timeout_seconds));
    BH_TRY(num("wait", &s.dns.wait_seconds));
    for (auto [key, out] : {std::pair{"tsig_key", &s.dns.tsig_key_file},
                            std::pair{"resolver", &s.dns.resolver}}) {
      if (!ReadJsonString(*d, key, out, /*required=*/false)) {
        return bad(fmt::format("challenge.dns.{}", key));
      }
    }
  }
  auto pf = ch->find("preflight");
  if (!IsDnsMethod(s.method) && pf != ch->end()) {
    if (!pf->is_object()) {
      return bad("challenge.preflight");
    }
    auto enabled = pf->find("enabled");
    auto port = pf->find("port");
    auto resolver = pf->find("resolver");
    if (enabled == pf->end() || !enabled->is_boolean() || port == pf->end() ||
        !port->is_number_integer() || !FitsInt(*port) ||
        (resolver != pf->end() && !resolver->is_string())) {
      return bad("challenge.preflight");
    }
    s.preflight.enabled = enabled->get<bool>();
    s.preflight.port = port->get<int>();
    if (resolver != pf->end()) {
      s.preflight.resolver = resolver->get<std::string>();
    }
  }
  std::string key_type;
  BH_TRY(str("key_type", &key_type, /*required=*/true));
  auto kt = crypto::ParseKeyType(key_type);
  if (!kt.ok()) {
    return kt.error().Wrap(source);
  }
  s.key_type = *kt;
  s.reuse_key = JsonFlag(j, "reuse_key");
  BH_TRY(str("csr_file", &s.csr_file, /*required=*/false));
  BH_TRY(str("preferred_chain", &s.preferred_chain, /*required=*/false));
  BH_TRY(str("server", &s.server, /*required=*/true));
  BH_TRY(str("ca_bundle", &s.ca_bundle, /*required=*/false));
  BH_TRY(str("account", &s.account, /*required=*/false));
  BH_TRY(str("profile", &s.profile, /*required=*/false));
  auto dane = j.find("dane");
  if (dane != j.end()) {
    auto tlsa = dane->is_object() ? dane->find("tlsa") : dane->end();
    if (tlsa == dane->end() || !tlsa->is_array() || tlsa->empty()) {
      return bad("dane.tlsa");
    }
    for (const json& e : *tlsa) {
      if (!e.is_string()) {
        return bad("dane.tlsa");
      }
      s.dane.endpoints.push_back(e.get<std::string>());
    }
    auto resolver = dane->find("resolver");
    if (resolver != dane->end()) {
      if (!resolver->is_string()) {
        return bad("dane.resolver");
      }
      s.dane.resolver = resolver->get<std::string>();
    }
  }
  auto revoked = j.find("revoked");
  if (revoked != j.end() && revoked->is_object()) {
    auto serial = revoked->find("serial");
    if (serial != revoked->end() && serial->is_string()) {
      s.revoked_serial = serial->get<std::string>();
    }
    s.revoked_key_compromise = JsonFlag(*revoked, "key_compromise");
    s.revoked_reissue = JsonFlag(*revoked, "reissue");
  }
  // The same rules as for settings from the command line: a hand-edited
  // or hostile file gets no further than `issue` would have.
  if (Status valid = s.Validate(); !valid.ok()) {
    return valid.error().Wrap(source);
  }
  return s;
}

}  // namespace bulkhead::manager
