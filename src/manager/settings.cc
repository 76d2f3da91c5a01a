#include "manager/settings.h"

#include <algorithm>
#include <charconv>

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
    return ErrCode(ErrorCode::kUsage, "--tlsa \"{}\": expected HOST:PORT", text.substr(0, 300));
  }
  auto [end, ec] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
    return ErrCode(ErrorCode::kUsage, "--tlsa \"{}\": the port must be 1..65535", text);
  }
  std::string host(text.substr(0, colon));
  if (!host.empty() && host.back() == '.') {
    host.pop_back();
  }
  host = AsciiLower(host);
  if (host.empty() || !dns::TlsaOwner(host, port).ok()) {
    return ErrCode(ErrorCode::kUsage, "--tlsa \"{}\": \"{}\" is not a DNS name", text, host);
  }
  return fmt::format("{}:{}", host, port);
}

bool IsDnsMethod(ChallengeMethod m) {
  return m == ChallengeMethod::kDnsDrop || m == ChallengeMethod::kDnsRfc2136 ||
         m == ChallengeMethod::kDnsHook;
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
  if (!store::IsValidCertName(s.name)) {
    return bad("name");
  }
  auto names = j.find("names");
  if (names == j.end() || !names->is_array() || names->empty()) {
    return bad("names");
  }
  for (const json& n : *names) {
    if (!n.is_string() || !acme::ValidateName(n.get<std::string>()).ok()) {
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
    auto num = [&](const char* key, int max, int* out) -> Status {
      int64_t v = 0;
      if (!ReadJsonInt(*d, key, &v, /*min=*/0, max)) {
        return bad(fmt::format("challenge.dns.{}", key));
      }
      *out = static_cast<int>(v);
      return OkStatus();
    };
    BH_TRY(num("timeout", 86400, &s.dns.timeout_seconds));
    BH_TRY(num("wait", 86400, &s.dns.wait_seconds));
    for (auto [key, out] : {std::pair{"tsig_key", &s.dns.tsig_key_file},
                            std::pair{"resolver", &s.dns.resolver}}) {
      if (!ReadJsonString(*d, key, out, /*required=*/false)) {
        return bad(fmt::format("challenge.dns.{}", key));
      }
    }
    if (s.method == ChallengeMethod::kDnsRfc2136 && s.dns.tsig_key_file.empty()) {
      return bad("challenge.dns.tsig_key");
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
        !port->is_number_integer() || port->get<int64_t>() < 1 || port->get<int64_t>() > 65535 ||
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
    return bad("key_type");
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
    if (tlsa == dane->end() || !tlsa->is_array() || tlsa->empty() || tlsa->size() > 64) {
      return bad("dane.tlsa");
    }
    for (const json& e : *tlsa) {
      auto endpoint = e.is_string() ? ParseTlsaEndpoint(e.get<std::string>())
                                    : Result<std::string>(Err("not a string"));
      if (!endpoint.ok()) {
        return bad("dane.tlsa");
      }
      s.dane.endpoints.push_back(std::move(endpoint).value());
    }
    auto resolver = dane->find("resolver");
    if (resolver != dane->end()) {
      if (!resolver->is_string() || !dns::ParseServer(resolver->get<std::string>()).ok()) {
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
  }
  return s;
}

}  // namespace bulkhead::manager
