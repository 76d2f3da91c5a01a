#include "manager/issue_plan.h"

#include <chrono>
#include <utility>

namespace bulkhead::manager {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// OrderSpecFor is what the net role orders for `s`: its identifiers,
// profile and replaces, and what its challenge role answers and how long
// that role's propagation check may take.
roles::OrderSpec OrderSpecFor(const CertSettings& s) {
  roles::OrderSpec o;
  o.name = s.name;
  o.names = s.names;
  o.server = s.server;
  o.key_type = s.key_type;
  o.profile = s.profile;
  o.replaces = s.run.replaces;
  o.preferred_chain = s.preferred_chain;
  o.challenge_type = IsDnsMethod(s.method) ? "dns-01" : "http-01";
  o.challenge_wait =
      seconds(s.dns.wait_seconds) + seconds(s.dns.timeout_seconds) + minutes(1);
  return o;
}

}  // namespace

acme::SignPolicy IssueSignPolicy(const CaConfig& ca, const std::string& account_url,
                                 const CertSettings& s) {
  acme::SignPolicy p;
  p.operation = acme::SignOperation::kIssue;
  p.origin = acme::UrlOrigin(ca.directory_url);
  p.account_url = account_url;
  p.names = s.names;
  p.profile = s.profile;
  p.replaces = s.run.replaces;
  return p;
}

roles::ChallengeAccess ChallengeAccessFor(const CertSettings& s, const std::string& token_dir) {
  roles::ChallengeAccess a;
  a.target = s.challenge_target;
  switch (s.method) {
    case ChallengeMethod::kWebroot:
    case ChallengeMethod::kChallengeDir:
      a.kind = roles::ChallengeAccess::Kind::kTokenDir;
      a.target = token_dir;
      break;
    case ChallengeMethod::kStandalone:
      a.kind = roles::ChallengeAccess::Kind::kStandalone;
      break;
    case ChallengeMethod::kDnsDrop:
      a.kind = roles::ChallengeAccess::Kind::kDnsDrop;
      break;
    case ChallengeMethod::kDnsRfc2136:
      a.kind = roles::ChallengeAccess::Kind::kDnsRfc2136;
      break;
    case ChallengeMethod::kDnsHook:
      a.kind = roles::ChallengeAccess::Kind::kDnsHook;
      break;
  }
  a.dns_resolver = s.dns.resolver;
  a.preflight = s.preflight.enabled;
  a.preflight_port = s.preflight.port;
  a.preflight_resolver = s.preflight.resolver;
  return a;
}

std::vector<uint16_t> ChallengeConnectPorts(const CertSettings& settings) {
  // The same policy as the challenge role's in PlanIssue.
  return roles::ChallengePolicy(ChallengeAccessFor(settings, settings.challenge_target))
      .connect_ports;
}

LedgerGateInputs LedgerGateFor(const IssueInputs& in) {
  const CertSettings& s = in.settings;
  return {ledger::Scope{in.ca.directory_url, in.account_url}, s.names, in.now,
          {s.run.ignore_ledger, s.run.ari_exempt}};
}

IssuePlan PlanIssue(IssueInputs in) {
  const CertSettings& settings = in.settings;
  IssuePlan plan;
  plan.name = settings.name;
  plan.run_as = in.run_as;
  plan.require_full_sandbox = in.require_full_sandbox;

  roles::NetJob& job = plan.net;
  job.ca = in.ca;
  job.account_url = in.account_url;
  job.order = OrderSpecFor(settings);
  job.now = in.now;
  job.require_full = in.require_full_sandbox;
  job.resume_url = in.resume_url;

  // 0. The rate-limit ledger, before anything reaches the CA. Only the
  // parent may write it; the net role reports what the order spent.
  LedgerGateInputs gate = LedgerGateFor(in);
  plan.ledger_scope = gate.scope;
  plan.ledger_names = gate.names;
  plan.ledger_options = gate.options;

  // 1. The keys role: CSR out, key left in pending/ for the store.
  plan.key_request.names = settings.names;
  plan.key_request.type = settings.key_type;
  plan.key_choice = in.resume_url.empty() ? in.key_choice : roles::KeyChoice::kPending;
  if (!settings.csr_file.empty()) {
    plan.key_request.csr_pem = std::move(in.csr_pem);
    job.key_source = ipc::KeySource::kNone;
  }

  // 2. The roles of the order itself.
  plan.saved_settings = settings;
  plan.saved_settings.revoked_serial.clear();
  plan.saved_settings.revoked_key_compromise = false;
  plan.saved_settings.revoked_reissue = false;
  plan.store = {settings.name, settings.names, plan.saved_settings.ToJson()};

  plan.challenge_settings = settings;
  // renew --no-preflight skips the check for this run; the recorded
  // settings keep it.
  if (settings.run.skip_preflight) {
    plan.challenge_settings.preflight.enabled = false;
  }
  if (!in.challenge_paths.target.empty()) {
    plan.challenge_settings.challenge_target = in.challenge_paths.target;
  }
  plan.token_dir =
      IsDnsMethod(settings.method) || settings.method == ChallengeMethod::kStandalone
          ? std::string()
          : in.challenge_paths.write_dir;
  plan.challenge_policy =
      roles::ChallengePolicy(ChallengeAccessFor(plan.challenge_settings, plan.token_dir));

  plan.signer.key_path = in.account_key_path;
  plan.signer.expected_thumbprint = in.thumbprint;
  plan.signer.policy = IssueSignPolicy(in.ca, job.account_url, settings);
  return plan;
}

}  // namespace bulkhead::manager
