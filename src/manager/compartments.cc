#include "manager/compartments.h"

#include <sys/stat.h>

#include <ctime>

#include "acme/issuance.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "roles/compartments.h"
#include "roles/process.h"
#include "sandbox/sandbox.h"
#include "util/fs.h"
#include "util/log.h"

namespace bulkhead::manager {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// kOrderTimeout bounds one whole order as seen from the parent: every wait
// inside is bounded too, this is the last line of defence against a hang.
constexpr minutes kOrderTimeout{20};

// CaPort returns the TCP port of the CA's directory URL (443 by default),
// the only port the net role may connect to.
uint16_t CaPort(const std::string& url) {
  std::string origin = acme::UrlOrigin(url);
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

// kStaleTokenAge: token files of this account older than this are left
// over from a killed run (no order lives that long), so the next run's
// challenge role removes them.
constexpr int64_t kStaleTokenAgeSeconds = 2 * 60 * 60;

// StandalonePort extracts the port of "ADDR:PORT" for the listener rule.
uint16_t StandalonePort(const std::string& addr) {
  size_t colon = addr.rfind(':');
  int port = colon == std::string::npos ? 0 : std::atoi(addr.c_str() + colon + 1);
  return port > 0 && port < 65536 ? static_cast<uint16_t>(port) : 0;
}

// NetJob is everything the net role needs, inherited through fork().
struct NetJob {
  CaConfig ca;
  std::string account_url;
  CertSettings settings;
  roles::PreparedKey key;
  ipc::KeySource key_source = ipc::KeySource::kPending;
  std::string resume_url;
  int64_t now = 0;
  bool require_full = false;
};

Status RunOrderInNet(NetJob& job, ipc::Channel& signer_ch, ipc::Channel& challenge_ch,
                     ipc::Channel& store_ch, ipc::CommitResponseMsg* out_commit,
                     acme::IssuedChain* out_chain) {
  BH_ASSIGN(std::unique_ptr<roles::Signer> signer, roles::NewRemoteSigner(signer_ch));
  BH_ASSIGN(std::unique_ptr<acme::HttpClient> http,
            acme::NewCurlHttpClient(HttpOptionsFor(job.ca)));
  acme::Client client(*http, *signer, job.ca.directory_url);
  client.SetDeadline(std::chrono::steady_clock::now() + kOrderTimeout - minutes(1));
  BH_TRY(client.Init());
  client.SetAccountUrl(job.account_url);
  BH_ASSIGN(std::unique_ptr<challenge::Publisher> publisher,
            roles::NewRemotePublisher(challenge_ch));
  roles::RemoteStore store(store_ch);

  acme::OrderHooks hooks;
  hooks.resume_url = job.resume_url;
  const CertSettings& s = job.settings;
  hooks.on_order = [&](const acme::Order& order) {
    nlohmann::json p = {{"url", order.url},
                        {"names", s.names},
                        {"server", s.server},
                        {"key_type", crypto::KeyTypeName(s.key_type)},
                        {"created", job.now}};
    Status st = store.SavePendingOrder(p);
    if (!st.ok()) {
      LogWarn("{}: could not record the order for resumption: {}", s.name, st.error().message);
    }
  };
  auto chain = acme::ObtainCertificate(client, *publisher, s.names, job.key, s.preferred_chain,
                                       hooks);
  publisher.reset();
  (void)challenge_ch.Send(ipc::MessageType::kShutdown, ipc::EncodeEmpty());
  (void)signer_ch.Send(ipc::MessageType::kShutdown, ipc::EncodeEmpty());
  if (!chain.ok()) {
    return chain.error();
  }
  ipc::CommitRequestMsg commit{s.name, chain->cert_pem, chain->chain_pem, chain->fullchain_pem,
                               job.key_source};
  auto version = store.Commit(commit);
  (void)store_ch.Send(ipc::MessageType::kShutdown, ipc::EncodeEmpty());
  if (!version.ok()) {
    return version.error().Wrap("storing the new certificate");
  }
  out_commit->version = *version;
  *out_chain = std::move(chain).value();
  return OkStatus();
}

// RunNetRole is the net role's body: the only process that talks to the CA
// and parses what it sends.
int RunNetRole(ipc::Channel parent, ipc::Channel signer_ch, ipc::Channel challenge_ch,
               ipc::Channel store_ch, NetJob job) {
  sandbox::Policy policy;
  policy.role = sandbox::Role::kNet;
  policy.read_paths = sandbox::NetSystemReadPaths();
  if (!job.ca.ca_bundle.empty()) {
    policy.read_paths.push_back(job.ca.ca_bundle);
  }
  policy.connect_ports = {CaPort(job.ca.directory_url)};
  policy.ipc_fd = parent.fd();
  if (!roles::EnterSandbox(policy, job.require_full)) {
    return 1;
  }
  ipc::CommitResponseMsg commit;
  acme::IssuedChain chain;
  Status st = RunOrderInNet(job, signer_ch, challenge_ch, store_ch, &commit, &chain);
  if (!st.ok()) {
    (void)parent.Send(ipc::MessageType::kError,
                      ipc::Encode(ipc::ErrorMsg{st.error().message, st.error().code}));
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
  return parent.Send(ipc::MessageType::kIssueResult, ipc::Encode(result)).ok() ? 0 : 1;
}

bool PendingUsable(const store::CertStore& certs, const CertSettings& s, int64_t now,
                   std::string* out_url) {
  constexpr int64_t kMaxPendingAge = 7 * 86400;
  auto p = certs.LoadPendingOrder(s.name);
  struct stat st;
  std::string key = certs.PendingDir(s.name) + "/privkey.pem";
  if (!p.ok() || !s.csr_file.empty() || ::stat(key.c_str(), &st) != 0) {
    return false;
  }
  bool usable = p->value("server", "") == s.server &&
                p->value("names", std::vector<std::string>{}) == s.names &&
                p->value("key_type", "") == crypto::KeyTypeName(s.key_type) &&
                now - p->value("created", int64_t{0}) < kMaxPendingAge && p->contains("url") &&
                (*p)["url"].is_string();
  if (usable) {
    *out_url = (*p)["url"].get<std::string>();
  }
  return usable;
}

// Drop closes the parent's copy of a channel end that belongs to a child.
void Drop(ipc::Channel& channel) { channel = ipc::Channel(ScopedFd(), channel.peer_name()); }

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

Result<IssueOutcome> IssueInCompartments(const std::string& state_dir, const CaConfig& ca,
                                         const store::CertStore& certs,
                                         const CertSettings& settings, bool fresh_key,
                                         bool require_full_sandbox) {
  BH_TRY(ReportSandboxGapsOnce(require_full_sandbox));
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

  NetJob job;
  job.ca = ca;
  job.account_url = info["url"].get<std::string>();
  job.settings = settings;
  job.now = static_cast<int64_t>(std::time(nullptr));
  job.require_full = require_full_sandbox;

  // 1. The keys role: CSR out, key left in pending/ for the store.
  roles::KeyRequest key_request;
  key_request.names = settings.names;
  key_request.type = settings.key_type;
  roles::KeyChoice choice = settings.reuse_key && !fresh_key ? roles::KeyChoice::kLive
                                                             : roles::KeyChoice::kFresh;
  if (PendingUsable(certs, settings, job.now, &job.resume_url)) {
    choice = roles::KeyChoice::kPending;
  }
  if (!settings.csr_file.empty()) {
    BH_ASSIGN(key_request.csr_pem, ReadFileCapped(settings.csr_file, 64 * 1024));
    job.key_source = ipc::KeySource::kNone;
  }
  {
    BH_ASSIGN(auto keys_pair, ipc::MakeChannelPair("parent", "keys"));
    // Plain references: lambdas may not capture structured bindings in C++20.
    ipc::Channel& to_keys = keys_pair.first;
    ipc::Channel& keys_end = keys_pair.second;
    BH_ASSIGN(roles::RoleProcess keys,
              roles::RoleProcess::Start("keys", {keys_end.fd()}, [&] {
                return roles::RunKeysRole(std::move(keys_end), certs, name,
                                          std::move(key_request), choice, require_full_sandbox);
              }));
    Drop(keys_end);
    auto key = roles::ReceivePreparedKey(to_keys);
    Status waited = keys.Wait(std::chrono::seconds(30));
    if (!key.ok()) {
      return key.error().Wrap(fmt::format("{}: preparing the key", name));
    }
    BH_TRY(waited);
    job.key = std::move(key).value();
  }

  // 2. The roles of the order itself.
  BH_ASSIGN(auto net_signer, ipc::MakeChannelPair("signer", "net"));
  BH_ASSIGN(auto net_challenge, ipc::MakeChannelPair("challenge", "net"));
  BH_ASSIGN(auto net_store, ipc::MakeChannelPair("store", "net"));
  BH_ASSIGN(auto parent_net, ipc::MakeChannelPair("net", "parent"));
  CertSettings saved = settings;
  saved.revoked_serial.clear();
  saved.revoked_key_compromise = false;
  nlohmann::json settings_json = saved.ToJson();

  sandbox::Policy challenge_policy;
  challenge_policy.role = sandbox::Role::kChallenge;
  std::string token_dir;
  if (settings.method == ChallengeMethod::kStandalone) {
    challenge_policy.bind_ports = {StandalonePort(settings.challenge_target)};
  } else {
    token_dir = settings.method == ChallengeMethod::kWebroot
                    ? settings.challenge_target + "/.well-known/acme-challenge"
                    : settings.challenge_target;
    challenge_policy.write_dirs = {token_dir};
  }

  Roles r;
  std::string key_path = account.KeyPath();
  std::string thumbprint = info.value("thumbprint", "");
  BH_ASSIGN(r.signer, roles::RoleProcess::Start("signer", {net_signer.first.fd()}, [&] {
              return roles::RunSignerRole(std::move(net_signer.first), key_path,
                                          require_full_sandbox);
            }));
  BH_ASSIGN(r.challenge, roles::RoleProcess::Start("challenge", {net_challenge.first.fd()}, [&] {
              if (settings.method == ChallengeMethod::kWebroot) {
                // Created before the sandbox, which only grants this directory.
                (void)MakeDirs(token_dir, 0755);
              }
              return roles::RunChallengeRole(
                  std::move(net_challenge.first), challenge_policy, require_full_sandbox, [&] {
                    if (!token_dir.empty() && !thumbprint.empty()) {
                      auto swept =
                          challenge::SweepStaleTokens(token_dir, thumbprint, kStaleTokenAgeSeconds);
                      if (!swept.ok()) {
                        LogWarn("{}", swept.error().message);
                      }
                    }
                    switch (settings.method) {
                      case ChallengeMethod::kWebroot:
                        return challenge::NewDirectoryPublisher(settings.challenge_target, true);
                      case ChallengeMethod::kChallengeDir:
                        return challenge::NewDirectoryPublisher(settings.challenge_target, false);
                      case ChallengeMethod::kStandalone:
                        break;
                    }
                    return challenge::NewStandalonePublisher(settings.challenge_target);
                  });
            }));
  BH_ASSIGN(r.store, roles::RoleProcess::Start("store", {net_store.first.fd()}, [&] {
              return roles::RunStoreRole(std::move(net_store.first), certs, name, settings_json,
                                         require_full_sandbox);
            }));
  BH_ASSIGN(r.net,
            roles::RoleProcess::Start(
                "net",
                {net_signer.second.fd(), net_challenge.second.fd(), net_store.second.fd(),
                 parent_net.second.fd()},
                [&] {
                  return RunNetRole(std::move(parent_net.second), std::move(net_signer.second),
                                    std::move(net_challenge.second), std::move(net_store.second),
                                    std::move(job));
                }));
  // The parent keeps only its own end to the net role.
  for (auto* pair : {&net_signer, &net_challenge, &net_store}) {
    Drop(pair->first);
    Drop(pair->second);
  }
  Drop(parent_net.second);
  ipc::Channel to_net = std::move(parent_net.first);

  auto reply = to_net.Receive(kOrderTimeout);
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

}  // namespace bulkhead::manager
