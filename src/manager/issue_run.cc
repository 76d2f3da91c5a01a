#include "manager/issue_run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "challenge/dns01.h"
#include "challenge/http01.h"
#include "challenge/preflight.h"
#include "crypto/warmup.h"
#include "dns/query.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "ledger/gate.h"
#include "manager/challenge_dir.h"
#include "manager/issue_plan.h"
#include "manager/settings_record.h"
#include "roles/compartments.h"
#include "roles/net.h"
#include "roles/process.h"
#include "sandbox/sandbox.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/nofollow.h"

namespace bulkhead::manager {
namespace {

using roles::kOrderTimeout;
using std::chrono::minutes;
using std::chrono::seconds;

// kStaleTokenAge: token files of this account older than this are left
// over from a killed run (no order lives that long), so the next run's
// challenge role removes them.
constexpr int64_t kStaleTokenAgeSeconds = 2 * 60 * 60;

// kDnsHookTimeout bounds one run of a --dns-hook program.
constexpr seconds kDnsHookTimeout{60};
// kDnsQueryTimeout bounds one DNS query or RFC 2136 update.
constexpr std::chrono::milliseconds kDnsQueryTimeout{5000};

// WithPreflight wraps an http-01 publisher in the pre-flight check when the
// settings ask for it.
Result<std::unique_ptr<challenge::Publisher>> WithPreflight(
    const CertSettings& s, Result<std::unique_ptr<challenge::Publisher>> inner) {
  if (!inner.ok() || !s.preflight.enabled) {
    return inner;
  }
  challenge::PreflightOptions o;
  o.port = static_cast<uint16_t>(s.preflight.port);
  o.quiet_skips = s.run.quiet;
  if (!s.preflight.resolver.empty()) {
    BH_ASSIGN(dns::Server resolver, dns::ParseServer(s.preflight.resolver));
    o.resolver = resolver;
  }
  return challenge::NewPreflightPublisher(std::move(inner).value(), std::move(o));
}

// NewDnsPublisher builds the dns-01 publisher inside the challenge role.
// `tsig` (RFC 2136) was read by this role before its sandbox; `runner`
// (hook) was forked
// before the sandbox.
Result<std::unique_ptr<challenge::Publisher>> NewDnsPublisher(
    const CertSettings& s, Result<challenge::TsigKey>* tsig,
    Result<challenge::HookRunner>* runner) {
  challenge::Dns01Options o;
  if (!s.dns.resolver.empty()) {
    BH_ASSIGN(dns::Server resolver, dns::ParseServer(s.dns.resolver));
    o.resolver = resolver;
  }
  o.timeout = seconds(s.dns.timeout_seconds);
  o.fixed_wait = seconds(s.dns.wait_seconds);
  o.query.timeout = kDnsQueryTimeout;
  std::unique_ptr<challenge::RecordUpdater> updater;
  if (s.method == ChallengeMethod::kDnsDrop) {
    BH_ASSIGN(updater, challenge::NewDropUpdater(s.challenge_target, challenge::kDefaultTxtTtl));
  } else if (s.method == ChallengeMethod::kDnsRfc2136) {
    BH_ASSIGN(dns::Server server, dns::ParseServer(s.challenge_target));
    if (!tsig->ok()) {
      return tsig->error();
    }
    BH_ASSIGN(updater, challenge::NewRfc2136Updater(server, std::move(*tsig).value(),
                                                    challenge::kDefaultTxtTtl, kDnsQueryTimeout));
  } else {
    if (runner == nullptr || !runner->ok()) {
      return runner == nullptr ? Err("--dns-hook: no hook runner") : runner->error();
    }
    updater = (*runner)->NewUpdater(kDnsHookTimeout);
  }
  return challenge::NewDns01Publisher(std::move(updater), std::move(o));
}

// PendingUsable says whether the order recorded in pending/ can be resumed.
// The store role (as --user) wrote order.json, so it is read as untrusted
// input: without following symlinks, capped (LoadPendingOrder), and every
// field type-checked before use; a malformed record is a warning naming the
// file, and a fresh order is made instead.
bool PendingUsable(const store::CertStore& certs, const CertSettings& s, int64_t now,
                   std::string* out_url) {
  constexpr int64_t kMaxPendingAge = 7 * 86400;
  constexpr size_t kMaxOrderUrl = 2048;
  if (!s.csr_file.empty()) {
    return false;
  }
  auto p = certs.LoadPendingOrder(s.name);
  if (!p.ok()) {
    if (p.error().code != ErrorCode::kNotFound) {
      LogWarn("{}: not resuming the recorded order: {}", s.name, p.error().message);
    }
    return false;
  }
  struct stat st;
  std::string key = certs.PendingDir(s.name) + "/privkey.pem";
  if (::lstat(key.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return false;
  }
  auto str = [&](const char* k) -> const nlohmann::json* {
    auto it = p->find(k);
    return it != p->end() && it->is_string() ? &*it : nullptr;
  };
  const nlohmann::json* url = str("url");
  const nlohmann::json* server = str("server");
  const nlohmann::json* key_type = str("key_type");
  auto names = p->find("names");
  auto created = p->find("created");
  bool well_formed =
      url != nullptr && server != nullptr && key_type != nullptr && names != p->end() &&
      names->is_array() && names->size() <= ipc::kMaxNames &&
      std::all_of(names->begin(), names->end(), [](const nlohmann::json& n) { return n.is_string(); }) &&
      created != p->end() && created->is_number_integer() &&
      url->get_ref<const std::string&>().size() <= kMaxOrderUrl &&
      url->get_ref<const std::string&>().rfind("https://", 0) == 0;
  if (!well_formed) {
    LogWarn("{}: not resuming the order recorded in {}/order.json: malformed", s.name,
            certs.PendingDir(s.name));
    return false;
  }
  bool usable = server->get_ref<const std::string&>() == s.server &&
                names->get<std::vector<std::string>>() == s.names &&
                key_type->get_ref<const std::string&>() == crypto::KeyTypeName(s.key_type) &&
                now - created->get<int64_t>() < kMaxPendingAge;
  if (usable) {
    *out_url = url->get<std::string>();
  }
  return usable;
}

// Roles holds the started role processes; destroying it stops any that are
// still running.
struct Roles {
  roles::RoleProcess signer, challenge, store, net;
};

std::string RoleFailures(Roles& r) {
  std::string out;
  for (roles::RoleProcess* p : {&r.net, &r.challenge, &r.store, &r.signer}) {
    Status st = p->Wait(std::chrono::seconds(10));
    if (!st.ok()) {
      out += "\n  " + st.error().message;
    }
  }
  return out;
}

// PrepareForUser (as root) gives the certificate directory to the user the
// roles switch to, and checks that the user can use the CA bundle. Every
// change of owner or mode goes through a descriptor of a directory reached
// without following a symlink another user could have placed
// (util/nofollow.h), and nothing outside the certificate directory changes
// owner (the challenge directory: PrepareChallengeDir).
Status PrepareForUser(const std::string& state_dir, const store::CertStore& certs,
                      const CertSettings& s, const CaConfig& ca, const sandbox::RunAs& who) {
  std::string cert_dir = certs.CertDir(s.name);
  // The user must pass through the state and certs directories (ours, 0700
  // by default): group search permission for the user's group, nothing more,
  // so accounts/ and other certificates stay closed.
  for (const std::string& dir : {state_dir, DirName(cert_dir)}) {
    BH_ASSIGN(ResolvedDir d, ResolveTrustedDir(dir));
    if (!sandbox::AccessibleBy(d.st, who, X_OK) &&
        (::fchown(d.fd.get(), static_cast<uid_t>(-1), who.gid) != 0 ||
         ::fchmod(d.fd.get(), (d.st.st_mode & 07777) | S_IXGRP) != 0)) {
      return Err("letting group {} pass through {}: {}", who.group, dir, std::strerror(errno));
    }
  }
  // pending/ too: the keys role would otherwise create it as root, before
  // it switches.
  BH_ASSIGN(ResolvedDir cert, ResolveTrustedDir(cert_dir));
  BH_TRY(ResolveTrustedDirAt(cert, "pending", 0700));
  BH_TRY(sandbox::ChownTree(cert_dir, who));
  BH_TRY(sandbox::CheckAccessibleBy(cert_dir, who, W_OK, "certificate directory"));
  if (!ca.ca_bundle.empty()) {
    BH_TRY(sandbox::CheckAccessibleBy(ca.ca_bundle, who, R_OK, "CA bundle"));
  }
  return OkStatus();
}

// RunChallengeRoleFor is the challenge role's process for `plan`: it opens
// what its method needs before the sandbox (TSIG key, hook runner,
// standalone listener), then serves under plan.challenge_policy.
int RunChallengeRoleFor(ipc::Channel channel, const IssuePlan& plan) {
  const CertSettings& challenge_settings = plan.challenge_settings;
  const std::string& token_dir = plan.token_dir;
  const std::string& thumbprint = plan.signer.expected_thumbprint;
  // The TSIG key is read here, by the one role that uses it,
  // before its sandbox and user switch (the key file is usually
  // private): no other role, and not the parent, ever holds it.
  Result<challenge::TsigKey> tsig_key = Err("no TSIG key");
  if (challenge_settings.method == ChallengeMethod::kDnsRfc2136) {
    tsig_key = challenge::LoadTsigKey(challenge_settings.dns.tsig_key_file);
  }
  // The hook runs outside the sandbox, in a runner forked now.
  Result<challenge::HookRunner> hook_runner = Err("no hook");
  if (challenge_settings.method == ChallengeMethod::kDnsHook) {
    hook_runner = challenge::HookRunner::Start(
        challenge_settings.challenge_target, challenge::kDefaultTxtTtl, kDnsHookTimeout);
  }
  // The standalone listener is bound before the sandbox, while
  // the process may still bind a port below 1024; the role then
  // keeps no capability and switches user like the others.
  Result<ScopedFd> listener = Err("no listener");
  if (challenge_settings.method == ChallengeMethod::kStandalone) {
    listener = challenge::ListenStandalone(challenge_settings.challenge_target);
  }
  return roles::RunChallengeRole(
      std::move(channel), plan.challenge_policy, plan.require_full_sandbox, [&] {
        if (!token_dir.empty() && !thumbprint.empty()) {
          auto swept =
              challenge::SweepStaleTokens(token_dir, thumbprint, kStaleTokenAgeSeconds);
          if (!swept.ok()) {
            LogWarn("{}", swept.error().message);
          }
        }
        switch (challenge_settings.method) {
          case ChallengeMethod::kWebroot:
            return WithPreflight(
                challenge_settings, challenge::NewDirectoryPublisher(
                              challenge_settings.challenge_target, /*webroot=*/true));
          case ChallengeMethod::kChallengeDir:
            return WithPreflight(
                challenge_settings, challenge::NewDirectoryPublisher(
                              challenge_settings.challenge_target, /*webroot=*/false));
          case ChallengeMethod::kStandalone:
            break;
          case ChallengeMethod::kDnsDrop:
          case ChallengeMethod::kDnsRfc2136:
          case ChallengeMethod::kDnsHook:
            return NewDnsPublisher(challenge_settings, &tsig_key, &hook_runner);
        }
        if (!listener.ok()) {
          return Result<std::unique_ptr<challenge::Publisher>>(listener.error());
        }
        return WithPreflight(challenge_settings, challenge::NewStandalonePublisher(
                                           std::move(listener).value(),
                                           challenge_settings.challenge_target));
      });
}

// RecordOutcome reads what the net role of `plan` reports, records what
// the order spent in the ledger (`gate`), reaps the roles, and on success
// keeps root's record of the settings up to date.
Result<IssueOutcome> RecordOutcome(const std::string& state_dir, const store::CertStore& certs,
                                   const IssuePlan& plan, ledger::Gate& gate,
                                   ipc::Channel& to_net, Roles& r) {
  const std::string& name = plan.name;
  const std::optional<sandbox::RunAs>& run_as = plan.run_as;
  auto reply = to_net.Receive(kOrderTimeout);
  if (reply.ok() && reply->type == ipc::MessageType::kOrderReport) {
    auto report = ipc::DecodeOrderReport(*reply);
    int64_t at = static_cast<int64_t>(std::time(nullptr));
    if (report.ok()) {
      if (report->new_order) {
        gate.RecordOrder(at);
      }
      gate.RecordFailures(report->failed_authz, at);
    } else {
      LogWarn("{}: ignoring a malformed order report: {}", name, report.error().message);
    }
    reply = to_net.Receive(kOrderTimeout);
  }
  std::string failures = RoleFailures(r);
  if (!reply.ok() || reply->type != ipc::MessageType::kIssueResult) {
    // A key made for an order that never reached the CA is of no use to a
    // later run: leave the directory as it was.
    struct stat st;
    std::string order_file = certs.PendingDir(name) + "/order.json";
    if (::stat(order_file.c_str(), &st) != 0) {
      (void)certs.ClearPending(name);
    }
  }
  if (!reply.ok()) {
    Error e = reply.error().Wrap(name);
    e.message += failures;
    return e;
  }
  if (reply->type == ipc::MessageType::kError) {
    BH_ASSIGN(ipc::ErrorMsg e, ipc::DecodeError(*reply));
    return Error{fmt::format("{}: {}{}", name, e.message, failures), e.code};
  }
  BH_ASSIGN(ipc::IssueResultMsg result, ipc::DecodeIssueResult(*reply));
  gate.RecordIssued(static_cast<int64_t>(std::time(nullptr)));
  // Root's record of these settings (manager/settings_record.h): from
  // memory, exactly what the store role was given for settings.json.
  // Needed when the store ran as another user, and kept up to date once it
  // exists; otherwise a settings.json that root's own roles wrote is
  // adopted by the next run, and this run saves two fsyncs.
  struct stat record_st;
  bool has_record = ::lstat(SettingsRecordPath(state_dir, name).c_str(), &record_st) == 0;
  bool record = !plan.saved_settings.run.dry_run && (run_as || has_record);
  if (Status recorded = record ? SaveSettingsRecord(state_dir, plan.saved_settings) : OkStatus();
      !recorded.ok()) {
    LogWarn("{}: issued, but root's record of the settings was not written, so the next "
            "renew will refuse them: {}",
            name, recorded.error().message);
  }
  if (!failures.empty()) {
    LogWarn("{}: issued, but a role ended badly:{}", name, failures);
  }
  IssueOutcome out;
  out.version = result.version;
  out.live_dir = certs.CertDir(name) + "/live";
  out.leaf.subject = result.subject;
  out.leaf.issuer_cn = result.issuer;
  out.leaf.names = result.names;
  out.leaf.serial_hex = result.serial;
  out.leaf.not_before = result.not_before;
  out.leaf.not_after = result.not_after;
  return out;
}

// RunIssuePlan starts the roles of `plan`, relays the CSR, and records what
// the order spent (in `gate`, opened for this plan) and its outcome.
Result<IssueOutcome> RunIssuePlan(const std::string& state_dir, const store::CertStore& certs,
                                  IssuePlan plan, ledger::Gate& gate) {
  const std::string& name = plan.name;
  const std::optional<sandbox::RunAs>& run_as = plan.run_as;
  bool require_full_sandbox = plan.require_full_sandbox;

  // OpenSSL's algorithm tables, filled once here and inherited by every
  // role below instead of being built in each (see crypto/warmup.h).
  crypto::WarmUpBeforeFork();

  // 1. The keys role runs alongside the other roles (started in step 2):
  // net connects and reads the directory meanwhile, and waits for the CSR,
  // which the parent relays, before it creates the order.
  BH_ASSIGN(auto keys_pair, ipc::MakeChannelPair("parent", "keys"));
  // Plain references: lambdas may not capture structured bindings in C++20.
  ipc::Channel& to_keys = keys_pair.first;
  ipc::Channel& keys_end = keys_pair.second;
  BH_ASSIGN(roles::RoleProcess keys,
            roles::RoleProcess::Start("keys", {keys_end.fd()}, [&] {
              return roles::RunKeysRole(std::move(keys_end), certs, name,
                                        std::move(plan.key_request), plan.key_choice,
                                        require_full_sandbox);
            },
            run_as));
  keys_end.Close();

  // 2. The roles of the order itself.
  BH_ASSIGN(auto net_signer, ipc::MakeChannelPair("signer", "net"));
  BH_ASSIGN(auto net_challenge, ipc::MakeChannelPair("challenge", "net"));
  BH_ASSIGN(auto net_store, ipc::MakeChannelPair("store", "net"));
  BH_ASSIGN(auto parent_net, ipc::MakeChannelPair("net", "parent"));

  Roles r;
  // The signer hears from net, and once from the parent: the CSR that
  // finalize may carry.
  BH_ASSIGN(auto parent_signer, ipc::MakeChannelPair("signer", "parent"));
  BH_ASSIGN(r.signer,
            roles::RoleProcess::Start(
                "signer", {net_signer.first.fd(), parent_signer.second.fd()}, [&] {
                  return roles::RunSignerRole(std::move(net_signer.first),
                                              std::move(parent_signer.second),
                                              std::move(plan.signer), require_full_sandbox);
                },
                run_as));
  parent_signer.second.Close();
  ipc::Channel& to_signer = parent_signer.first;
  BH_ASSIGN(r.challenge, roles::RoleProcess::Start("challenge", {net_challenge.first.fd()}, [&] {
              return RunChallengeRoleFor(std::move(net_challenge.first), plan);
            }, run_as));
  BH_ASSIGN(r.store, roles::RoleProcess::Start("store", {net_store.first.fd()}, [&] {
              return roles::RunStoreRole(std::move(net_store.first), certs, plan.store,
                                         require_full_sandbox);
            }, run_as));
  BH_ASSIGN(r.net,
            roles::RoleProcess::Start(
                "net",
                {net_signer.second.fd(), net_challenge.second.fd(), net_store.second.fd(),
                 parent_net.second.fd()},
                [&] {
                  return roles::RunNetRole(std::move(parent_net.second), std::move(net_signer.second),
                                    std::move(net_challenge.second), std::move(net_store.second),
                                    std::move(plan.net));
                },
                run_as));
  // The parent keeps only its own end to the net role.
  for (auto* pair : {&net_signer, &net_challenge, &net_store}) {
    pair->first.Close();
    pair->second.Close();
  }
  parent_net.second.Close();
  ipc::Channel to_net = std::move(parent_net.first);

  // Relay the keys role's CSR to net, or tell net to give up.
  auto key = roles::ReceivePreparedKey(to_keys);
  Status keys_waited = keys.Wait(std::chrono::seconds(30));
  if (key.ok() && keys_waited.ok()) {
    // The signer first: it then signs a finalize with exactly this CSR.
    ipc::PrepareKeyResponseMsg answer{key->csr_der, key->public_key_der};
    (void)ipc::Send(to_signer, answer);
    (void)ipc::Send(to_net, answer);
  } else {
    (void)ipc::Send(to_net, ipc::ErrorMsg{"the keys role failed", ErrorCode::kFailure});
    // Net ends without creating an order (its report and error say only
    // that); let every role finish before the key's error is returned.
    // (At most its two frames: report and error, then the end of the channel.)
    for (int frames = 0; frames < 2 && to_net.Receive(std::chrono::seconds(30)).ok(); ++frames) {
    }
    (void)RoleFailures(r);
    if (!key.ok()) {
      return key.error().Wrap(fmt::format("{}: preparing the key", name));
    }
    return keys_waited.error();
  }

  return RecordOutcome(state_dir, certs, plan, gate, to_net, r);
}

}  // namespace

Status ReportSandboxGapsOnce(bool require_full) {
  static bool reported = false;
  sandbox::Report report = sandbox::Probe();
  if (report.gaps.empty()) {
    return OkStatus();
  }
  std::string gaps;
  for (const std::string& g : report.gaps) {
    gaps += (gaps.empty() ? "" : "; ") + g;
  }
  if (require_full) {
    return Err("--require-sandbox: this kernel cannot enforce everything: {}", gaps);
  }
  if (!reported) {
    LogWarn("the sandbox is weaker on this kernel: {}", gaps);
    reported = true;
  }
  return OkStatus();
}

roles::KeyChoice KeyChoiceFor(const CertSettings& settings, bool fresh_key) {
  return settings.reuse_key && !fresh_key ? roles::KeyChoice::kLive : roles::KeyChoice::kFresh;
}

Result<IssueOutcome> IssueInCompartments(const std::string& state_dir, const CaConfig& ca_arg,
                                         const store::CertStore& certs,
                                         const CertSettings& settings,
                                         roles::KeyChoice key_choice, bool require_full_sandbox,
                                         const std::optional<sandbox::RunAs>& run_as_arg) {
  BH_TRY(ReportSandboxGapsOnce(require_full_sandbox));
  // The net role cannot resolve names: its CA's addresses are looked up
  // here, before any role starts.
  CaConfig ca = ca_arg;
  BH_TRY(PinCaAddresses(&ca));
  const std::string& name = settings.name;
  BH_ASSIGN(FileLock lock, certs.Lock(name, /*wait=*/false));
  BH_ASSIGN(store::AccountStore account, AccountStoreFor(state_dir, ca));
  auto info_or = account.LoadInfo();
  if (!info_or.ok() && info_or.error().code != ErrorCode::kNotFound) {
    return info_or.error();
  }
  nlohmann::json info = info_or.ok() ? *info_or : nlohmann::json::object();
  if (!info.contains("url") || !info["url"].is_string()) {
    return ErrCode(ErrorCode::kNotFound,
                   "no account registered with {} in {}; run `bulkhead account register` first",
                   ca.directory_url, account.dir());
  }
  if (!account.HasKey()) {
    return ErrCode(ErrorCode::kNotFound, "{} is missing; run `bulkhead account register`",
                   account.KeyPath());
  }

  std::optional<sandbox::RunAs> run_as = ::geteuid() == 0 ? run_as_arg : std::nullopt;
  if (run_as) {
    BH_TRY(PrepareForUser(state_dir, certs, settings, ca, *run_as));
  }
  // What the plan needs from the file system, read now; planning itself
  // does no I/O (manager/issue_plan.h).
  IssueInputs in;
  in.ca = ca;
  in.settings = settings;
  in.account_url = info["url"].get<std::string>();
  in.account_key_path = account.KeyPath();
  in.thumbprint = info.value("thumbprint", "");
  // The challenge role gets the directory with its symlinks resolved and
  // checked here, and opens it without following any (http01_dir.cc).
  BH_ASSIGN(in.challenge_paths, PrepareChallengeDir(settings, run_as));
  in.key_choice = key_choice;
  in.now = static_cast<int64_t>(std::time(nullptr));
  // 0. The rate-limit ledger, before anything reaches the CA (and before
  // a resumable order or a CSR is read). Only the parent may write it; the
  // net role reports what the order spent.
  LedgerGateInputs gate_in = LedgerGateFor(in);
  BH_ASSIGN(ledger::Gate gate, ledger::Gate::Open(state_dir, gate_in.scope, gate_in.names,
                                                  gate_in.now, gate_in.options));
  (void)PendingUsable(certs, settings, in.now, &in.resume_url);
  if (!settings.csr_file.empty()) {
    BH_ASSIGN(in.csr_pem, ReadFileCapped(settings.csr_file, 64 * 1024));
  }
  in.require_full_sandbox = require_full_sandbox;
  in.run_as = run_as;
  IssuePlan plan = PlanIssue(std::move(in));
  return RunIssuePlan(state_dir, certs, std::move(plan), gate);
}

}  // namespace bulkhead::manager
