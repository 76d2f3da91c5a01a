// The store role: the only process that writes the certificate directory.
#include "roles/compartments.h"
#include "util/fs.h"

namespace bulkhead::roles {
namespace {

void Reply(ipc::Channel& channel, const Error& e) {
  (void)channel.Send(ipc::MessageType::kError, ipc::Encode(ipc::ErrorMsg{e.message, e.code}));
}

Result<int> Commit(const store::CertStore& certs, const std::string& name,
                   const nlohmann::json& settings, const ipc::CommitRequestMsg& req) {
  if (req.name != name) {
    return Err("store role: commit for \"{}\" but this role serves \"{}\"", req.name, name);
  }
  store::CertFiles files;
  files.key_from_pending = req.key_source == ipc::KeySource::kPending;
  files.cert_pem = req.cert_pem;
  files.chain_pem = req.chain_pem;
  files.fullchain_pem = req.fullchain_pem;
  BH_TRY(certs.SaveSettings(name, settings));
  BH_ASSIGN(int version, certs.Commit(name, files));
  (void)certs.ClearPending(name);
  return version;
}

}  // namespace

int RunStoreRole(ipc::Channel channel, const store::CertStore& certs, const std::string& name,
                 const nlohmann::json& settings, bool require_full) {
  std::string dir = certs.CertDir(name);
  if (!MakeDirs(dir, 0700).ok()) {
    return 1;
  }
  sandbox::Policy policy;
  policy.role = sandbox::Role::kStore;
  policy.write_dirs = {dir};
  policy.ipc_fd = channel.fd();
  if (!EnterSandbox(policy, require_full)) {
    return 1;
  }
  for (;;) {
    auto frame = channel.Receive(kRoleIdleTimeout);
    if (!frame.ok() || frame->type == ipc::MessageType::kShutdown) {
      return frame.ok() || !channel.broken() ? 0 : 1;
    }
    if (frame->type == ipc::MessageType::kSavePendingOrder) {
      auto req = ipc::DecodeSavePendingOrder(*frame);
      Status st = req.ok() ? certs.SavePendingOrder(name, req->order) : Status(req.error());
      if (st.ok()) {
        (void)channel.Send(ipc::MessageType::kOk, ipc::EncodeEmpty());
      } else {
        Reply(channel, st.error());
      }
      continue;
    }
    auto req = ipc::DecodeCommitRequest(*frame);
    if (!req.ok()) {
      Reply(channel, req.error());
      return 1;
    }
    auto version = Commit(certs, name, settings, *req);
    if (!version.ok()) {
      Reply(channel, version.error());
      continue;
    }
    (void)channel.Send(ipc::MessageType::kCommitResponse,
                       ipc::Encode(ipc::CommitResponseMsg{*version}));
  }
}

Status RemoteStore::SavePendingOrder(const nlohmann::json& order) {
  BH_ASSIGN(ipc::DecodedFrame reply,
            channel_.Call(ipc::MessageType::kSavePendingOrder,
                          ipc::Encode(ipc::SavePendingOrderMsg{order}), ipc::MessageType::kOk,
                          std::chrono::seconds(30)));
  (void)reply;
  return OkStatus();
}

Result<int> RemoteStore::Commit(const ipc::CommitRequestMsg& request) {
  BH_ASSIGN(ipc::DecodedFrame reply,
            channel_.Call(ipc::MessageType::kCommitRequest, ipc::Encode(request),
                          ipc::MessageType::kCommitResponse, std::chrono::seconds(60)));
  BH_ASSIGN(ipc::CommitResponseMsg resp, ipc::DecodeCommitResponse(reply));
  return resp.version;
}

}  // namespace bulkhead::roles
