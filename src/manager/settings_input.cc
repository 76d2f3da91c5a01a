#include "manager/settings_input.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "acme/types.h"
#include "dns/idn.h"
#include "dns/query.h"
#include "store/cert_store.h"

namespace bulkhead::manager {

Result<CertSettings> BuildCertSettings(const SettingsInput& in) {
  CertSettings s;
  for (const std::string& raw : in.names) {
    // An IDN goes to the CA and the DNS as its A-labels (punycode).
    BH_ASSIGN(std::string ascii, dns::ToAsciiName(raw));
    std::string n = acme::IdentifierFor(ascii).value;
    if (std::find(s.names.begin(), s.names.end(), n) == s.names.end()) {
      s.names.push_back(n);
    }
  }
  if (s.names.empty()) {
    return ErrCode(ErrorCode::kUsage, "at least one name to certify is needed");
  }
  int methods = !in.webroot.empty() + !in.challenge_dir.empty() + !in.standalone.empty() +
                !in.dns_drop.empty() + !in.dns_rfc2136.empty() + !in.dns_hook.empty();
  if (methods != 1) {
    return ErrCode(ErrorCode::kUsage,
                   "give exactly one of --webroot DIR, --challenge-dir DIR, --standalone "
                   "ADDR:PORT, --dns-drop DIR, --dns-rfc2136 SERVER[:PORT] or --dns-hook PROG");
  }
  if (!in.dns_drop.empty()) {
    s.method = ChallengeMethod::kDnsDrop;
    s.challenge_target = in.dns_drop;
  } else if (!in.dns_rfc2136.empty()) {
    BH_ASSIGN(dns::Server server, dns::ParseServer(in.dns_rfc2136));
    s.method = ChallengeMethod::kDnsRfc2136;
    s.challenge_target = server.ToString();
  } else if (!in.dns_hook.empty()) {
    s.method = ChallengeMethod::kDnsHook;
    s.challenge_target = in.dns_hook;
  } else if (!in.webroot.empty()) {
    s.method = ChallengeMethod::kWebroot;
    s.challenge_target = in.webroot;
  } else if (!in.challenge_dir.empty()) {
    s.method = ChallengeMethod::kChallengeDir;
    s.challenge_target = in.challenge_dir;
  } else {
    s.method = ChallengeMethod::kStandalone;
    s.challenge_target = in.standalone;
  }
  bool dns01 = IsDnsMethod(s.method);
  std::string resolver;
  if (!in.dns_resolver.empty()) {
    BH_ASSIGN(dns::Server parsed, dns::ParseServer(in.dns_resolver));
    resolver = parsed.ToString();
  }
  // Every option goes where it belongs even with the wrong method, so
  // that Validate can refuse the combination.
  s.dns.tsig_key_file = in.tsig_key;
  s.dns.timeout_seconds = in.dns_timeout;
  s.dns.wait_seconds = in.dns_wait;
  // The resolver serves dns-01's lookups, or else the http-01 pre-flight
  // check; with TLSA endpoints also the TLSA lookups. Without the
  // pre-flight check and without TLSA it would serve nothing, which
  // Validate refuses.
  if (dns01) {
    s.dns.resolver = resolver;
  } else if (!in.no_preflight || in.tlsa.empty()) {
    s.preflight.resolver = resolver;
  }
  // http-01: the pre-flight check fetches every token the way the CA will
  // before any challenge is answered.
  s.preflight.enabled = !dns01 && !in.no_preflight;
  if (in.preflight_port != 0) {
    s.preflight.port = in.preflight_port;
  }
  // Validate sees a pre-flight port other than the default where no check
  // runs; the default given explicitly is only visible here.
  if (in.preflight_port == PreflightSettings{}.port && !s.preflight.enabled) {
    return ErrCode(ErrorCode::kUsage,
                   "--preflight-port goes with the pre-flight check, which runs only for "
                   "http-01 without --no-preflight");
  }
  s.name = in.name.empty() ? store::DefaultCertName(s.names.front()) : in.name;
  BH_ASSIGN(s.key_type, crypto::ParseKeyType(in.key_type));
  s.reuse_key = in.reuse_key;
  s.csr_file = in.csr;
  s.preferred_chain = in.preferred_chain;
  s.profile = in.profile;
  for (const std::string& endpoint : in.tlsa) {
    BH_ASSIGN(std::string canonical, ParseTlsaEndpoint(endpoint));
    if (std::find(s.dane.endpoints.begin(), s.dane.endpoints.end(), canonical) ==
        s.dane.endpoints.end()) {
      s.dane.endpoints.push_back(std::move(canonical));
    }
  }
  if (!in.tlsa.empty()) {
    s.dane.resolver = resolver;
  }
  s.server = in.server;
  s.ca_bundle = in.ca_bundle;
  s.account = in.account;
  BH_TRY(s.Validate());
  return s;
}

std::vector<std::string> DroppedNames(const CertSettings& stored, const CertSettings& wanted) {
  std::vector<std::string> out;
  for (const std::string& n : stored.names) {
    if (std::find(wanted.names.begin(), wanted.names.end(), n) == wanted.names.end()) {
      out.push_back(n);
    }
  }
  return out;
}

std::vector<std::string> SettingsDifferences(const CertSettings& stored,
                                             const CertSettings& wanted) {
  std::vector<std::string> out;
  std::vector<std::string> added = DroppedNames(wanted, stored);
  std::vector<std::string> dropped = DroppedNames(stored, wanted);
  if (!added.empty()) {
    out.push_back(fmt::format("names added: {}", fmt::join(added, ", ")));
  }
  if (!dropped.empty()) {
    out.push_back(fmt::format("names dropped: {}", fmt::join(dropped, ", ")));
  }
  auto differs = [&out](std::string_view what, const auto& from, const auto& to) {
    if (from != to) {
      out.push_back(fmt::format("{}: {} -> {}", what, from, to));
    }
  };
  auto shown = [](const std::string& v) { return v.empty() ? std::string("(none)") : v; };
  differs("CA", stored.server, wanted.server);
  differs("CA bundle", shown(stored.ca_bundle), shown(wanted.ca_bundle));
  differs("account", stored.account, wanted.account);
  differs("challenge method", ChallengeMethodName(stored.method),
          ChallengeMethodName(wanted.method));
  differs("challenge target", stored.challenge_target, wanted.challenge_target);
  differs("key type", crypto::KeyTypeName(stored.key_type), crypto::KeyTypeName(wanted.key_type));
  differs("reuse key", stored.reuse_key, wanted.reuse_key);
  differs("CSR", shown(stored.csr_file), shown(wanted.csr_file));
  differs("preferred chain", shown(stored.preferred_chain), shown(wanted.preferred_chain));
  differs("profile", shown(stored.profile), shown(wanted.profile));
  if (stored.dane.endpoints != wanted.dane.endpoints) {
    out.push_back(fmt::format("TLSA endpoints: [{}] -> [{}]", fmt::join(stored.dane.endpoints, ", "),
                              fmt::join(wanted.dane.endpoints, ", ")));
  }
  if (stored.dane.resolver != wanted.dane.resolver) {
    out.push_back("TLSA resolver changed");
  }
  if (stored.dns != wanted.dns) {
    out.push_back("dns-01 options changed (TSIG key, resolver, timeout or wait)");
  }
  if (stored.preflight != wanted.preflight) {
    out.push_back("pre-flight check options changed");
  }
  return out;
}

}  // namespace bulkhead::manager
