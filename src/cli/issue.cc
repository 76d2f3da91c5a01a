// bulkhead issue: obtain a certificate and remember how, for renew.
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "acme/types.h"
#include "cli/cli.h"
#include "dns/idn.h"
#include "dns/query.h"
#include "crypto/x509.h"
#include "manager/challenge_dir.h"
#include "manager/dry_run.h"
#include "manager/settings_input.h"
#include "manager/workflow.h"
#include "util/days.h"
#include "util/log.h"

namespace bulkhead::cli {
namespace {

struct IssueOptions {
  manager::SettingsInput in;  // Paths as typed; made absolute by BuildSettings.
  bool force = false;
  bool ignore_ledger = false;
  bool dry_run = false;
};

// PrintIssued prints where the files are and what the certificate says
// (with --csr, `csr_file`: no key file, as none is written).
void PrintIssued(const std::string& name, const manager::IssueOutcome& out,
                 const std::string& csr_file) {
  const crypto::CertInfo& leaf = out.leaf;
  std::string names;
  for (const std::string& n : leaf.names) {
    names += (names.empty() ? "" : ", ") + dns::DisplayName(n);
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

// BuildSettings turns the flags into CertSettings, validated
// (manager::BuildCertSettings) before any network traffic: relative paths
// are taken against the working directory, the CA from the global flags.
Result<manager::CertSettings> BuildSettings(const GlobalFlags& flags, const IssueOptions& o) {
  manager::SettingsInput in = o.in;
  for (std::string* path :
       {&in.webroot, &in.challenge_dir, &in.dns_drop, &in.dns_hook, &in.tsig_key, &in.csr}) {
    *path = AbsolutePath(*path);
  }
  BH_ASSIGN(manager::CaConfig ca, CaFromFlags(flags));
  in.server = ca.directory_url;
  in.ca_bundle = ca.ca_bundle;
  BH_ASSIGN(manager::CertSettings s, manager::BuildCertSettings(in));
  s.run.ignore_ledger = o.ignore_ledger;
  s.run.allow_dropped_names = o.force;
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
  if (o.dry_run) {
    return PrintDryRun(manager::DryRun(ctx, *settings, reporter), settings->name);
  }
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
  cmd->add_option("-d,--domain", o->in.names, "name to certify (repeat for more)")->required();
  cmd->add_option("--webroot", o->in.webroot, "write tokens to DIR/.well-known/acme-challenge/");
  cmd->add_option("--challenge-dir", o->in.challenge_dir, "write tokens straight into DIR");
  cmd->add_option("--standalone", o->in.standalone, "answer http-01 ourselves on ADDR:PORT");
  cmd->add_option("--dns-drop", o->in.dns_drop,
                  "dns-01: write one zone-file line per record into DIR");
  cmd->add_option("--dns-rfc2136", o->in.dns_rfc2136,
                  "dns-01: send TSIG-signed RFC 2136 updates to SERVER[:PORT]");
  cmd->add_option("--tsig-key", o->in.tsig_key,
                  "TSIG key file (key \"name\" { algorithm hmac-sha256; secret \"...\"; }; "
                  "or NAME:SECRET)");
  cmd->add_option("--dns-hook", o->in.dns_hook, "dns-01: run PROG add|del NAME VALUE");
  cmd->add_option("--dns-resolver", o->in.dns_resolver,
                  "dns-01: ask ADDR[:PORT] for CNAMEs and propagation instead of the zone's "
                  "authoritative servers; http-01: resolve names for the pre-flight check "
                  "there instead of through the system resolver");
  cmd->add_option("--dns-timeout", o->in.dns_timeout,
                  "dns-01: give up waiting for propagation after SECONDS (default 300)");
  cmd->add_option("--dns-wait", o->in.dns_wait,
                  "dns-01: wait SECONDS instead of checking propagation");
  cmd->add_option("--name", o->in.name, "certificate name (default: the first name)");
  cmd->add_option("--key-type", o->in.key_type, "ec256 (default), ec384, rsa2048, rsa3072, rsa4096");
  cmd->add_flag("--reuse-key", o->in.reuse_key, "keep the same key across renewals");
  cmd->add_option("--csr", o->in.csr, "use this CSR (PEM or DER); the key stays yours");
  cmd->add_option("--preferred-chain", o->in.preferred_chain,
                  "pick the chain whose top issuer has this CN");
  cmd->add_flag("--force", o->force, "issue even if a valid certificate exists");
  cmd->add_flag("--dry-run", o->dry_run,
                "order for real (from Let's Encrypt's staging CA when the CA is Let's Encrypt) "
                "into scratch storage, check the result and change nothing");
  cmd->add_option("--profile", o->in.profile,
                  "ask for this certificate profile (the CA's directory lists them)");
  cmd->add_flag("--ignore-ledger", o->ignore_ledger,
                "order even if the rate-limit ledger says the CA would refuse");
  cmd->add_flag("--no-preflight", o->in.no_preflight,
                "http-01: do not fetch the tokens the way the CA will before answering "
                "(recorded for renew)")
      ->envname("BULKHEAD_NO_PREFLIGHT");
  cmd->add_option("--preflight-port", o->in.preflight_port,
                  "http-01: port the CA validates on, for the pre-flight check (default 80)");
  cmd->add_option("--tlsa", o->in.tlsa,
                  "HOST:PORT whose TLSA (DANE) record names this key: key changes wait until "
                  "the next key's record is published (repeatable; recorded for renew)");
  cmd->callback([&cli, o] { cli.run = [&cli, o] { return RunIssue(cli.flags, *o); }; });
}

}  // namespace bulkhead::cli
