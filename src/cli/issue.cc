// bulkhead issue: obtain a certificate and remember how, for renew.
#include <algorithm>
#include <ctime>
#include <memory>

#include "acme/types.h"
#include "cli/cli.h"
#include "crypto/x509.h"
#include "manager/compartments.h"
#include "manager/manager.h"

namespace bulkhead::cli {
namespace {

struct IssueOptions {
  std::vector<std::string> names;
  std::string webroot;
  std::string challenge_dir;
  std::string standalone;
  std::string name;
  std::string key_type = "ec256";
  bool reuse_key = false;
  std::string csr;
  std::string preferred_chain;
  bool force = false;
};

// PrintIssued prints where the files are and what the certificate says.
void PrintIssued(const std::string& name, const manager::IssueOutcome& out) {
  const crypto::CertInfo& leaf = out.leaf;
  std::string names;
  for (const std::string& n : leaf.names) {
    names += (names.empty() ? "" : ", ") + n;
  }
  int64_t days = (leaf.not_after - static_cast<int64_t>(std::time(nullptr))) / 86400;
  fmt::print("issued {} (version {})\n", name, out.version);
  fmt::print("  certificate: {}/fullchain.pem\n", out.live_dir);
  fmt::print("  key:         {}/privkey.pem\n", out.live_dir);
  fmt::print("  subject:     {}\n", leaf.subject);
  fmt::print("  names:       {}\n", names);
  fmt::print("  issuer:      {}\n", leaf.issuer_cn.empty() ? leaf.issuer : leaf.issuer_cn);
  fmt::print("  expires:     {} ({} days)\n", crypto::FormatTime(leaf.not_after), days);
}

// BuildSettings turns the flags into CertSettings, validating everything a
// user can get wrong before any network traffic.
Result<manager::CertSettings> BuildSettings(const GlobalFlags& flags, const IssueOptions& o) {
  manager::CertSettings s;
  for (const std::string& raw : o.names) {
    BH_TRY(acme::ValidateName(raw));
    if (raw.rfind("*.", 0) == 0) {
      return ErrCode(ErrorCode::kUsage,
                     "{}: wildcard names can only be validated with dns-01, and this command "
                     "answers http-01",
                     raw);
    }
    std::string n = acme::IdentifierFor(raw).value;
    if (std::find(s.names.begin(), s.names.end(), n) == s.names.end()) {
      s.names.push_back(n);
    }
  }
  int methods = !o.webroot.empty() + !o.challenge_dir.empty() + !o.standalone.empty();
  if (methods != 1) {
    return ErrCode(ErrorCode::kUsage,
                   "give exactly one of --webroot DIR, --challenge-dir DIR or --standalone "
                   "ADDR:PORT");
  }
  if (!o.webroot.empty()) {
    s.method = manager::ChallengeMethod::kWebroot;
    s.challenge_target = AbsolutePath(o.webroot);
  } else if (!o.challenge_dir.empty()) {
    s.method = manager::ChallengeMethod::kChallengeDir;
    s.challenge_target = AbsolutePath(o.challenge_dir);
  } else {
    s.method = manager::ChallengeMethod::kStandalone;
    s.challenge_target = o.standalone;
  }
  s.name = o.name.empty() ? store::DefaultCertName(s.names.front()) : o.name;
  if (!store::IsValidCertName(s.name)) {
    return ErrCode(ErrorCode::kUsage,
                   "--name \"{}\" must be 1..100 characters of letters, digits, '.', '_' and '-'",
                   s.name.substr(0, 100));
  }
  BH_ASSIGN(s.key_type, crypto::ParseKeyType(o.key_type));
  s.reuse_key = o.reuse_key;
  s.csr_file = AbsolutePath(o.csr);
  s.preferred_chain = o.preferred_chain;
  BH_ASSIGN(manager::CaConfig ca, CaFromFlags(flags));
  s.server = ca.directory_url;
  s.ca_bundle = ca.ca_bundle;
  return s;
}

int RunIssue(const GlobalFlags& flags, const IssueOptions& o) {
  auto settings = BuildSettings(flags, o);
  if (!settings.ok()) {
    return Fail(settings.error());
  }
  store::CertStore certs = CertStoreFor(flags);
  if (!o.force) {
    auto state = manager::InspectCertificate(certs, settings->name,
                                             static_cast<int64_t>(std::time(nullptr)), -1, false);
    if (state.ok() && state->leaf && !state->decision.due && state->settings.names == settings->names) {
      fmt::print("certificate {} exists and is not due ({}); use --force to reissue now\n",
                 settings->name, state->decision.reason);
      return kExitOk;
    }
  }
  manager::CaConfig ca{settings->server, settings->ca_bundle,
                      flags.http_timeout_seconds * 1000L};
  auto out = manager::IssueInCompartments(StateDir(flags), ca, certs, *settings,
                                          /*fresh_key=*/false, flags.require_sandbox);
  if (!out.ok()) {
    return Fail(out.error());
  }
  PrintIssued(settings->name, *out);
  return kExitOk;
}

}  // namespace

void AddIssueCommand(CLI::App& app, Cli& cli) {
  auto o = std::make_shared<IssueOptions>();
  CLI::App* cmd = app.add_subcommand("issue", "obtain a certificate via http-01");
  cmd->add_option("-d,--domain", o->names, "name to certify (repeat for more)")->required();
  cmd->add_option("--webroot", o->webroot, "write tokens to DIR/.well-known/acme-challenge/");
  cmd->add_option("--challenge-dir", o->challenge_dir, "write tokens straight into DIR");
  cmd->add_option("--standalone", o->standalone, "answer http-01 ourselves on ADDR:PORT");
  cmd->add_option("--name", o->name, "certificate name (default: the first name)");
  cmd->add_option("--key-type", o->key_type, "ec256 (default), ec384, rsa2048, rsa3072, rsa4096");
  cmd->add_flag("--reuse-key", o->reuse_key, "keep the same key across renewals");
  cmd->add_option("--csr", o->csr, "use this CSR (PEM or DER); the key stays yours");
  cmd->add_option("--preferred-chain", o->preferred_chain,
                  "pick the chain whose top issuer has this CN");
  cmd->add_flag("--force", o->force, "issue even if a valid certificate exists");
  cmd->callback([&cli, o] { cli.run = [&cli, o] { return RunIssue(cli.flags, *o); }; });
}

}  // namespace bulkhead::cli
