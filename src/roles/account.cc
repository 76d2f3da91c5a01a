// The account role: the signer of the account commands. Like the signer of
// an order it holds the account key and only signs; unlike it, it may make a
// new key and store it, because a key the CA has not yet accepted must not
// leave the process that made it. Its sandbox may write the account
// directory and nothing else, and it has no sockets.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "jose/jwk.h"
#include "jose/jws.h"
#include "roles/compartments.h"
#include "store/account_store.h"
#include "util/fs.h"

namespace bulkhead::roles {
namespace {

// kMaxAccountKeyFile bounds account.key (RSA-4096 PEM is ~3.3 KiB).
constexpr size_t kMaxAccountKeyFile = 64 * 1024;

// kCommitWait bounds how long the role waits for the parent's verdict after
// net has finished: the parent answers as soon as net has reported.
constexpr std::chrono::minutes kCommitWait{2};

// HeldKey is one key with its public JWK and thumbprint.
struct HeldKey {
  crypto::PrivateKey key;
  nlohmann::json jwk;
  std::string thumbprint;
  Secret pem;  // Kept to store it (new key) or to back it up (rollover).
};

Result<HeldKey> Hold(crypto::PrivateKey key, Secret pem) {
  BH_ASSIGN(nlohmann::json jwk, jose::PublicJwk(key));
  BH_ASSIGN(std::string thumbprint, jose::Thumbprint(jwk));
  return HeldKey{std::move(key), std::move(jwk), std::move(thumbprint), std::move(pem)};
}

// AccountKeys is what the role holds: the key that signs ordinary requests
// and, for register/rollover, the key made for this run.
struct AccountKeys {
  std::optional<HeldKey> stored;  // account.key.
  std::optional<HeldKey> fresh;   // Made now; stored only on commit.
  HeldKey& signing() { return stored ? *stored : *fresh; }
};

Result<AccountKeys> LoadKeys(const store::AccountStore& store, const AccountRoleJob& job) {
  AccountKeys keys;
  if (job.mode != AccountKeyMode::kCreate) {
    BH_ASSIGN(Secret pem, ReadSecretFileCapped(store.KeyPath(), kMaxAccountKeyFile));
    auto key = crypto::PrivateKey::FromPem(pem.view());
    if (!key.ok()) {
      return key.error().Wrap("account key");
    }
    BH_ASSIGN(keys.stored, Hold(std::move(key).value(), std::move(pem)));
  }
  if (job.mode != AccountKeyMode::kExisting) {
    crypto::KeyType type = job.new_key_type.value_or(
        keys.stored ? keys.stored->key.type() : crypto::KeyType::kEc256);
    BH_ASSIGN(crypto::PrivateKey key, crypto::PrivateKey::Generate(type));
    BH_ASSIGN(Secret pem, key.ToPem());
    BH_ASSIGN(keys.fresh, Hold(std::move(key), std::move(pem)));
  }
  return keys;
}

// TakeOverFd moves `channel` onto descriptor number `fd`, which the caller
// has just closed: the sandbox allows socket calls on one descriptor number
// only (Policy::ipc_fd), and this role talks first to net, then to the
// parent. fcntl(F_DUPFD) returns the lowest free number >= fd, i.e. fd.
Result<ipc::Channel> TakeOverFd(ipc::Channel channel, int fd) {
  int moved = ::fcntl(channel.fd(), F_DUPFD_CLOEXEC, fd);
  if (moved != fd) {
    if (moved >= 0) {
      ::close(moved);
    }
    return Err("moving the channel to the parent onto descriptor {}", fd);
  }
  return ipc::Channel(ScopedFd(moved), channel.peer_name());
}

void SendError(ipc::Channel& channel, const Error& e) {
  (void)ipc::Send(channel, ipc::ErrorMsg{e.message.substr(0, ipc::kMaxTextLen), e.code});
}

// AccountSigner answers net's requests; it owns what the role holds.
class AccountSigner {
 public:
  AccountSigner(const store::AccountStore& store, const AccountRoleJob& job, AccountKeys keys)
      : store_(store), job_(job), keys_(std::move(keys)) {}

