// The net role: the only process that talks to the CA and parses what it
// sends. Every body enters CaNetPolicy before it reads a byte from a peer.
#include "roles/net.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <optional>

#include "acme/client.h"
#include "acme/issuance.h"
#include "renew/ari.h"
#include "roles/compartments.h"
#include "roles/hostile.h"
#include "util/log.h"

namespace bulkhead::roles {

using std::chrono::minutes;
using std::chrono::seconds;

acme::HttpOptions HttpOptionsFor(const CaConfig& ca) {
  acme::HttpOptions options;
  options.ca_bundle = ca.ca_bundle;
  options.request_timeout_ms = ca.request_timeout_ms;
  options.connect_timeout_ms = std::min(options.connect_timeout_ms, ca.request_timeout_ms);
  options.resolve = ca.pinned;
  return options;
}

uint16_t CaPort(const CaConfig& ca) {
  std::string origin = acme::UrlOrigin(ca.directory_url);
  size_t colon = origin.rfind(':');
  size_t bracket = origin.rfind(']');
  if (colon != std::string::npos && colon > 6 && (bracket == std::string::npos || colon > bracket)) {
    int port = std::atoi(origin.c_str() + colon + 1);
    if (port > 0 && port < 65536) {
      return static_cast<uint16_t>(port);
    }
  }
  return 443;
}

sandbox::Policy CaNetPolicy(const CaConfig& ca, int parent_fd) {
  sandbox::Policy policy;
  policy.role = sandbox::Role::kNet;
  // Only the TLS trust store: the CA's addresses were resolved before the
  // role started (PinCaAddresses), so resolver and NSS files stay closed.
  policy.read_paths = sandbox::TlsTrustReadPaths();
  if (!ca.ca_bundle.empty()) {
    policy.read_paths.push_back(ca.ca_bundle);
  }
  policy.connect_ports = {CaPort(ca)};
  policy.ipc_fd = parent_fd;
  return policy;
}

namespace {

void SendError(ipc::Channel& channel, const Error& e) {
  (void)ipc::Send(channel, ipc::ErrorMsg{e.message.substr(0, ipc::kMaxTextLen), e.code});
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

// --- issue and renew ----------------------------------------------------------

// CheckProfile fails unless the CA's directory offers `profile` (when one
// is asked for), listing the profiles it does offer.
Status CheckProfile(const acme::Directory& dir, const std::string& profile) {
  if (profile.empty() || (dir.profiles.is_object() && dir.profiles.contains(profile))) {
    return OkStatus();
  }
  std::string offered;
  if (dir.profiles.is_object()) {
    for (const auto& [name, text] : dir.profiles.items()) {
      offered += (offered.empty() ? "" : ", ") + name.substr(0, 64);
    }
  }
  return ErrCode(ErrorCode::kUsage, "the CA does not offer the profile \"{}\" (it offers: {})",
                 profile.substr(0, 64), offered.empty() ? "none" : offered);
}

// RunOrderInNet runs one order for `job` and has the store commit it.
Status RunOrderInNet(NetJob& job, ipc::Channel& parent, ipc::Channel& signer_ch,
                     ipc::Channel& challenge_ch, ipc::Channel& store_ch,
                     ipc::CommitResponseMsg* out_commit, acme::IssuedChain* out_chain) {
  BH_ASSIGN(std::unique_ptr<jose::Signer> signer, roles::NewRemoteSigner(signer_ch));
  BH_ASSIGN(std::unique_ptr<acme::HttpClient> http,
            acme::NewCurlHttpClient(HttpOptionsFor(job.ca)));
  acme::Client client(*http, *signer, job.ca.directory_url);
  client.SetDeadline(std::chrono::steady_clock::now() + kOrderTimeout - minutes(1));
  BH_TRY(client.Init());
  client.SetAccountUrl(job.account_url);
  BH_TRY(CheckProfile(client.directory(), job.order.profile));
  BH_ASSIGN(std::unique_ptr<challenge::Publisher> publisher,
            roles::NewRemotePublisher(challenge_ch, job.order.challenge_type,
                                      job.order.challenge_wait));
  roles::RemoteStore store(store_ch);
  // The keys role ran while this role connected and read the directory;
  // its CSR (relayed by the parent) is needed before the order exists, so
  // a key that cannot be made never leaves an order behind at the CA.
  BH_ASSIGN(job.key, roles::ReceivePreparedKey(parent));
  if (auto attack = roles::hostile::Requested("net"); attack) {
    roles::hostile::RunInNet(*attack, {&client, signer.get(), &store_ch, job.order.names, job.order.name});
  }

  acme::OrderHooks hooks;
  hooks.resume_url = job.resume_url;
  const OrderSpec& s = job.order;
  // The store records the order for resumption while the order goes on:
  // its reply is read just before the commit (the channel keeps frames in
  // order), so writing and syncing pending/order.json costs no wall time.
  bool save_outstanding = false;
  hooks.on_order = [&](const acme::Order& order) {
    nlohmann::json p = {{"url", order.url},
                        {"names", s.names},
                        {"server", s.server},
                        {"key_type", crypto::KeyTypeName(s.key_type)},
                        {"created", job.now}};
    Status st = ipc::Send(store_ch, ipc::SavePendingOrderMsg{p});
    if (!st.ok()) {
      LogWarn("{}: could not record the order for resumption: {}", s.name, st.error().message);
    }
    save_outstanding = st.ok();
    job.report.new_order = order.url != job.resume_url;
  };
  hooks.on_failed_authorization = [&](const acme::Identifier& id) {
    if (acme::ValidateName(id.value).ok() && job.report.failed_authz.size() < ipc::kMaxNames) {
      job.report.failed_authz.push_back(id.value);
    }
  };
  hooks.new_order.profile = s.profile;
  hooks.new_order.replaces = s.replaces;
  auto chain = acme::ObtainCertificate(client, *publisher, s.names,
                                       acme::FinalizeKey{job.key.csr_der, job.key.public_key_der},
                                       s.preferred_chain, hooks);
  publisher.reset();
  (void)ipc::Send(challenge_ch, ipc::ShutdownMsg{});
  (void)ipc::Send(signer_ch, ipc::ShutdownMsg{});
  if (!chain.ok()) {
    return chain.error();
  }
  if (save_outstanding) {
    BH_ASSIGN(ipc::DecodedFrame saved, store_ch.Receive(seconds(30)));
    if (saved.type == ipc::MessageType::kError) {
      BH_ASSIGN(ipc::ErrorMsg e, ipc::DecodeError(saved));
      LogWarn("{}: could not record the order for resumption: {}", s.name, e.message);
    } else if (saved.type != ipc::MessageType::kOk) {
      return Err("the store answered the order record with an unexpected message");
    }
  }
  ipc::CommitRequestMsg commit{s.name, chain->cert_pem, chain->chain_pem, chain->fullchain_pem,
                               job.key_source};
  auto version = store.Commit(commit);
  (void)ipc::Send(store_ch, ipc::ShutdownMsg{});
  if (!version.ok()) {
    return version.error().Wrap("storing the new certificate");
  }
  out_commit->version = *version;
  *out_chain = std::move(chain).value();
  return OkStatus();
}

}  // namespace

// RunNetRole is the net role's body: the only process that talks to the CA
// and parses what it sends.
int RunNetRole(ipc::Channel parent, ipc::Channel signer_ch, ipc::Channel challenge_ch,
               ipc::Channel store_ch, NetJob job) {
  if (!roles::EnterSandbox(CaNetPolicy(job.ca, parent.fd()), job.require_full)) {
    return 1;
  }
  ipc::CommitResponseMsg commit;
  acme::IssuedChain chain;
  Status st = RunOrderInNet(job, parent, signer_ch, challenge_ch, store_ch, &commit, &chain);
  // First what the order spent (for the ledger), then its outcome.
  (void)ipc::Send(parent, job.report);
  if (!st.ok()) {
    (void)ipc::Send(parent, ipc::ErrorMsg{st.error().message, st.error().code});
    return 0;  // A failed order is reported, not a crash of the role.
  }
  ipc::IssueResultMsg result;
  result.version = commit.version;
  result.subject = chain.leaf.subject;
  result.issuer = chain.leaf.issuer_cn.empty() ? chain.leaf.issuer : chain.leaf.issuer_cn;
  result.names = chain.leaf.names;
  result.serial = chain.leaf.serial_hex;
  result.not_before = chain.leaf.not_before;
  result.not_after = chain.leaf.not_after;
  return ipc::Send(parent, result).ok() ? 0 : 1;
}

// --- renewal information (ARI) ---------------------------------------------

// RunRenewalInfoRole is a net role for one unauthenticated GET of the CA's
// renewalInfo: it fetches the directory and the window, parses both
// strictly, and sends the parent only the checked numbers.
int RunRenewalInfoRole(ipc::Channel parent, const CaConfig& ca, const std::string& cert_id,
                       bool require_full) {
  if (!roles::EnterSandbox(CaNetPolicy(ca, parent.fd()), require_full)) {
    return 1;
  }
  auto run = [&]() -> Result<ipc::RenewalInfoMsg> {
    BH_ASSIGN(std::unique_ptr<acme::HttpClient> http, acme::NewCurlHttpClient(HttpOptionsFor(ca)));
    acme::ClientOptions options;
    options.max_transient_retries = 1;
    acme::Client client(*http, ca.directory_url, options);
    client.SetDeadline(std::chrono::steady_clock::now() + kRenewalInfoTimeout - seconds(10));
    BH_TRY(client.Init());
    ipc::RenewalInfoMsg msg;
    if (client.directory().renewal_info.empty()) {
      return msg;  // supported = false.
    }
    // The parse is the client's check, so an unparseable answer is fetched
    // again like a 5xx before it fails the look-up.
    std::optional<renew::RenewalWindow> parsed;
    auto parse = [&parsed](const acme::HttpResponse& r) -> Status {
      BH_ASSIGN(renew::RenewalWindow window, renew::ParseRenewalInfo(r.body));
      parsed = std::move(window);
      return OkStatus();
    };
    BH_ASSIGN(acme::HttpResponse resp, client.FetchRenewalInfo(cert_id, parse));
    const renew::RenewalWindow& w = *parsed;
    msg.supported = true;
    msg.start = w.start;
    msg.end = w.end;
    msg.retry_after = renew::ClampRetryAfter(resp.RetryAfterSeconds(std::time(nullptr)));
    msg.explanation = w.explanation_url.substr(0, ipc::kMaxUrlLen);
    return msg;
  };
  auto msg = run();
  if (!msg.ok()) {
    ipc::ErrorMsg e{msg.error().message.substr(0, ipc::kMaxTextLen), msg.error().code};
    return ipc::Send(parent, e).ok() ? 0 : 1;
  }
  return ipc::Send(parent, *msg).ok() ? 0 : 1;
}

// --- account commands ----------------------------------------------------------

namespace {

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
    BH_ASSIGN(ipc::SignResponseMsg resp,
              ipc::Call<ipc::SignResponseMsg>(signer_ch, ipc::EabRequestMsg{dir.new_account},
                                              seconds(30)));
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
      // The account role holds the new key and builds the inner payload
      // itself from the account URL; net only names the keyChange URL.
      auto sign_with_new_key = [&](const jose::SignRequest& inner) -> Result<nlohmann::json> {
        ipc::KeyChangeRequestMsg msg{inner.url, job.account_url};
        BH_ASSIGN(ipc::SignResponseMsg resp,
                  ipc::Call<ipc::SignResponseMsg>(signer_ch, msg, seconds(30)));
        return resp.jws;
      };
      BH_TRY(client.ChangeKey(sign_with_new_key));
      return ipc::AccountResultMsg{ipc::AccountOutcome::kKeyChanged, job.account_url, "", {}};
    }
    case AccountCommand::kRegister:
      break;
  }
  return Err("unhandled account command");
}

}  // namespace

