#include "manager/issue_plan.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace bulkhead::manager {
namespace {

using Kind = ChallengeMethod;

constexpr const char* kDirectory = "https://127.0.0.1:14000/dir";
constexpr const char* kAccount = "https://127.0.0.1:14000/my-account/1";

// Inputs returns what IssueInCompartments would hand PlanIssue for `s`.
IssueInputs Inputs(const CertSettings& s, ChallengePaths paths = {}) {
  IssueInputs in;
  in.ca.directory_url = kDirectory;
  in.settings = s;
  in.account_url = kAccount;
  in.account_key_path = "/state/accounts/ca/default/account.key";
  in.thumbprint = "thumb";
  in.challenge_paths = std::move(paths);
  in.key_choice = roles::KeyChoice::kFresh;
  in.now = 1700000000;
  return in;
}

CertSettings Settings(ChallengeMethod method, std::string target) {
  CertSettings s;
  s.name = "a.example";
  s.names = {"a.example", "b.example"};
  s.method = method;
  s.challenge_target = std::move(target);
  s.server = kDirectory;
  return s;
}

bool Has(const std::vector<uint16_t>& ports, uint16_t port) {
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

bool Reads(const sandbox::Policy& p, const std::string& path) {
  return std::find(p.read_paths.begin(), p.read_paths.end(), path) != p.read_paths.end();
}

struct ChallengeCase {
  const char* what;
  ChallengeMethod method;
  std::string target;
  ChallengePaths paths;  // What PrepareChallengeDir resolved.
  std::string dns_resolver;
  // Expected:
  std::vector<std::string> write_dirs;
  std::vector<uint16_t> bind_ports;
  bool udp;
  std::vector<uint16_t> connect_ports;
  std::string token_dir;
  std::string challenge_type;
};

TEST(PlanIssueTest, ChallengeRolePolicyPerMethod) {
  const std::vector<ChallengeCase> cases = {
      {"webroot: only the acme-challenge directory", Kind::kWebroot, "/srv/www",
       {"/srv/www", "/srv/www/.well-known/acme-challenge"}, "",
       {"/srv/www/.well-known/acme-challenge"}, {}, false, {},
       "/srv/www/.well-known/acme-challenge", "http-01"},
      {"challenge directory, resolved", Kind::kChallengeDir, "/link/acme",
       {"/real/acme", "/real/acme"}, "", {"/real/acme"}, {}, false, {}, "/real/acme", "http-01"},
      {"standalone: binds its port, writes nothing", Kind::kStandalone, "0.0.0.0:8080", {}, "",
       {}, {8080}, false, {}, "", "http-01"},
      {"dns drop: the resolved drop directory, UDP, port 53", Kind::kDnsDrop, "/link/drop",
       {"/real/drop", "/real/drop"}, "", {"/real/drop"}, {}, true, {53}, "", "dns-01"},
      {"rfc2136: the server's and the resolver's port", Kind::kDnsRfc2136, "127.0.0.1:5300", {},
       "127.0.0.1:5353", {}, {}, true, {53, 5353, 5300}, "", "dns-01"},
      {"hook: DNS only", Kind::kDnsHook, "/usr/local/bin/hook", {}, "", {}, {}, true, {53}, "",
       "dns-01"},
  };
  for (const ChallengeCase& c : cases) {
    SCOPED_TRACE(c.what);
    CertSettings s = Settings(c.method, c.target);
    s.dns.resolver = c.dns_resolver;
    IssuePlan plan = PlanIssue(Inputs(s, c.paths));
    const sandbox::Policy& p = plan.challenge_policy;
    EXPECT_EQ(p.role, sandbox::Role::kChallenge);
    EXPECT_EQ(p.write_dirs, c.write_dirs);
    EXPECT_EQ(p.bind_ports, c.bind_ports);
    EXPECT_EQ(p.udp, c.udp);
    EXPECT_EQ(p.connect_ports, c.connect_ports);
    EXPECT_EQ(plan.token_dir, c.token_dir);
    EXPECT_EQ(plan.net.order.challenge_type, c.challenge_type);
    // The role builds its publisher from the resolved target.
    if (!c.paths.target.empty()) {
      EXPECT_EQ(plan.challenge_settings.challenge_target, c.paths.target);
    }
    // The same rules the doctor reports.
    EXPECT_EQ(ChallengeConnectPorts(s), c.connect_ports);
  }
}

TEST(PlanIssueTest, PreflightOpensHttpAndDnsForHttp01Only) {
  CertSettings web = Settings(Kind::kWebroot, "/srv/www");
  web.preflight.enabled = true;
  web.preflight.port = 8080;
  IssuePlan plan = PlanIssue(Inputs(web, {"/srv/www", "/srv/www/.well-known/acme-challenge"}));
  const sandbox::Policy& p = plan.challenge_policy;
  EXPECT_TRUE(p.udp);
  EXPECT_EQ(p.connect_ports, (std::vector<uint16_t>{8080, 80, 443, 53}));
  EXPECT_TRUE(Reads(p, "/etc/resolv.conf"));
  EXPECT_TRUE(p.bind_ports.empty());

  CertSettings standalone = Settings(Kind::kStandalone, "[::]:80");
  standalone.preflight.enabled = true;
  IssuePlan sp = PlanIssue(Inputs(standalone));
  EXPECT_EQ(sp.challenge_policy.bind_ports, std::vector<uint16_t>{80});
  EXPECT_TRUE(Has(sp.challenge_policy.connect_ports, 443));

  // dns-01 ignores the pre-flight settings.
  CertSettings dns = Settings(Kind::kDnsHook, "/bin/hook");
  dns.preflight.enabled = true;
  IssuePlan dp = PlanIssue(Inputs(dns));
  EXPECT_FALSE(Has(dp.challenge_policy.connect_ports, 443));
}

TEST(PlanIssueTest, SkipPreflightIsForThisRunOnly) {
  CertSettings web = Settings(Kind::kWebroot, "/srv/www");
  web.preflight.enabled = true;
  web.run.skip_preflight = true;
  IssuePlan plan = PlanIssue(Inputs(web, {"/srv/www", "/srv/www/.well-known/acme-challenge"}));
  // Neither the check nor its network, but the record keeps the check.
  EXPECT_FALSE(plan.challenge_settings.preflight.enabled);
  EXPECT_TRUE(plan.challenge_policy.connect_ports.empty());
  EXPECT_FALSE(plan.challenge_policy.udp);
  EXPECT_TRUE(plan.saved_settings.preflight.enabled);
}

TEST(PlanIssueTest, WithoutPreflightHttp01HasNoNetwork) {
  IssuePlan plan = PlanIssue(Inputs(Settings(Kind::kChallengeDir, "/srv/acme"),
                                    {"/srv/acme", "/srv/acme"}));
  EXPECT_FALSE(plan.challenge_policy.udp);
  EXPECT_TRUE(plan.challenge_policy.connect_ports.empty());
  EXPECT_FALSE(Reads(plan.challenge_policy, "/etc/resolv.conf"));
}

TEST(PlanIssueTest, RunAsReachesEveryRole) {
  IssueInputs in = Inputs(Settings(Kind::kStandalone, "0.0.0.0:80"));
  EXPECT_FALSE(PlanIssue(Inputs(Settings(Kind::kStandalone, "0.0.0.0:80"))).run_as);
  sandbox::RunAs who;
  who.uid = 1234;
  who.gid = 1235;
  who.user = "acme";
  in.run_as = who;
  in.require_full_sandbox = true;
  IssuePlan plan = PlanIssue(std::move(in));
  ASSERT_TRUE(plan.run_as);
  EXPECT_EQ(plan.run_as->uid, 1234U);
  EXPECT_EQ(plan.run_as->gid, 1235U);
  EXPECT_TRUE(plan.require_full_sandbox);
  EXPECT_TRUE(plan.net.require_full);
}

TEST(PlanIssueTest, SignerMaySignOnlyThisOrder) {
  CertSettings s = Settings(Kind::kWebroot, "/srv/www");
  s.profile = "shortlived";
  IssuePlan plan = PlanIssue(Inputs(s, {"/srv/www", "/srv/www/.well-known/acme-challenge"}));
  const acme::SignPolicy& p = plan.signer.policy;
  EXPECT_EQ(p.operation, acme::SignOperation::kIssue);
  EXPECT_EQ(p.origin, "https://127.0.0.1:14000");
  EXPECT_EQ(p.account_url, kAccount);
  EXPECT_EQ(p.names, s.names);
  EXPECT_EQ(p.profile, "shortlived");
  EXPECT_EQ(p.replaces, "");
  // Finalize needs the CSR the parent relays once the keys role made it.
  EXPECT_TRUE(p.csr_der.empty());
  EXPECT_TRUE(p.contact.empty());
  EXPECT_TRUE(p.revoke_cert_der.empty());
  EXPECT_EQ(plan.signer.key_path, "/state/accounts/ca/default/account.key");
  EXPECT_EQ(plan.signer.expected_thumbprint, "thumb");
}

TEST(PlanIssueTest, RenewalReplacesTheOldCertificate) {
  CertSettings s = Settings(Kind::kStandalone, "0.0.0.0:80");
  s.run.replaces = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
  s.run.ari_exempt = true;
  IssuePlan plan = PlanIssue(Inputs(s));
  EXPECT_EQ(plan.net.order.replaces, s.run.replaces);
  EXPECT_EQ(plan.signer.policy.replaces, s.run.replaces);
  EXPECT_TRUE(plan.ledger_options.ari_exempt);
  EXPECT_FALSE(plan.ledger_options.ignore_ledger);
}

TEST(PlanIssueTest, StoreAndLedgerAreForThisCertificate) {
  CertSettings s = Settings(Kind::kStandalone, "0.0.0.0:80");
  s.revoked_serial = "0a";
  s.revoked_key_compromise = true;
  s.revoked_reissue = true;
  IssuePlan plan = PlanIssue(Inputs(s));
  EXPECT_EQ(plan.store.name, "a.example");
  EXPECT_EQ(plan.store.names, s.names);
  // The revocation is answered by this order: not saved again.
  EXPECT_TRUE(plan.saved_settings.revoked_serial.empty());
  EXPECT_FALSE(plan.saved_settings.revoked_key_compromise);
  EXPECT_FALSE(plan.saved_settings.revoked_reissue);
  EXPECT_EQ(plan.store.settings, plan.saved_settings.ToJson());
  EXPECT_EQ(plan.ledger_scope.ca, kDirectory);
  EXPECT_EQ(plan.ledger_scope.account, kAccount);
  EXPECT_EQ(plan.ledger_names, s.names);
  EXPECT_EQ(plan.net.now, 1700000000);
}

TEST(PlanIssueTest, NetMayReachOnlyTheCaPort) {
  IssuePlan plan = PlanIssue(Inputs(Settings(Kind::kStandalone, "0.0.0.0:80")));
  sandbox::Policy p = roles::CaNetPolicy(plan.net.ca, 3);
  EXPECT_EQ(p.role, sandbox::Role::kNet);
  EXPECT_EQ(p.connect_ports, std::vector<uint16_t>{14000});
  EXPECT_FALSE(p.udp);
  EXPECT_TRUE(p.bind_ports.empty());
  EXPECT_TRUE(p.write_dirs.empty());
  EXPECT_EQ(plan.net.account_url, kAccount);
  EXPECT_EQ(plan.net.order.names, plan.store.names);
}

TEST(PlanIssueTest, KeyChoiceResumeAndUserCsr) {
  CertSettings s = Settings(Kind::kStandalone, "0.0.0.0:80");
  s.key_type = crypto::KeyType::kRsa2048;
  IssueInputs in = Inputs(s);
  in.key_choice = roles::KeyChoice::kLive;
  IssuePlan fresh = PlanIssue(std::move(in));
  EXPECT_EQ(fresh.key_choice, roles::KeyChoice::kLive);
  EXPECT_EQ(fresh.key_request.type, crypto::KeyType::kRsa2048);
  EXPECT_EQ(fresh.key_request.names, s.names);
  EXPECT_EQ(fresh.net.key_source, ipc::KeySource::kPending);

  IssueInputs resume = Inputs(s);
  resume.resume_url = "https://127.0.0.1:14000/order/7";
  IssuePlan resumed = PlanIssue(std::move(resume));
  EXPECT_EQ(resumed.key_choice, roles::KeyChoice::kPending);
  EXPECT_EQ(resumed.net.resume_url, "https://127.0.0.1:14000/order/7");

  s.csr_file = "/etc/req.csr";
  IssueInputs csr = Inputs(s);
  csr.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----";
  IssuePlan user = PlanIssue(std::move(csr));
  EXPECT_EQ(user.key_request.csr_pem, "-----BEGIN CERTIFICATE REQUEST-----");
  EXPECT_EQ(user.net.key_source, ipc::KeySource::kNone);
}

}  // namespace
}  // namespace bulkhead::manager
