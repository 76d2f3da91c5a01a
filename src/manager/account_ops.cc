#include "manager/account_ops.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "acme/client.h"
#include "acme/http.h"
#include "ipc/channel.h"
#include "manager/compartments.h"
#include "roles/compartments.h"
#include "roles/hostile.h"
#include "roles/process.h"
#include "sandbox/sandbox.h"
#include "store/account_store.h"
#include "util/base64url.h"
#include "util/fs.h"

namespace bulkhead::manager {
namespace {

using std::chrono::seconds;

// kCommandTimeout bounds one account command or revocation as the parent
// sees it; every request inside has its own, shorter bound.
constexpr std::chrono::minutes kCommandTimeout{5};

void SendError(ipc::Channel& channel, const Error& e) {
  (void)channel.Send(ipc::MessageType::kError,
                     ipc::Encode(ipc::ErrorMsg{e.message.substr(0, ipc::kMaxTextLen), e.code}));
}

// NewClient builds the transport and client of a net role and reads the
// CA's directory.
struct NetClient {
  std::unique_ptr<acme::HttpClient> http;
  std::unique_ptr<acme::Client> client;
};

Result<NetClient> NewClient(const CaConfig& ca, jose::Signer& signer) {
  NetClient c;
  BH_ASSIGN(c.http, acme::NewCurlHttpClient(HttpOptionsFor(ca)));
  c.client = std::make_unique<acme::Client>(*c.http, signer, ca.directory_url);
  c.client->SetDeadline(std::chrono::steady_clock::now() + kCommandTimeout - seconds(20));
  BH_TRY(c.client->Init());
  return c;
}

// --- account commands: the net role ------------------------------------------

// AccountNetJob is what the net role of an account command inherits; it
// holds no key and no EAB secret.
struct AccountNetJob {
  CaConfig ca;
  AccountCommand command = AccountCommand::kShow;
  std::string account_url;  // show/rollover/deactivate.
  bool key_existed = false;  // register.
  std::vector<std::string> contact;
  bool agree_tos = false;
  bool eab = false;
};

// KeyChangeSigner stands for the new key in Client::ChangeKey: the account
// role builds and signs the keyChange payload itself.
class KeyChangeSigner final : public jose::Signer {
 public:
  KeyChangeSigner(ipc::Channel& channel, std::string account_url)
      : channel_(channel), account_url_(std::move(account_url)) {}
  const nlohmann::json& Jwk() const override { return jwk_; }
  const std::string& Thumbprint() const override { return thumbprint_; }
  Result<nlohmann::json> Sign(const jose::SignRequest& request) override {
    ipc::KeyChangeRequestMsg msg{request.url, account_url_};
    BH_ASSIGN(ipc::DecodedFrame reply,
              channel_.Call(ipc::MessageType::kKeyChangeRequest, ipc::Encode(msg),
                            ipc::MessageType::kSignResponse, seconds(30)));
    BH_ASSIGN(ipc::SignResponseMsg resp, ipc::DecodeSignResponse(reply));
    return resp.jws;
  }

