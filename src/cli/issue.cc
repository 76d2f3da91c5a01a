// bulkhead issue: obtain a certificate and remember how, for renew.
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "acme/types.h"
#include "cli/cli.h"
#include "dns/query.h"
#include "crypto/x509.h"
#include "manager/challenge_dir.h"
#include "manager/workflow.h"
#include "util/days.h"
#include "util/log.h"

namespace bulkhead::cli {
namespace {

struct IssueOptions {
  std::vector<std::string> names;
  std::string webroot;
  std::string challenge_dir;
  std::string standalone;
  std::string dns_drop;
  std::string dns_rfc2136;
  std::string tsig_key;
  std::string dns_hook;
  std::string dns_resolver;
  int dns_timeout = 300;
  int dns_wait = 0;
  std::string name;
  std::string key_type = "ec256";
  bool reuse_key = false;
  std::string csr;
  std::string preferred_chain;
  bool force = false;
  std::string profile;
  bool ignore_ledger = false;
  bool no_preflight = false;
  int preflight_port = 0;  // 0: not given (80).
  std::vector<std::string> tlsa;  // HOST:PORT, repeatable.
};

// PrintIssued prints where the files are and what the certificate says
// (with --csr, `csr_file`: no key file, as none is written).
void PrintIssued(const std::string& name, const manager::IssueOutcome& out,
                 const std::string& csr_file) {
  const crypto::CertInfo& leaf = out.leaf;
  std::string names;
  for (const std::string& n : leaf.names) {
    names += (names.empty() ? "" : ", ") + n;
  }
  int64_t days = DaysLeft(leaf.not_after, static_cast<int64_t>(std::time(nullptr)));
  fmt::print("issued {} (version {})\n", name, out.version);
  fmt::print("  certificate: {}/fullchain.pem\n", out.live_dir);
  if (csr_file.empty()) {
    fmt::print("  key:         {}/privkey.pem\n", out.live_dir);
  } else {
    // --csr: the key is the CSR's, never stored here.
    fmt::print("  key:         yours (the key of {}; none is stored)\n", csr_file);
  }
  fmt::print("  subject:     {}\n", leaf.subject);
  fmt::print("  names:       {}\n", names);
  fmt::print("  issuer:      {}\n", leaf.issuer_cn.empty() ? leaf.issuer : leaf.issuer_cn);
  fmt::print("  expires:     {} ({} days)\n", crypto::FormatTime(leaf.not_after), days);
}

// BuildSettings turns the flags into CertSettings and validates them
// (CertSettings::Validate) before any network traffic. Only what is about
// the command line itself is checked here: one challenge method, and the
// syntax of the addresses it canonicalizes.
Result<manager::CertSettings> BuildSettings(const GlobalFlags& flags, const IssueOptions& o) {
  manager::CertSettings s;
  for (const std::string& raw : o.names) {
    std::string n = acme::IdentifierFor(raw).value;
    if (std::find(s.names.begin(), s.names.end(), n) == s.names.end()) {
      s.names.push_back(n);
    }
  }
  int methods = !o.webroot.empty() + !o.challenge_dir.empty() + !o.standalone.empty() +
                !o.dns_drop.empty() + !o.dns_rfc2136.empty() + !o.dns_hook.empty();
  if (methods != 1) {
    return ErrCode(ErrorCode::kUsage,
                   "give exactly one of --webroot DIR, --challenge-dir DIR, --standalone "
                   "ADDR:PORT, --dns-drop DIR, --dns-rfc2136 SERVER[:PORT] or --dns-hook PROG");
  }
  if (!o.dns_drop.empty()) {
    s.method = manager::ChallengeMethod::kDnsDrop;
    s.challenge_target = AbsolutePath(o.dns_drop);
  } else if (!o.dns_rfc2136.empty()) {
    BH_ASSIGN(dns::Server server, dns::ParseServer(o.dns_rfc2136));
    s.method = manager::ChallengeMethod::kDnsRfc2136;
    s.challenge_target = server.ToString();
  } else if (!o.dns_hook.empty()) {
    s.method = manager::ChallengeMethod::kDnsHook;
    s.challenge_target = AbsolutePath(o.dns_hook);
  } else if (!o.webroot.empty()) {
    s.method = manager::ChallengeMethod::kWebroot;
    s.challenge_target = AbsolutePath(o.webroot);
  } else if (!o.challenge_dir.empty()) {
    s.method = manager::ChallengeMethod::kChallengeDir;
    s.challenge_target = AbsolutePath(o.challenge_dir);
  } else {
    s.method = manager::ChallengeMethod::kStandalone;
    s.challenge_target = o.standalone;
  }
  bool dns01 = manager::IsDnsMethod(s.method);
  std::string resolver;
  if (!o.dns_resolver.empty()) {
    BH_ASSIGN(dns::Server parsed, dns::ParseServer(o.dns_resolver));
    resolver = parsed.ToString();
  }
  // Every option goes where it belongs even with the wrong method, so
  // that Validate can refuse the combination.
  s.dns.tsig_key_file = AbsolutePath(o.tsig_key);
  s.dns.timeout_seconds = o.dns_timeout;
  s.dns.wait_seconds = o.dns_wait;
  // --dns-resolver serves dns-01's lookups, or else the http-01 pre-flight
  // check; with --tlsa also the TLSA lookups. With --no-preflight and no
  // --tlsa it would serve nothing, which Validate refuses.
  if (dns01) {
    s.dns.resolver = resolver;
  } else if (!o.no_preflight || o.tlsa.empty()) {
    s.preflight.resolver = resolver;
  }
  // http-01: the pre-flight check fetches every token the way the CA will
  // before any challenge is answered.
  s.preflight.enabled = !dns01 && !o.no_preflight;
  if (o.preflight_port != 0) {
    s.preflight.port = o.preflight_port;
  }
  // Validate sees a --preflight-port other than the default where no check
  // runs; the default given explicitly is only visible here.
  if (o.preflight_port == manager::PreflightSettings{}.port && !s.preflight.enabled) {
    return ErrCode(ErrorCode::kUsage,
                   "--preflight-port goes with the pre-flight check, which runs only for "
                   "http-01 without --no-preflight");
  }
  s.name = o.name.empty() ? store::DefaultCertName(s.names.front()) : o.name;
  BH_ASSIGN(s.key_type, crypto::ParseKeyType(o.key_type));
  s.reuse_key = o.reuse_key;
  s.csr_file = AbsolutePath(o.csr);
  s.preferred_chain = o.preferred_chain;
  s.profile = o.profile;
  for (const std::string& endpoint : o.tlsa) {
    BH_ASSIGN(std::string canonical, manager::ParseTlsaEndpoint(endpoint));
    if (std::find(s.dane.endpoints.begin(), s.dane.endpoints.end(), canonical) ==
        s.dane.endpoints.end()) {
      s.dane.endpoints.push_back(std::move(canonical));
    }
  }
  if (!o.tlsa.empty()) {
    s.dane.resolver = resolver;
  }
  s.run.ignore_ledger = o.ignore_ledger;
  BH_ASSIGN(manager::CaConfig ca, CaFromFlags(flags));
  s.server = ca.directory_url;
  s.ca_bundle = ca.ca_bundle;
  BH_TRY(s.Validate());
  return s;
}

// IssueReporter prints the workflow's progress lines as they come.
class IssueReporter : public manager::Reporter {
 public:
  void Info(std::string_view, std::string_view line) override { fmt::print("{}\n", line); }
  void Warning(std::string_view name, std::string_view text) override {
    LogWarn("{}: {}", name, text);
  }
};

int RunIssue(const GlobalFlags& flags, const IssueOptions& o) {
  auto settings = BuildSettings(flags, o);
  if (!settings.ok()) {
    return Fail(settings.error());
  }
  // Before anything is locked, created or sent to the CA.
  if (Status target = manager::CheckChallengeTarget(*settings); !target.ok()) {
    return Fail(target.error());
  }
  auto run_as = RolesRunAs(flags);
  if (!run_as.ok()) {
    return Fail(run_as.error());
  }
  store::CertStore certs = CertStoreFor(flags);
  manager::RunContext ctx = RunContextFor(flags, certs, *run_as);
  IssueReporter reporter;
  auto done = manager::Issue(ctx, *settings, o.force, reporter);
  if (!done.ok()) {
    return Fail(done.error());
  }
  if (!done->issued) {
    fmt::print("certificate {} exists and is not due ({}); use --force to reissue now\n",
               settings->name, done->reason);
    return kExitOk;
  }
  PrintIssued(settings->name, done->outcome, settings->csr_file);
  return PrintTlsaRecords(*done);
}

}  // namespace

void AddIssueCommand(CLI::App& app, Cli& cli) {
  auto o = std::make_shared<IssueOptions>();
  CLI::App* cmd = app.add_subcommand("issue", "obtain a certificate via http-01 or dns-01");
  cmd->add_option("-d,--domain", o->names, "name to certify (repeat for more)")->required();
  cmd->add_option("--webroot", o->webroot, "write tokens to DIR/.well-known/acme-challenge/");
  cmd->add_option("--challenge-dir", o->challenge_dir, "write tokens straight into DIR");
  cmd->add_option("--standalone", o->standalone, "answer http-01 ourselves on ADDR:PORT");
  cmd->add_option("--dns-drop", o->dns_drop,
                  "dns-01: write one zone-file line per record into DIR");
  cmd->add_option("--dns-rfc2136", o->dns_rfc2136,
                  "dns-01: send TSIG-signed RFC 2136 updates to SERVER[:PORT]");
  cmd->add_option("--tsig-key", o->tsig_key,
                  "TSIG key file (key \"name\" { algorithm hmac-sha256; secret \"...\"; }; "
                  "or NAME:SECRET)");
  cmd->add_option("--dns-hook", o->dns_hook, "dns-01: run PROG add|del NAME VALUE");
  cmd->add_option("--dns-resolver", o->dns_resolver,
                  "dns-01: ask ADDR[:PORT] for CNAMEs and propagation instead of the zone's "
                  "authoritative servers; http-01: resolve names for the pre-flight check "
                  "there instead of through the system resolver");
  cmd->add_option("--dns-timeout", o->dns_timeout,
                  "dns-01: give up waiting for propagation after SECONDS (default 300)");
  cmd->add_option("--dns-wait", o->dns_wait,
                  "dns-01: wait SECONDS instead of checking propagation");
  cmd->add_option("--name", o->name, "certificate name (default: the first name)");
  cmd->add_option("--key-type", o->key_type, "ec256 (default), ec384, rsa2048, rsa3072, rsa4096");
  cmd->add_flag("--reuse-key", o->reuse_key, "keep the same key across renewals");
  cmd->add_option("--csr", o->csr, "use this CSR (PEM or DER); the key stays yours");
  cmd->add_option("--preferred-chain", o->preferred_chain,
                  "pick the chain whose top issuer has this CN");
  cmd->add_flag("--force", o->force, "issue even if a valid certificate exists");
  cmd->add_option("--profile", o->profile,
                  "ask for this certificate profile (the CA's directory lists them)");
  cmd->add_flag("--ignore-ledger", o->ignore_ledger,
                "order even if the rate-limit ledger says the CA would refuse");
  cmd->add_flag("--no-preflight", o->no_preflight,
                "http-01: do not fetch the tokens the way the CA will before answering "
                "(recorded for renew)")
      ->envname("BULKHEAD_NO_PREFLIGHT");
  cmd->add_option("--preflight-port", o->preflight_port,
                  "http-01: port the CA validates on, for the pre-flight check (default 80)");
  cmd->add_option("--tlsa", o->tlsa,
                  "HOST:PORT whose TLSA (DANE) record names this key: key changes wait until "
                  "the next key's record is published (repeatable; recorded for renew)");
  cmd->callback([&cli, o] { cli.run = [&cli, o] { return RunIssue(cli.flags, *o); }; });
}

}  // namespace bulkhead::cli
