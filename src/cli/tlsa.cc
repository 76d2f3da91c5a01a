// `bulkhead tlsa create|verify`: DANE TLSA records (RFC 6698, RFC 7671).
// create prints a record for a certificate file; verify compares what a
// server serves with what DNS publishes. verify's exit status: 0 when at
// least one published record matches, 1 when none does (or none is
// published), 2 on errors (DNS or connection failure, usage, and with
// --trust-anchor an answer that fails DNSSEC validation).
#include <algorithm>
#include <cctype>
#include <ctime>
#include <initializer_list>
#include <memory>
#include <optional>

#include "cli/cli.h"
#include "crypto/x509.h"
#include "dns/dnssec.h"
#include "dns/query.h"
#include "dns/tlsa.h"
#include "probe/tls_probe.h"
#include "roles/probe_role.h"
#include "util/fs.h"

namespace bulkhead::cli {
namespace {

constexpr size_t kMaxCertFileBytes = 1 << 20;

struct TlsaCreateFlags {
  std::string cert;
  std::string name;
  int port = 0;
  std::string usage = "3";
  std::string selector = "1";
  std::string mtype = "1";
  uint32_t ttl = dns::kDefaultTlsaTtl;
};

struct TlsaVerifyFlags {
  std::string host;
  int port = 0;
  std::string resolver;
  std::string starttls = "none";
  std::string trust_anchor;
  std::string connect;
  int timeout_seconds = 10;
};

// ParseField accepts a number or one of the RFC 7218 mnemonics in
// `names` (index = value), case-insensitively.
int ParseField(const std::string& text, std::initializer_list<std::string_view> names) {
  if (!text.empty() && text.size() <= 3 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::stoi(text);
  }
  int i = 0;
  for (std::string_view name : names) {
    if (text.size() == name.size() &&
        std::equal(text.begin(), text.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return i;
    }
    ++i;
  }
  return -1;
}

int RunTlsaCreate(const TlsaCreateFlags& flags) {
  dns::TlsaRecord record;
  Status params =
      dns::ParseTlsaParams(ParseField(flags.usage, {"PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"}),
                           ParseField(flags.selector, {"Cert", "SPKI"}),
                           ParseField(flags.mtype, {"Full", "SHA2-256", "SHA2-512"}), &record);
  if (!params.ok()) {
    return Fail(params.error());
  }
  auto owner = dns::TlsaOwner(flags.name, flags.port);
  if (!owner.ok()) {
    return Fail(owner.error());
  }
  auto pem = ReadFileCapped(flags.cert, kMaxCertFileBytes);
  if (!pem.ok()) {
    return Fail(pem.error());
  }
  auto chain = crypto::ParsePemChain(*pem);
  if (!chain.ok()) {
    return Fail(chain.error().Wrap(flags.cert));
  }
  Status computed = dns::ComputeTlsa(*chain, &record);
  if (!computed.ok()) {
    return Fail(computed.error().Wrap(flags.cert));
  }
  fmt::print("{}\n", dns::FormatTlsa(*owner, flags.ttl, record));
  return kExitOk;
}

// VerifyFail reports an error of `tlsa verify`, whose errors are all exit 2.
int VerifyFail(const Error& error) {
  Fail(error);
  return kExitUsage;
}

// ShortHex renders association data for a report line, abbreviating a
// full certificate.
std::string ShortHex(std::string_view bytes) {
  std::string hex;
  for (unsigned char c : bytes.substr(0, std::min<size_t>(bytes.size(), 32))) {
    hex += fmt::format("{:02x}", c);
  }
  if (bytes.size() > 32) {
    hex += fmt::format("...({} bytes)", bytes.size());
  }
  return hex;
}

// FetchTlsa returns the TLSA records at `owner` and prints the report's DNS
// line: validated from `anchor` if one is given, else as the resolver sent
// them. Returns an error if the look-up fails or the answer is bogus.
Result<std::vector<dns::Record>> FetchTlsa(const TlsaVerifyFlags& flags,
                                           const std::optional<dns::TrustAnchor>& anchor,
                                           const dns::Server& resolver, const std::string& owner) {
  dns::QueryOptions options;
  options.timeout = std::chrono::seconds(flags.timeout_seconds);
  if (anchor.has_value()) {
    auto validated = dns::ValidateAnswer(*anchor, dns::LookupVia(resolver, options), owner,
                                         dns::kTypeTlsa, std::time(nullptr));
    if (!validated.ok()) {
      // Bogus answers are errors, never "no records": an attacker who can
      // strip signatures must not be able to turn DANE off.
      return validated.error().Wrap(
          fmt::format("DNSSEC validation of TLSA {} (trust anchor {}, resolver {})", owner,
                      flags.trust_anchor, resolver.ToString()));
    }
    std::vector<dns::Record> tlsa = validated->rrset;
    std::string how = fmt::format("trust anchor {}: {} {} id {}", flags.trust_anchor,
                                  anchor->zone, validated->anchor_type,
                                  validated->anchor_key_tag);
    if (tlsa.empty()) {
      fmt::print("{}: no TLSA records ({}); nonexistence DNSSEC-validated ({})\n", owner,
                 validated->rcode == dns::kRcodeNxDomain ? "NXDOMAIN" : "NODATA", how);
    } else {
      fmt::print("{}: {} TLSA record(s) from {}; DNSSEC-validated ({})\n", owner, tlsa.size(),
                 resolver.ToString(), how);
    }
    return tlsa;
  }
  auto response = dns::Query(resolver, owner, dns::kTypeTlsa, options);
  if (!response.ok()) {
    return response.error().Wrap(fmt::format("looking up TLSA {}", owner));
  }
  if (response->rcode != dns::kRcodeNoError && response->rcode != dns::kRcodeNxDomain) {
    return Err("looking up TLSA {} at {}: response code {}", owner, resolver.ToString(),
               response->rcode);
  }
  std::vector<dns::Record> tlsa;
  for (const dns::Record& r : response->answer) {
    if (r.type == dns::kTypeTlsa) {
      tlsa.push_back(r);
    }
  }
  fmt::print(
      "{}: {} TLSA record(s) from {}; NOT DNSSEC-validated (no --trust-anchor; the "
      "resolver {} the AD bit)\n",
      owner, tlsa.size(), resolver.ToString(),
      response->authenticated_data ? "set" : "did not set");
  return tlsa;
}

int RunTlsaVerify(const TlsaVerifyFlags& flags, bool require_sandbox) {
  auto owner = dns::TlsaOwner(flags.host, flags.port);
  if (!owner.ok()) {
    return VerifyFail(owner.error());
  }
  auto starttls = probe::ParseStartTls(flags.starttls);
  if (!starttls.ok()) {
    return VerifyFail(starttls.error());
  }
  std::optional<dns::TrustAnchor> anchor;
  if (!flags.trust_anchor.empty()) {
    auto loaded = dns::LoadTrustAnchor(flags.trust_anchor);
    if (!loaded.ok()) {
      return VerifyFail(loaded.error());
    }
    anchor = std::move(*loaded);
  }
  dns::Server resolver;
  if (!flags.resolver.empty()) {
    auto parsed = dns::ParseServer(flags.resolver);
    if (!parsed.ok()) {
      return VerifyFail(parsed.error());
    }
    resolver = *parsed;
  } else {
    auto system = dns::SystemResolvers();
    if (!system.ok()) {
      return VerifyFail(system.error());
    }
    resolver = system->front();
  }

  // DNS first: without records there is nothing to compare.
  auto fetched = FetchTlsa(flags, anchor, resolver, *owner);
  if (!fetched.ok()) {
    return VerifyFail(fetched.error());
  }
  const std::vector<dns::Record>& tlsa = *fetched;
  if (tlsa.empty()) {
    fmt::print("result: no TLSA records published, nothing can match\n");
    return kExitFailure;
  }

  probe::ProbeRequest request;
  request.host = flags.host;
  if (!request.host.empty() && request.host.back() == '.') {
    request.host.pop_back();
  }
  request.port = static_cast<uint16_t>(flags.port);
  request.address = flags.connect;
  request.starttls = *starttls;
  request.timeout = std::chrono::seconds(flags.timeout_seconds);
  // What the server sends is parsed in the sandboxed probe role only.
  roles::ProbeJob job;
  job.requests = {request};
  job.every_address = request.address.empty();
  job.require_full_sandbox = require_sandbox;
  auto results = roles::ProbeInRole(std::move(job));
  if (!results.ok()) {
    return VerifyFail(results.error());
  }
  Result<probe::ProbeResult>& probed = results->front();
  if (!probed.ok()) {
    return VerifyFail(probed.error());
  }
  const std::vector<crypto::CertInfo>& chain = *probed->chain;
  fmt::print("served by {}:{}: {} certificate(s), leaf {}\n", probed->address, probed->port,
             chain.size(), chain.front().subject);

  int matched = 0;
  for (const dns::Record& r : tlsa) {
    const std::string& rd = r.rdata;
    if (rd.size() < 4) {
      fmt::print("  TLSA (malformed, {} bytes): unusable\n", rd.size());
      continue;
    }
    dns::TlsaRecord record;
    Status params =
        dns::ParseTlsaParams(static_cast<unsigned char>(rd[0]), static_cast<unsigned char>(rd[1]),
                             static_cast<unsigned char>(rd[2]), &record);
    std::string label = fmt::format(
        "TLSA {} {} {} {}", static_cast<unsigned char>(rd[0]), static_cast<unsigned char>(rd[1]),
        static_cast<unsigned char>(rd[2]), ShortHex(std::string_view(rd).substr(3)));
    if (!params.ok()) {
      // RFC 7671 section 4: records with unknown parameters are unusable.
      fmt::print("  {}: unusable ({})\n", label, params.error().message);
      continue;
    }
    record.data = rd.substr(3);
    dns::TlsaMatch m = probed->links ? dns::MatchTlsa(record, chain, *probed->links)
                                     : dns::MatchTlsa(record, chain);
    fmt::print("  {}: {} ({})\n", label, m.matched ? "match" : "mismatch", m.detail);
    matched += m.matched ? 1 : 0;
  }
  if (matched > 0) {
    fmt::print("result: match ({} of {} record(s))\n", matched, tlsa.size());
    return kExitOk;
  }
  fmt::print("result: mismatch (no record matches the served chain)\n");
  return kExitFailure;
}

}  // namespace

void AddTlsaCommand(CLI::App& app, Cli& cli) {
  CLI::App* tlsa = app.add_subcommand("tlsa", "DANE TLSA records: create and verify");
  tlsa->require_subcommand(1);

  auto create = std::make_shared<TlsaCreateFlags>();
  CLI::App* c = tlsa->add_subcommand(
      "create", "print the TLSA record for a certificate (same output as ldns-dane create)");
  c->add_option("--cert", create->cert,
                "PEM certificate or chain, leaf first; usages 0 and 2 describe the last "
                "certificate in the file")
      ->required();
  c->add_option("--name", create->name, "host name the service is reached by")->required();
  c->add_option("--port", create->port, "TCP port")->required()->check(CLI::Range(1, 65535));
  c->add_option("--usage", create->usage, "0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (default 3)");
  c->add_option("--selector", create->selector, "0 Cert, 1 SPKI (default 1)");
  c->add_option("--mtype", create->mtype, "0 Full, 1 SHA2-256, 2 SHA2-512 (default 1)");
  c->add_option("--ttl", create->ttl, "TTL printed (default 3600)");
  c->callback([&cli, create] { cli.run = [create] { return RunTlsaCreate(*create); }; });

  auto verify = std::make_shared<TlsaVerifyFlags>();
  CLI::App* v = tlsa->add_subcommand(
      "verify",
      "compare the served chain with the published TLSA records (exit 0 match, 1 mismatch, "
      "2 error)");
  v->add_option("host", verify->host, "host name")->required();
  v->add_option("port", verify->port, "TCP port")->required()->check(CLI::Range(1, 65535));
  v->add_option("--resolver", verify->resolver,
                "DNS server ADDR[:PORT] to ask (default: first nameserver of /etc/resolv.conf)");
  v->add_option("--starttls", verify->starttls, "smtp, imap, pop3, ldap, postgres or none");
  v->add_option("--trust-anchor", verify->trust_anchor,
                "file of DS/DNSKEY records (presentation format) to DNSSEC-validate the TLSA "
                "answer with; a bogus answer is exit 2");
  v->add_option("--connect", verify->connect,
                "IP address to connect to instead of resolving the host name");
  v->add_option("--timeout", verify->timeout_seconds, "seconds for each step (default 10)")
      ->check(CLI::Range(1, 300));
  v->callback([&cli, verify] { cli.run = [&cli, verify] { return RunTlsaVerify(*verify, cli.flags.require_sandbox); }; });
}

}  // namespace bulkhead::cli
