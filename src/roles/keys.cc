// The keys role: makes or reuses the certificate's private key and builds
// the CSR, or checks a CSR the user supplied.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

#include "acme/types.h"
#include "crypto/csr.h"
#include "roles/compartments.h"
#include "roles/keys.h"
#include "util/fs.h"
#include "util/log.h"

namespace bulkhead::roles {
namespace {

// FromUserCsr validates a user CSR; the user keeps its key, so no key PEM
// is returned.
Result<PreparedKey> FromUserCsr(const KeyRequest& request) {
  auto csr = crypto::ParseCsr(request.csr_pem);
  if (!csr.ok()) {
    return csr.error().Wrap("user CSR");
  }
  if (acme::CanonicalNameSet(csr->names) != acme::CanonicalNameSet(request.names)) {
    return ErrCode(ErrorCode::kUsage, "user CSR names ({}) differ from the requested names ({})",
                   fmt::join(csr->names, ", "), fmt::join(request.names, ", "));
  }
  PreparedKey out;
  out.csr_der = std::move(csr->der);
  out.public_key_der = std::move(csr->public_key_der);
  return out;
}

// ChooseKey returns the existing key when reuse is asked and one exists,
// otherwise a fresh key of the requested type.
Result<crypto::PrivateKey> ChooseKey(const KeyRequest& request) {
  if (!request.reuse || request.existing_pem.empty()) {
    return crypto::PrivateKey::Generate(request.type);
  }
  auto key = crypto::PrivateKey::FromPem(request.existing_pem.view());
  if (!key.ok()) {
    return key.error().Wrap("existing certificate key");
  }
  if (key->type() != request.type) {
    // Reuse wins: the point of reusing is a stable key (e.g. pinned), so a
    // changed default must not silently replace it.
    LogInfo("reusing the existing {} key although {} was requested",
            crypto::KeyTypeName(key->type()), crypto::KeyTypeName(request.type));
  }
  return key;
}

}  // namespace

Result<PreparedKey> PrepareKey(KeyRequest request) {
  if (request.names.empty()) {
    return Err("prepare key: no names");
  }
  if (!request.csr_pem.empty()) {
    return FromUserCsr(request);
  }
  BH_ASSIGN(crypto::PrivateKey key, ChooseKey(request));
  PreparedKey out;
  BH_ASSIGN(out.csr_der, crypto::MakeCsr(key, request.names));
  BH_ASSIGN(out.public_key_der, key.PublicKeyDer());
  BH_ASSIGN(out.key_pem, key.ToPem());
  return out;
}

// --- The keys role as a process -----------------------------------------

namespace {

Status PrepareInRole(ipc::Channel& channel, const store::CertStore& certs, const std::string& name,
                     KeyRequest request, KeyChoice choice) {
  std::string pending = certs.PendingDir(name);
  if (choice == KeyChoice::kPending) {
    BH_ASSIGN(request.existing_pem, certs.ReadPendingKey(name));
    request.reuse = true;
  } else {
    if (choice == KeyChoice::kNext) {
      auto next = certs.ReadNextKey(name);
      if (!next.ok()) {
        return next.error().Wrap("the pre-generated next key");
      }
      request.existing_pem = std::move(next).value();
      request.reuse = true;
    }
    // Not resuming: an older pending order must not be picked up later.
    std::string stale = pending + "/order.json";
    if (::unlink(stale.c_str()) != 0 && errno != ENOENT) {
      return Err("removing {}: {}", stale, std::strerror(errno));
    }
    if (choice == KeyChoice::kLive && request.csr_pem.empty()) {
      auto live = certs.ReadLiveKey(name);
      if (live.ok()) {
        request.existing_pem = std::move(live).value();
        request.reuse = true;
      } else if (live.error().code != ErrorCode::kNotFound) {
        return live.error();
      }
    }
  }
  BH_ASSIGN(PreparedKey key, PrepareKey(std::move(request)));
  if (!key.key_pem.empty() && choice != KeyChoice::kPending) {
    BH_TRY(certs.WritePendingKey(name, key.key_pem));
  }
  key.key_pem.Wipe();
  // What the store checks the CA's certificate against (it never reads
  // the private key).
  BH_TRY(certs.WritePendingPublicKey(name, key.public_key_der));
  return ipc::Send(channel, ipc::PrepareKeyResponseMsg{key.csr_der, key.public_key_der});
}

}  // namespace

int RunKeysRole(ipc::Channel channel, const store::CertStore& certs, const std::string& name,
                KeyRequest request, KeyChoice choice, bool require_full) {
  std::string pending = certs.PendingDir(name);
  if (!MakeDirs(pending, 0700).ok()) {
    return 1;
  }
  sandbox::Policy policy;
  policy.role = sandbox::Role::kKeys;
  policy.read_paths = {certs.CertDir(name)};
  policy.write_dirs = {pending};
  policy.ipc_fd = channel.fd();
  if (!EnterSandbox(policy, require_full)) {
    return 1;
  }
  Status st = PrepareInRole(channel, certs, name, std::move(request), choice);
  if (!st.ok()) {
    (void)ipc::Send(channel, ipc::ErrorMsg{st.error().message, st.error().code});
    return 1;
  }
  return 0;
}

int RunNextKeyRole(ipc::Channel channel, const store::CertStore& certs, const std::string& name,
                   crypto::KeyType type, bool require_full) {
  std::string next = certs.NextDir(name);
  if (!MakeDirs(next, 0755).ok()) {
    return 1;
  }
  sandbox::Policy policy;
  policy.role = sandbox::Role::kKeys;
  policy.write_dirs = {next};
  policy.ipc_fd = channel.fd();
  if (!EnterSandbox(policy, require_full)) {
    return 1;
  }
  auto run = [&]() -> Status {
    BH_ASSIGN(crypto::PrivateKey key, crypto::PrivateKey::Generate(type));
    BH_ASSIGN(Secret pem, key.ToPem());
    BH_ASSIGN(std::string public_pem, key.PublicKeyPem());
    Status stored = certs.WriteNextKey(name, pem, public_pem);
    pem.Wipe();
    return stored;
  };
  Status st = run();
  if (!st.ok()) {
    (void)ipc::Send(channel, ipc::ErrorMsg{st.error().message, st.error().code});
    return 1;
  }
  return ipc::Send(channel, ipc::OkMsg{}).ok() ? 0 : 1;
}

Result<PreparedKey> ReceivePreparedKey(ipc::Channel& channel) {
  BH_ASSIGN(ipc::DecodedFrame frame, channel.Receive(std::chrono::minutes(2)));
  if (frame.type == ipc::MessageType::kError) {
    BH_ASSIGN(ipc::ErrorMsg e, ipc::DecodeError(frame));
    return Error{e.message, e.code};
  }
  BH_ASSIGN(ipc::PrepareKeyResponseMsg msg, ipc::DecodePrepareKeyResponse(frame));
  PreparedKey out;
  out.csr_der = std::move(msg.csr_der);
  out.public_key_der = std::move(msg.public_key_der);
  return out;
}

}  // namespace bulkhead::roles
