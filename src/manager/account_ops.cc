#include "manager/account_ops.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "ipc/channel.h"
#include "manager/issue_run.h"
#include "roles/compartments.h"
#include "roles/net.h"
#include "roles/process.h"
#include "sandbox/sandbox.h"
#include "store/account_store.h"
#include "util/base64url.h"
#include "util/fs.h"

namespace bulkhead::manager {
namespace {

using std::chrono::seconds;
using roles::kCommandTimeout;

// OutcomeFits says whether the net role's outcome is one `command` can have.
bool OutcomeFits(AccountCommand command, ipc::AccountOutcome o) {
  switch (command) {
    case AccountCommand::kRegister:
      return o == ipc::AccountOutcome::kCreated || o == ipc::AccountOutcome::kFound ||
             o == ipc::AccountOutcome::kExists;
    case AccountCommand::kShow:
      return o == ipc::AccountOutcome::kFetched;
    case AccountCommand::kRollover:
      return o == ipc::AccountOutcome::kKeyChanged;
    case AccountCommand::kDeactivate:
      return o == ipc::AccountOutcome::kDeactivated;
  }
  return false;
}

// MissingDirs returns `dir` and those of its parents that do not exist yet,
// deepest first, so a failed registration can remove what it created.
std::vector<std::string> MissingDirs(std::string dir) {
  std::vector<std::string> out;
  struct stat st;
  while (!dir.empty() && dir != "." && dir != "/" && ::stat(dir.c_str(), &st) != 0 &&
         errno == ENOENT) {
    out.push_back(dir);
    dir = DirName(dir);
  }
  return out;
}

// RegisteredAccountUrl returns the account URL recorded in account.json,
// after checking that account.key exists (without reading it).
Result<std::string> RegisteredAccountUrl(const store::AccountStore& account, const CaConfig& ca) {
  if (!account.HasKey()) {
    return ErrCode(ErrorCode::kNotFound,
                   "no account key at {}: run `bulkhead account register` first",
                   account.KeyPath());
  }
  auto info = account.LoadInfo();
  if (!info.ok() || !info->contains("url") || !(*info)["url"].is_string()) {
    return ErrCode(ErrorCode::kNotFound,
                   "no account registered with {} in {}; run `bulkhead account register` first",
                   ca.directory_url, account.dir());
  }
  return (*info)["url"].get<std::string>();
}

// WaitAll reaps the roles and lists those that ended badly.
std::string WaitAll(std::initializer_list<roles::RoleProcess*> roles) {
  std::string out;
  for (roles::RoleProcess* p : roles) {
    Status st = p->Wait(seconds(10));
    if (!st.ok()) {
      out += "\n  " + st.error().message;
    }
  }
  return out;
}

// NetRunAs is who the net role runs as: `run_as` when root, after checking
// that this user can read the CA bundle.
Result<std::optional<sandbox::RunAs>> NetRunAs(const CaConfig& ca,
                                               const std::optional<sandbox::RunAs>& run_as) {
  if (!run_as || ::geteuid() != 0) {
    return std::optional<sandbox::RunAs>();
  }
  if (!ca.ca_bundle.empty()) {
    BH_TRY(sandbox::CheckAccessibleBy(ca.ca_bundle, *run_as, R_OK, "CA bundle"));
  }
  return run_as;
}

}  // namespace

acme::SignPolicy AccountSignPolicy(const AccountRequest& request, const CaConfig& ca,
                                   const std::string& account_url) {
  acme::SignPolicy p;
  p.origin = acme::UrlOrigin(ca.directory_url);
  p.account_url = account_url;
  switch (request.command) {
    case AccountCommand::kRegister:
      p.operation = acme::SignOperation::kRegister;
      p.contact = request.contact;
      p.agree_tos = request.agree_tos;
      break;
    case AccountCommand::kShow:
      p.operation = acme::SignOperation::kShow;
      break;
    case AccountCommand::kDeactivate:
      p.operation = acme::SignOperation::kDeactivate;
      break;
    case AccountCommand::kRollover:
      p.operation = acme::SignOperation::kRollover;
      break;
  }
  return p;
}


Result<AccountPlan> PlanAccountCommand(AccountRequest& request, const CaConfig& ca,
                                       const AccountFacts& facts) {
  AccountPlan plan;
  roles::AccountNetJob& net_job = plan.net;
  roles::AccountRoleJob& role_job = plan.role;
  net_job.ca = ca;
  net_job.command = request.command;
  net_job.contact = request.contact;
  net_job.agree_tos = request.agree_tos;
  role_job.account_dir = facts.account_dir;
  role_job.server = ca.directory_url;
  if (request.command == AccountCommand::kRegister) {
    net_job.key_existed = facts.key_exists;
    role_job.mode = net_job.key_existed ? roles::AccountKeyMode::kExisting
                                        : roles::AccountKeyMode::kCreate;
    role_job.new_key_type = request.key_type;
    if (!request.eab_kid.empty()) {
      // Checked here so a malformed key is a usage error before any traffic.
      auto raw = Base64UrlDecode(request.eab_hmac_key.view());
      if (!raw.ok() || raw->empty()) {
        return ErrCode(ErrorCode::kUsage, "--eab-hmac-key: EAB HMAC key is not base64url");
      }
      Secret wipe(std::move(raw).value());
      net_job.eab = true;
      role_job.eab_kid = request.eab_kid;
      role_job.eab_hmac_key = std::move(request.eab_hmac_key);
    }
  } else {
    net_job.account_url = facts.account_url;
    role_job.account_url = net_job.account_url;
    if (request.command == AccountCommand::kRollover) {
      role_job.mode = roles::AccountKeyMode::kRollover;
      role_job.new_key_type = request.new_key_type;
    }
  }
  request.eab_hmac_key.Wipe();
  role_job.policy = AccountSignPolicy(request, ca, net_job.account_url);
  return plan;
}

Result<AccountReport> RunAccountCommand(const std::string& state_dir, const CaConfig& ca_arg,
                                        AccountRequest request, bool require_full_sandbox,
                                        const std::optional<sandbox::RunAs>& run_as_arg) {
  BH_TRY(ReportSandboxGapsOnce(require_full_sandbox));
  // The net role cannot resolve names: the CA's addresses, now.
  CaConfig ca = ca_arg;
  BH_TRY(PinCaAddresses(&ca));
  BH_ASSIGN(store::AccountStore account, AccountStoreFor(state_dir, ca));
  BH_ASSIGN(std::optional<sandbox::RunAs> net_run_as, NetRunAs(ca, run_as_arg));

  AccountFacts facts;
  facts.account_dir = account.dir();
  if (request.command == AccountCommand::kRegister) {
    facts.key_exists = account.HasKey();
  } else {
    BH_ASSIGN(facts.account_url, RegisteredAccountUrl(account, ca));
  }
  BH_ASSIGN(AccountPlan plan, PlanAccountCommand(request, ca, facts));
  std::vector<std::string> created_dirs;
  if (request.command == AccountCommand::kRegister) {
    // The account role may write only this directory, so it must exist
    // before the role enters its sandbox; it is removed again if nothing
    // was registered.
    created_dirs = MissingDirs(account.dir());
    BH_TRY(MakeDirs(account.dir(), 0700));
  }

  auto remove_created = [&] {
    for (const std::string& d : created_dirs) {
      ::rmdir(d.c_str());  // Fails, harmlessly, if anything was stored there.
    }
  };
  auto net_signer = ipc::MakeChannelPair("account", "net");
  auto parent_net = ipc::MakeChannelPair("net", "parent");
  auto parent_account = ipc::MakeChannelPair("account", "parent");
  if (!net_signer.ok() || !parent_net.ok() || !parent_account.ok()) {
    remove_created();
    return !net_signer.ok() ? net_signer.error()
                            : !parent_net.ok() ? parent_net.error() : parent_account.error();
  }
  // The account role keeps the caller's identity: it writes the caller's
  // account directory (0700) after entering its sandbox.
  auto account_role = roles::RoleProcess::Start(
      "account", {net_signer->first.fd(), parent_account->second.fd()}, [&] {
        return roles::RunAccountRole(std::move(net_signer->first),
                                     std::move(parent_account->second), std::move(plan.role),
                                     require_full_sandbox);
      });
  plan.role.eab_hmac_key.Wipe();
  if (!account_role.ok()) {
    remove_created();
    return account_role.error();
  }
  auto net = roles::RoleProcess::Start(
      "net", {net_signer->second.fd(), parent_net->second.fd()},
      [&] {
        return roles::RunAccountNetRole(std::move(parent_net->second), std::move(net_signer->second),
                                 plan.net, require_full_sandbox);
      },
      net_run_as);
  net_signer->first.Close();
  net_signer->second.Close();
  parent_net->second.Close();
  parent_account->second.Close();
  if (!net.ok()) {
    remove_created();
    return net.error();
  }
  ipc::Channel& to_net = parent_net->first;
  ipc::Channel& to_account = parent_account->first;

  // What the CA said, checked by the decoder; then, only on success, the
  // account role stores the key and account.json.
  auto outcome = [&]() -> Result<AccountReport> {
    BH_ASSIGN(ipc::DecodedFrame reply, to_net.Receive(kCommandTimeout));
    AccountReport report;
    BH_ASSIGN(report.account, ipc::Reply<ipc::AccountResultMsg>(reply));
    if (!OutcomeFits(request.command, report.account.outcome)) {
      return Err("the net role reported an outcome that does not fit the command");
    }
    bool save_info = request.command != AccountCommand::kRollover;
    ipc::AccountCommitRequestMsg commit{save_info, report.account.url, report.account.status,
                                        report.account.contact};
    BH_ASSIGN(report.key,
              ipc::Call<ipc::AccountCommitResponseMsg>(to_account, commit, seconds(60)));
    report.key_path = account.KeyPath();
    return report;
  }();
  if (!outcome.ok()) {
    (void)ipc::Send(to_account, ipc::ShutdownMsg{});
  }
  std::string failures = WaitAll({&*net, &*account_role});
  if (!outcome.ok()) {
    remove_created();
    Error e = outcome.error();
    e.message += failures;
    return e;
  }
  return outcome;
}

RevokePlan PlanRevoke(const RevokeRequest& request, const CaConfig& ca,
                      const std::string& account_url, const std::string& key_path) {
  RevokePlan plan;
  roles::RevokeNetJob& job = plan.net;
  job.ca = ca;
  job.cert_der = request.cert_der;
  job.reason = request.reason;
  job.with_cert_key = !request.cert_key_path.empty();
  job.account_url = job.with_cert_key ? std::string() : account_url;
  roles::SignerJob& signer_job = plan.signer;
  signer_job.key_path = key_path;
  signer_job.policy.operation = acme::SignOperation::kRevoke;
  signer_job.policy.origin = acme::UrlOrigin(ca.directory_url);
  signer_job.policy.account_url = job.account_url;
  signer_job.policy.revoke_cert_der = job.cert_der;
  signer_job.policy.revoke_reason = job.reason;
  signer_job.policy.with_cert_key = job.with_cert_key;
  return plan;
}

Status RevokeInCompartments(const std::string& state_dir, const CaConfig& ca_arg,
                            const RevokeRequest& request, bool require_full_sandbox,
                            const std::optional<sandbox::RunAs>& run_as_arg) {
  BH_TRY(ReportSandboxGapsOnce(require_full_sandbox));
  CaConfig ca = ca_arg;
  BH_TRY(PinCaAddresses(&ca));
  BH_ASSIGN(std::optional<sandbox::RunAs> run_as, NetRunAs(ca, run_as_arg));
  std::string account_url;
  std::string key_path = request.cert_key_path;
  if (request.cert_key_path.empty()) {
    BH_ASSIGN(store::AccountStore account, AccountStoreFor(state_dir, ca));
    BH_ASSIGN(account_url, RegisteredAccountUrl(account, ca));
    key_path = account.KeyPath();
  }
  RevokePlan plan = PlanRevoke(request, ca, account_url, key_path);
  roles::RevokeNetJob& job = plan.net;
  roles::SignerJob& signer_job = plan.signer;
  BH_ASSIGN(auto net_signer, ipc::MakeChannelPair("signer", "net"));
  BH_ASSIGN(auto parent_net, ipc::MakeChannelPair("net", "parent"));
  ipc::Channel& signer_end = net_signer.first;
  ipc::Channel& net_to_signer = net_signer.second;
  ipc::Channel& net_to_parent = parent_net.second;
  // The signer reads its one key file before it switches user and enters
  // a sandbox without files or sockets.
  BH_ASSIGN(roles::RoleProcess signer,
            roles::RoleProcess::Start("signer", {signer_end.fd()}, [&] {
              return roles::RunSignerRole(std::move(signer_end), std::nullopt,
                                          std::move(signer_job), require_full_sandbox);
            }, run_as));
  BH_ASSIGN(roles::RoleProcess net,
            roles::RoleProcess::Start("net", {net_to_signer.fd(), net_to_parent.fd()}, [&] {
              return roles::RunRevokeNetRole(std::move(net_to_parent), std::move(net_to_signer), job,
                                      require_full_sandbox);
            }, run_as));
  signer_end.Close();
  net_to_signer.Close();
  net_to_parent.Close();
  auto reply = parent_net.first.Receive(kCommandTimeout);
  std::string failures = WaitAll({&net, &signer});
  Result<ipc::OkMsg> out =
      reply.ok() ? ipc::Reply<ipc::OkMsg>(*reply) : Result<ipc::OkMsg>(reply.error());
  if (!out.ok()) {
    Error e = out.error();
    e.message += failures;
    return e;
  }
  return OkStatus();
}

}  // namespace bulkhead::manager