 private:
  ipc::Channel& channel_;
  std::string account_url_;
  nlohmann::json jwk_ = nlohmann::json::object();
  std::string thumbprint_;
};

ipc::AccountResultMsg ResultOf(ipc::AccountOutcome outcome, const acme::Account& a) {
  return ipc::AccountResultMsg{outcome, a.url, a.status, a.contact};
}

Result<ipc::AccountResultMsg> Register(const AccountNetJob& job, acme::Client& client,
                                       ipc::Channel& signer_ch) {
  const acme::Directory& dir = client.directory();
  if (job.key_existed) {
    auto found = client.FindAccount();
    if (found.ok()) {
      acme::Account acct = std::move(found).value();
      if (!job.contact.empty() && acct.contact != job.contact) {
        BH_ASSIGN(acct, client.UpdateAccount(job.contact));
      }
      return ResultOf(ipc::AccountOutcome::kExists, acct);
    }
    if (found.error().code != ErrorCode::kNotFound) {
      return found.error();
    }
  }
  if (!dir.terms_of_service.empty() && !job.agree_tos) {
    return ErrCode(ErrorCode::kUsage,
                   "the CA requires agreeing to its terms of service at {}; read them and add "
                   "--agree-tos",
                   dir.terms_of_service);
  }
  nlohmann::json eab;
  if (job.eab) {
    // The account role holds the HMAC key and computes the binding.
    auto reply = signer_ch.Call(ipc::MessageType::kEabRequest,
                                ipc::Encode(ipc::EabRequestMsg{dir.new_account}),
                                ipc::MessageType::kSignResponse, seconds(30));
    if (!reply.ok()) {
      return reply.error();
    }
    BH_ASSIGN(ipc::SignResponseMsg resp, ipc::DecodeSignResponse(*reply));
    eab = std::move(resp.jws);
  } else if (dir.external_account_required) {
    return ErrCode(ErrorCode::kUsage,
                   "the CA requires external account binding: give --eab-kid and --eab-hmac-key "
                   "from your CA account");
  }
  bool created = false;
  BH_ASSIGN(acme::Account acct, client.NewAccount(job.contact, job.agree_tos, eab, &created));
  return ResultOf(created ? ipc::AccountOutcome::kCreated : ipc::AccountOutcome::kFound, acct);
}

Result<ipc::AccountResultMsg> RunAccountInNet(const AccountNetJob& job, ipc::Channel& signer_ch) {
  BH_ASSIGN(std::unique_ptr<jose::Signer> signer, roles::NewRemoteSigner(signer_ch));
  BH_ASSIGN(NetClient c, NewClient(job.ca, *signer));
  acme::Client& client = *c.client;
  if (job.command == AccountCommand::kRegister) {
    return Register(job, client, signer_ch);
  }
  client.SetAccountUrl(job.account_url);
  if (auto attack = roles::hostile::Requested("net"); attack) {
    roles::hostile::RunInNet(*attack, {&client, signer.get(), nullptr, {}, ""});
  }
  switch (job.command) {
    case AccountCommand::kShow: {
      BH_ASSIGN(acme::Account acct, client.FetchAccount());
      return ResultOf(ipc::AccountOutcome::kFetched, acct);
    }
    case AccountCommand::kDeactivate: {
      BH_ASSIGN(acme::Account acct, client.DeactivateAccount());
      return ResultOf(ipc::AccountOutcome::kDeactivated, acct);
    }
    case AccountCommand::kRollover: {
      KeyChangeSigner new_key(signer_ch, job.account_url);
      BH_TRY(client.ChangeKey(new_key));
      return ipc::AccountResultMsg{ipc::AccountOutcome::kKeyChanged, job.account_url, "", {}};
    }
    case AccountCommand::kRegister:
      break;
  }
  return Err("unhandled account command");
}

// RunAccountNetRole is the net role of an account command: the only process
// that talks to the CA. It reports an AccountResult or an Error.
int RunAccountNetRole(ipc::Channel parent, ipc::Channel signer_ch, const AccountNetJob& job,
                      bool require_full) {
  if (!roles::EnterSandbox(CaNetPolicy(job.ca, parent.fd()), require_full)) {
    return 1;
  }
  auto result = RunAccountInNet(job, signer_ch);
  (void)signer_ch.Send(ipc::MessageType::kShutdown, ipc::EncodeEmpty());
  if (!result.ok()) {
    SendError(parent, result.error());
    return 0;  // A failure at the CA is reported, not a crash of the role.
  }
  return parent.Send(ipc::MessageType::kAccountResult, ipc::Encode(*result)).ok() ? 0 : 1;
}

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

// AccountSignPolicy is what the account role may sign for `request`: only
// the command the user gave (acme/sign_policy.h).
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

}  // namespace

Result<AccountReport> RunAccountCommand(const std::string& state_dir, const CaConfig& ca_arg,
                                        AccountRequest request, bool require_full_sandbox,
                                        const std::optional<sandbox::RunAs>& run_as_arg) {
  BH_TRY(ReportSandboxGapsOnce(require_full_sandbox));
  // The net role cannot resolve names: the CA's addresses, now.
  CaConfig ca = ca_arg;
  BH_TRY(PinCaAddresses(&ca));
  BH_ASSIGN(store::AccountStore account, AccountStoreFor(state_dir, ca));
  BH_ASSIGN(std::optional<sandbox::RunAs> net_run_as, NetRunAs(ca, run_as_arg));

  AccountNetJob net_job;
  net_job.ca = ca;
  net_job.command = request.command;
  net_job.contact = request.contact;
  net_job.agree_tos = request.agree_tos;
  roles::AccountRoleJob role_job;
  role_job.account_dir = account.dir();
  role_job.server = ca.directory_url;
  std::vector<std::string> created_dirs;
  if (request.command == AccountCommand::kRegister) {
    net_job.key_existed = account.HasKey();
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
    // The account role may write only this directory, so it must exist
    // before the role enters its sandbox; it is removed again if nothing
    // was registered.
    created_dirs = MissingDirs(account.dir());
    BH_TRY(MakeDirs(account.dir(), 0700));
  } else {
    BH_ASSIGN(net_job.account_url, RegisteredAccountUrl(account, ca));
    role_job.account_url = net_job.account_url;
    if (request.command == AccountCommand::kRollover) {
      role_job.mode = roles::AccountKeyMode::kRollover;
      role_job.new_key_type = request.new_key_type;
    }
  }
  request.eab_hmac_key.Wipe();
  role_job.policy = AccountSignPolicy(request, ca, net_job.account_url);

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
                                     std::move(parent_account->second), std::move(role_job),
                                     require_full_sandbox);
      });
  role_job.eab_hmac_key.Wipe();
  if (!account_role.ok()) {
    remove_created();
    return account_role.error();
  }
  auto net = roles::RoleProcess::Start(
      "net", {net_signer->second.fd(), parent_net->second.fd()},
      [&] {
        return RunAccountNetRole(std::move(parent_net->second), std::move(net_signer->second),
                                 net_job, require_full_sandbox);
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
    if (reply.type == ipc::MessageType::kError) {
      BH_ASSIGN(ipc::ErrorMsg e, ipc::DecodeError(reply));
      return Error{e.message, e.code};
    }
    AccountReport report;
    BH_ASSIGN(report.account, ipc::DecodeAccountResult(reply));
    if (!OutcomeFits(request.command, report.account.outcome)) {
      return Err("the net role reported an outcome that does not fit the command");
    }
    bool save_info = request.command != AccountCommand::kRollover;
    ipc::AccountCommitRequestMsg commit{save_info, report.account.url, report.account.status,
                                        report.account.contact};
    BH_ASSIGN(ipc::DecodedFrame done,
              to_account.Call(ipc::MessageType::kAccountCommitRequest, ipc::Encode(commit),
                              ipc::MessageType::kAccountCommitResponse, seconds(60)));
    BH_ASSIGN(report.key, ipc::DecodeAccountCommitResponse(done));
    report.key_path = account.KeyPath();
    return report;
  }();
  if (!outcome.ok()) {
    (void)to_account.Send(ipc::MessageType::kShutdown, ipc::EncodeEmpty());
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

// --- revocation -------------------------------------------------------------

namespace {

struct RevokeNetJob {
  CaConfig ca;
  std::string account_url;  // "" with the certificate's key.
  std::string cert_der;
  int reason = 0;
  bool with_cert_key = false;
};

Status RevokeInNet(const RevokeNetJob& job, ipc::Channel& signer_ch) {
  BH_ASSIGN(std::unique_ptr<jose::Signer> signer, roles::NewRemoteSigner(signer_ch));
  BH_ASSIGN(NetClient c, NewClient(job.ca, *signer));
  if (!job.with_cert_key) {
    c.client->SetAccountUrl(job.account_url);
  }
  return c.client->Revoke(job.cert_der, job.reason, job.with_cert_key ? signer.get() : nullptr);
}

int RunRevokeNetRole(ipc::Channel parent, ipc::Channel signer_ch, const RevokeNetJob& job,
                     bool require_full) {
  if (!roles::EnterSandbox(CaNetPolicy(job.ca, parent.fd()), require_full)) {
    return 1;
  }
  Status st = RevokeInNet(job, signer_ch);
  (void)signer_ch.Send(ipc::MessageType::kShutdown, ipc::EncodeEmpty());
  if (!st.ok()) {
    SendError(parent, st.error());
    return 0;
  }
  return parent.Send(ipc::MessageType::kOk, ipc::EncodeEmpty()).ok() ? 0 : 1;
}

}  // namespace

Status RevokeInCompartments(const std::string& state_dir, const CaConfig& ca_arg,
                            const RevokeRequest& request, bool require_full_sandbox,
                            const std::optional<sandbox::RunAs>& run_as_arg) {
  BH_TRY(ReportSandboxGapsOnce(require_full_sandbox));
  CaConfig ca = ca_arg;
  BH_TRY(PinCaAddresses(&ca));
  BH_ASSIGN(std::optional<sandbox::RunAs> run_as, NetRunAs(ca, run_as_arg));
  RevokeNetJob job;
  job.ca = ca;
  job.cert_der = request.cert_der;
  job.reason = request.reason;
  job.with_cert_key = !request.cert_key_path.empty();
  std::string key_path = request.cert_key_path;
  if (!job.with_cert_key) {
    BH_ASSIGN(store::AccountStore account, AccountStoreFor(state_dir, ca));
    BH_ASSIGN(job.account_url, RegisteredAccountUrl(account, ca));
    key_path = account.KeyPath();
  }
  roles::SignerJob signer_job;
  signer_job.key_path = key_path;
  signer_job.policy.operation = acme::SignOperation::kRevoke;
  signer_job.policy.origin = acme::UrlOrigin(ca.directory_url);
  signer_job.policy.account_url = job.account_url;
  signer_job.policy.revoke_cert_der = job.cert_der;
  signer_job.policy.revoke_reason = job.reason;
  signer_job.policy.with_cert_key = job.with_cert_key;
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
              return RunRevokeNetRole(std::move(net_to_parent), std::move(net_to_signer), job,
                                      require_full_sandbox);
            }, run_as));
  signer_end.Close();
  net_to_signer.Close();
  net_to_parent.Close();
  auto reply = parent_net.first.Receive(kCommandTimeout);
  std::string failures = WaitAll({&net, &signer});
  Status out = OkStatus();
  if (!reply.ok()) {
    out = reply.error();
  } else if (reply->type == ipc::MessageType::kError) {
    BH_ASSIGN(ipc::ErrorMsg e, ipc::DecodeError(*reply));
    out = Error{e.message, e.code};
  } else {
    out = ipc::DecodeEmpty(*reply, ipc::MessageType::kOk);
  }
  if (!out.ok()) {
    Error e = out.error();
    e.message += failures;
    return e;
  }
  return OkStatus();
}

}  // namespace bulkhead::manager
