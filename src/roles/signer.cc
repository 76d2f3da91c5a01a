// The signer role: holds the account key and turns requests into JWS.
#include <cstdio>
#include <utility>

#include "jose/signer.h"
#include "roles/compartments.h"
#include "util/fs.h"

// --- The signer as a process -------------------------------------------

namespace bulkhead::roles {
namespace {

// kMaxAccountKeyFile bounds the account key file (RSA-4096 PEM is ~3.3 KiB).
constexpr size_t kMaxAccountKeyFile = 64 * 1024;

// RemoteSigner forwards Sign to the signer role; it never sees the key.
class RemoteSigner final : public jose::Signer {
 public:
  RemoteSigner(ipc::Channel& channel, nlohmann::json jwk, std::string thumbprint)
      : channel_(channel), jwk_(std::move(jwk)), thumbprint_(std::move(thumbprint)) {}

  const nlohmann::json& Jwk() const override { return jwk_; }
  const std::string& Thumbprint() const override { return thumbprint_; }

  Result<nlohmann::json> Sign(const jose::SignRequest& request) override {
    ipc::SignRequestMsg msg{request.url, request.nonce, request.kid, request.payload};
    BH_ASSIGN(ipc::SignResponseMsg resp,
              ipc::Call<ipc::SignResponseMsg>(channel_, msg, std::chrono::seconds(30)));
    return resp.jws;
  }

 private:
  ipc::Channel& channel_;
  nlohmann::json jwk_;
  std::string thumbprint_;
};

void SendError(ipc::Channel& channel, const Error& e) {
  (void)ipc::Send(channel, ipc::ErrorMsg{e.message.substr(0, ipc::kMaxTextLen), e.code});
}

// kCsrWait bounds how long a finalize waits for the parent's copy of the
// CSR. The parent sends it before it relays the CSR to net, and net cannot
// finalize an order it has not created with that CSR, so it is normally
// already there.
constexpr std::chrono::seconds kCsrWait{30};

// SignerLoop serves net's requests under `job.policy`.
class SignerLoop {
 public:
  SignerLoop(jose::Signer& signer, ipc::Channel& net, std::optional<ipc::Channel>& parent, SignerJob& job)
      : signer_(signer), net_(net), parent_(parent), job_(job) {}

  // Run returns the role's exit status.
  int Run() {
    for (;;) {
      auto frame = net_.Receive(kRoleIdleTimeout);
      if (!frame.ok()) {
        // The peer closing the channel is the normal end of a run.
        return net_.broken() ? 1 : 0;
      }
      if (frame->type == ipc::MessageType::kShutdown) {
        return 0;
      }
      auto req = ipc::DecodeSignRequest(*frame);
      if (!req.ok()) {
        SendError(net_, req.error());
        return 1;
      }
      jose::SignRequest request{req->url, req->nonce, req->kid, req->payload};
      Status allowed = Allowed(request);
      if (!allowed.ok()) {
        // Said on stderr too: a refusal means net is broken or hostile, and
        // net might not pass the reason on.
        std::fprintf(stderr, "bulkhead: signer role: %s\n", allowed.error().message.c_str());
        SendError(net_, allowed.error());
        continue;
      }
      auto jws = signer_.Sign(request);
      if (!jws.ok()) {
        SendError(net_, jws.error());
        continue;
      }
      if (!ipc::Send(net_, ipc::SignResponseMsg{*jws}).ok()) {
        return 1;
      }
    }
  }

 private:
  // Allowed checks `request` against the policy; a refused request is
  // checked once more after the parent's CSR has arrived (it may be the
  // finalize), which is read at most once.
  Status Allowed(const jose::SignRequest& request) {
    Status st = acme::CheckSignRequest(job_.policy, request);
    if (st.ok() || !parent_ || !job_.policy.csr_der.empty()) {
      return st;
    }
    auto frame = parent_->Receive(kCsrWait);
    parent_.reset();
    if (!frame.ok()) {
      return st;
    }
    auto csr = ipc::DecodePrepareKeyResponse(*frame);
    if (!csr.ok()) {
      return st;
    }
    job_.policy.csr_der = std::move(csr->csr_der);
    return acme::CheckSignRequest(job_.policy, request);
  }

  jose::Signer& signer_;
  ipc::Channel& net_;
  std::optional<ipc::Channel>& parent_;
  SignerJob& job_;
};

}  // namespace

int RunSignerRole(ipc::Channel net, std::optional<ipc::Channel> parent, SignerJob job,
                  bool require_full) {
  // Open: the key is read once, before the sandbox forbids every file.
  auto pem = ReadSecretFileCapped(job.key_path, kMaxAccountKeyFile);
  Result<std::unique_ptr<jose::Signer>> signer =
      pem.ok() ? jose::NewLocalSigner(*pem) : Result<std::unique_ptr<jose::Signer>>(pem.error());
  if (pem.ok()) {
    pem->Wipe();
  }
  sandbox::Policy policy;
  policy.role = sandbox::Role::kSigner;
  policy.ipc_fd = net.fd();
  if (parent) {
    policy.extra_ipc_fds = {parent->fd()};
  }
  if (!EnterSandbox(policy, require_full)) {
    return 1;
  }
  if (signer.ok() && !job.expected_thumbprint.empty() &&
      (*signer)->Thumbprint() != job.expected_thumbprint) {
    // A swapped key would sign for someone else's account, or lock ours out.
    signer = ErrCode(ErrorCode::kFailure,
                     "the account key {} is not the key registered with the CA (account.json "
                     "records thumbprint {}, the key's is {}): account.key was replaced; restore "
                     "the registered key (see account.key.old-*), or run `bulkhead account register` "
                     "to register this key",
                     job.key_path, job.expected_thumbprint, (*signer)->Thumbprint());
  }
  if (!signer.ok()) {
    SendError(net, signer.error());
    return 1;
  }
  ipc::SignerHelloMsg hello{(*signer)->Jwk(), (*signer)->Thumbprint()};
  if (!ipc::Send(net, hello).ok()) {
    return 1;
  }
  return SignerLoop(**signer, net, parent, job).Run();
}

Result<std::unique_ptr<jose::Signer>> NewRemoteSigner(ipc::Channel& channel) {
  BH_ASSIGN(ipc::DecodedFrame frame, channel.Receive(std::chrono::seconds(30)));
  if (frame.type == ipc::MessageType::kError) {
    BH_ASSIGN(ipc::ErrorMsg e, ipc::DecodeError(frame));
    return Error{e.message, e.code};
  }
  BH_ASSIGN(ipc::SignerHelloMsg hello, ipc::DecodeSignerHello(frame));
  return std::unique_ptr<jose::Signer>(
      std::make_unique<RemoteSigner>(channel, std::move(hello.jwk), std::move(hello.thumbprint)));
}

}  // namespace bulkhead::roles