// RunAccountNetRole is the net role of an account command: the only process
// that talks to the CA. It reports an AccountResult or an Error.
int RunAccountNetRole(ipc::Channel parent, ipc::Channel signer_ch, const AccountNetJob& job,
                      bool require_full) {
  if (!roles::EnterSandbox(CaNetPolicy(job.ca, parent.fd()), require_full)) {
    return 1;
  }
  auto result = RunAccountInNet(job, signer_ch);
  (void)ipc::Send(signer_ch, ipc::ShutdownMsg{});
  if (!result.ok()) {
    SendError(parent, result.error());
    return 0;  // A failure at the CA is reported, not a crash of the role.
  }
  return ipc::Send(parent, *result).ok() ? 0 : 1;
}

// --- revocation -------------------------------------------------------------

namespace {

Status RevokeInNet(const RevokeNetJob& job, ipc::Channel& signer_ch) {
  BH_ASSIGN(std::unique_ptr<jose::Signer> signer, roles::NewRemoteSigner(signer_ch));
  BH_ASSIGN(NetClient c, NewClient(job.ca, *signer));
  if (!job.with_cert_key) {
    c.client->SetAccountUrl(job.account_url);
  }
  return c.client->Revoke(job.cert_der, job.reason, job.with_cert_key ? signer.get() : nullptr);
}

}  // namespace

int RunRevokeNetRole(ipc::Channel parent, ipc::Channel signer_ch, const RevokeNetJob& job,
                     bool require_full) {
  if (!roles::EnterSandbox(CaNetPolicy(job.ca, parent.fd()), require_full)) {
    return 1;
  }
  Status st = RevokeInNet(job, signer_ch);
  (void)ipc::Send(signer_ch, ipc::ShutdownMsg{});
  if (!st.ok()) {
    SendError(parent, st.error());
    return 0;
  }
  return ipc::Send(parent, ipc::OkMsg{}).ok() ? 0 : 1;
}

}  // namespace bulkhead::roles