  // Serve answers net until it shuts the role down or goes away. Returns
  // false if net broke the protocol (the run must not commit).
  bool Serve(ipc::Channel& net) {
    HeldKey& k = keys_.signing();
    if (!ipc::Send(net, ipc::SignerHelloMsg{k.jwk, k.thumbprint}).ok()) {
      return false;
    }
    for (;;) {
      auto frame = net.Receive(kRoleIdleTimeout);
      if (!frame.ok()) {
        return !net.broken();
      }
      Result<nlohmann::json> jws = Err("unset");
      switch (frame->type) {
        case ipc::MessageType::kShutdown:
          return true;
        case ipc::MessageType::kSignRequest: {
          auto req = ipc::DecodeSignRequest(*frame);
          if (!req.ok()) {
            return Reject(net, req.error());
          }
          Status allowed =
              acme::CheckSignRequest(job_.policy, {req->url, req->nonce, req->kid, req->payload});
          if (!allowed.ok()) {
            std::fprintf(stderr, "bulkhead: account role: %s\n", allowed.error().message.c_str());
            jws = allowed.error();
            break;
          }
          jws = SignWith(k, req->url, req->nonce, req->kid, req->payload);
          break;
        }
        case ipc::MessageType::kKeyChangeRequest: {
          auto req = ipc::DecodeKeyChangeRequest(*frame);
          if (!req.ok()) {
            return Reject(net, req.error());
          }
          jws = KeyChange(*req);
          break;
        }
        case ipc::MessageType::kEabRequest: {
          auto req = ipc::DecodeEabRequest(*frame);
          if (!req.ok()) {
            return Reject(net, req.error());
          }
          jws = Eab(*req);
          break;
        }
        default:
          return Reject(net, Err("account role: unexpected {} message",
                                 ipc::MessageTypeName(frame->type)));
      }
      if (!jws.ok()) {
        SendError(net, jws.error());
        continue;
      }
      if (!ipc::Send(net, ipc::SignResponseMsg{*jws}).ok()) {
        return false;
      }
    }
  }

  // Commit stores what the CA accepted and describes the stored key.
  Result<ipc::AccountCommitResponseMsg> Commit(const ipc::AccountCommitRequestMsg& req) {
    if (job_.mode == AccountKeyMode::kCreate) {
      BH_TRY(store_.CreateKey(keys_.fresh->pem));
    } else if (job_.mode == AccountKeyMode::kRollover) {
      if (!next_written_) {
        return Err("account rollover: the CA was never asked to change the key");
      }
      Status st = store_.ReplaceKeyKeeping(keys_.fresh->pem, keys_.stored->pem);
      if (!st.ok()) {
        return st.error().Wrap(fmt::format("the CA now knows the new key, kept in {}", NextPath()));
      }
      ::unlink(NextPath().c_str());
      next_written_ = false;
    }
    const HeldKey& now = keys_.fresh ? *keys_.fresh : *keys_.stored;
    ipc::AccountCommitResponseMsg out{now.key.type(), now.thumbprint, ""};
    nlohmann::json info;
    if (req.save_info) {
      info = {{"url", req.url},       {"status", req.status}, {"contact", req.contact},
              {"server", job_.server}};
    } else {
      auto loaded = store_.LoadInfo();
      if (!loaded.ok()) {
        return out;  // Nothing recorded yet: nothing to bring up to date.
      }
      info = std::move(loaded).value();
    }
    info["key_type"] = crypto::KeyTypeName(now.key.type());
    info["thumbprint"] = now.thumbprint;
    Status saved = store_.SaveInfo(info);
    if (!saved.ok()) {
      out.warning = saved.error().message.substr(0, ipc::kMaxTextLen);
    }
    return out;
  }

  // Discard removes the recovery copy of a new key the CA did not accept.
  void Discard() {
    if (next_written_) {
      ::unlink(NextPath().c_str());
    }
  }

 private:
  // Reject ends serving after a malformed request (the peer is broken or
  // hostile), telling it why. Returns false for Serve.
  static bool Reject(ipc::Channel& net, const Error& e) {
    SendError(net, e);
    return false;
  }

  std::string NextPath() const { return store_.dir() + "/account.key.next"; }

