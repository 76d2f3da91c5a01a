// The store role: the only process that writes the certificate directory.
#include "acme/types.h"
#include "crypto/x509.h"
#include "roles/compartments.h"
#include "util/fs.h"

namespace bulkhead::roles {
namespace {

void Reply(ipc::Channel& channel, const Error& e) {
  (void)ipc::Send(channel, ipc::ErrorMsg{e.message, e.code});
}

// CheckCertificate checks what net asks the store to commit, as hostile
// input: the PEM parses, the full chain starts with the leaf, the leaf
// carries the key the keys role made for this order (pending/pubkey.der)
// and exactly the run's names. Net parses the CA's answers, so a net role
// under an attacker's control must not be able to make anything else live.
Status CheckCertificate(const store::CertStore& certs, const StoreJob& job,
                        const ipc::CommitRequestMsg& req) {
  auto leaf = crypto::ParseCertPem(req.cert_pem);
  if (!leaf.ok()) {
    return leaf.error().Wrap("store role: the certificate to commit");
  }
  auto full = crypto::ParsePemChain(req.fullchain_pem);
  if (!full.ok()) {
    return full.error().Wrap("store role: the full chain to commit");
  }
  if (full->front().der != leaf->der) {
    return Err("store role: the full chain does not start with the certificate");
  }
  if (!req.chain_pem.empty()) {
    auto chain = crypto::ParsePemChain(req.chain_pem);
    if (!chain.ok()) {
      return chain.error().Wrap("store role: the chain to commit");
    }
  }
  auto expected_key = certs.ReadPendingPublicKey(job.name);
  if (!expected_key.ok()) {
    return expected_key.error().Wrap("store role: the public key of this order");
  }
  if (leaf->public_key_der != *expected_key) {
    return Err("store role: refusing a certificate for another key than the one made for "
               "this order (serial {})",
               leaf->serial_hex.substr(0, 64));
  }
  if (acme::CanonicalNameSet(leaf->names) != acme::CanonicalNameSet(job.names)) {
    return Err("store role: refusing a certificate for {} when this order is for {}",
               fmt::join(leaf->names, ", "), fmt::join(job.names, ", "));
  }
  return OkStatus();
}

Result<int> Commit(const store::CertStore& certs, const StoreJob& job,
                   const ipc::CommitRequestMsg& req) {
  const std::string& name = job.name;
  const nlohmann::json& settings = job.settings;
  if (req.name != name) {
    return Err("store role: commit for \"{}\" but this role serves \"{}\"", req.name, name);
  }
  BH_TRY(CheckCertificate(certs, job, req));
  store::CertFiles files;
  files.key_from_pending = req.key_source == ipc::KeySource::kPending;
  files.cert_pem = req.cert_pem;
  files.chain_pem = req.chain_pem;
  files.fullchain_pem = req.fullchain_pem;
  // A copy travels with the version, so a rollback shows what it was
  // issued with (the settings are ours, from the parent: dump cannot fail
  // on them, but a throw must not cross the role boundary).
  try {
    files.settings_json = settings.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return Err("store role: serialising settings for {}: {}", name, e.what());
  }
  BH_TRY(certs.SaveSettings(name, settings));
  BH_ASSIGN(int version, certs.Commit(name, files));
  (void)certs.ClearPending(name);
  return version;
}

}  // namespace

int RunStoreRole(ipc::Channel channel, const store::CertStore& certs, const StoreJob& job,
                 bool require_full) {
  const std::string& name = job.name;
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
        (void)ipc::Send(channel, ipc::OkMsg{});
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
    auto version = Commit(certs, job, *req);
    if (!version.ok()) {
      Reply(channel, version.error());
      continue;
    }
    (void)ipc::Send(channel, ipc::CommitResponseMsg{*version});
  }
}

Result<int> RemoteStore::Commit(const ipc::CommitRequestMsg& request) {
  BH_ASSIGN(ipc::CommitResponseMsg resp,
            ipc::Call<ipc::CommitResponseMsg>(channel_, request, std::chrono::seconds(60)));
  return resp.version;
}

}  // namespace bulkhead::roles