  static Result<nlohmann::json> SignWith(const HeldKey& k, const std::string& url,
                                         const std::string& nonce, const std::string& kid,
                                         const std::string& payload) {
    nlohmann::json header = {{"url", url}};
    if (!nonce.empty()) {
      header["nonce"] = nonce;
    }
    // RFC 8555 6.2: exactly one of "kid" (existing account) or "jwk".
    if (!kid.empty()) {
      header["kid"] = kid;
    } else {
      header["jwk"] = k.jwk;
    }
    return jose::SignFlattened(k.key, std::move(header), payload);
  }

  // KeyChange signs the inner keyChange JWS with the new key. The new key
  // is first written to account.key.next (O_EXCL, 0400): from here on the
  // CA may switch, and a crash must not lose the only key it accepts.
  Result<nlohmann::json> KeyChange(const ipc::KeyChangeRequestMsg& req) {
    if (job_.mode != AccountKeyMode::kRollover || !keys_.fresh || !keys_.stored) {
      return Err("this run holds no new account key");
    }
    if (job_.account_url.empty() || req.account != job_.account_url) {
      return Err("keyChange asked for another account than {}", job_.account_url);
    }
    BH_TRY(acme::CheckKeyChangeInner(job_.policy, req.url, req.account));
    if (!next_written_) {
      Status st = CreateFileExclusive(NextPath(), keys_.fresh->pem.view(), 0400);
      if (!st.ok()) {
        return st.error().Wrap(
            "a previous rollover may have been interrupted; check `bulkhead account show`, then "
            "remove account.key.next");
      }
      next_written_ = true;
    }
    nlohmann::json payload = {{"account", req.account}, {"oldKey", keys_.stored->jwk}};
    std::string text;
    try {
      text = payload.dump();
    } catch (const nlohmann::json::exception& e) {
      return Err("keyChange payload: {}", e.what());
    }
    return SignWith(*keys_.fresh, req.url, /*nonce=*/"", /*kid=*/"", text);
  }

  Result<nlohmann::json> Eab(const ipc::EabRequestMsg& req) {
    if (job_.eab_kid.empty()) {
      return Err("no external account binding was given");
    }
    auto binding = jose::ExternalAccountBinding(keys_.signing().jwk, job_.eab_kid,
                                                job_.eab_hmac_key.view(), req.url);
    if (!binding.ok()) {
      return ErrCode(ErrorCode::kUsage, "--eab-hmac-key: {}", binding.error().message);
    }
    return binding;
  }

  const store::AccountStore& store_;
  const AccountRoleJob& job_;
  AccountKeys keys_;
  bool next_written_ = false;
};

}  // namespace

int RunAccountRole(ipc::Channel net, ipc::Channel parent, AccountRoleJob job, bool require_full) {
  store::AccountStore store(job.account_dir);
  // Open: read and make the keys before the sandbox; then nothing but the
  // account directory.
  auto keys = LoadKeys(store, job);
  if (!job.eab_kid.empty()) {
    // OpenSSL fetches the HMAC implementation on first use; do it now.
    (void)crypto::HmacSha256("warm-up", "warm-up");
  }
  sandbox::Policy policy;
  policy.role = sandbox::Role::kKeys;
  policy.write_dirs = {job.account_dir};
  policy.ipc_fd = net.fd();
  if (!EnterSandbox(policy, require_full)) {
    return 1;
  }
  if (!keys.ok()) {
    SendError(net, keys.error());
    return 1;
  }
  AccountSigner signer(store, job, std::move(keys).value());
  bool served = signer.Serve(net);
  int ipc_fd = net.fd();
  net.Close();
  auto moved = TakeOverFd(std::move(parent), ipc_fd);
  if (!served || !moved.ok()) {
    signer.Discard();
    return 1;
  }
  parent = std::move(moved).value();
  auto frame = parent.Receive(kCommitWait);
  if (!frame.ok() || frame->type != ipc::MessageType::kAccountCommitRequest) {
    signer.Discard();
    return 0;
  }
  auto req = ipc::DecodeAccountCommitRequest(*frame);
  if (!req.ok()) {
    signer.Discard();
    SendError(parent, req.error());
    return 1;
  }
  auto done = signer.Commit(*req);
  if (!done.ok()) {
    SendError(parent, done.error());
    return 0;  // Reported, not a crash.
  }
  return ipc::Send(parent, *done).ok() ? 0 : 1;
}

}  // namespace bulkhead::roles
