// Hostile actions for tests; see hostile.h. Compiled with
// BULKHEAD_TEST_HOOKS=1 only in test builds; otherwise every entry point is
// inert and the attack code is not in the binary.
#include "roles/hostile.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "crypto/csr.h"
#include "crypto/key.h"
#include "ipc/messages.h"
#include "util/base64url.h"

namespace bulkhead::roles::hostile {

#if defined(BULKHEAD_TEST_HOOKS) && BULKHEAD_TEST_HOOKS

bool Enabled() { return true; }

std::optional<Request> Requested(std::string_view role) {
  const char* env = std::getenv("BULKHEAD_TEST_HOSTILE");
  if (env == nullptr) {
    return std::nullopt;
  }
  std::string_view spec(env);
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos || spec.substr(0, colon) != role) {
    return std::nullopt;
  }
  Request r;
  r.role = std::string(role);
  std::string_view rest = spec.substr(colon + 1);
  size_t next = rest.find(':');
  r.action = std::string(rest.substr(0, next));
  if (next != std::string_view::npos) {
    r.arg = std::string(rest.substr(next + 1));
  }
  return r;
}

void Finish(const Request& request, const Result<std::string>& outcome) {
  if (outcome.ok()) {
    std::fprintf(stderr, "bulkhead: hostile %s %s: SUCCEEDED: %s\n", request.role.c_str(),
                 request.action.c_str(), outcome->c_str());
  } else {
    std::fprintf(stderr, "bulkhead: hostile %s %s: blocked: %s\n", request.role.c_str(),
                 request.action.c_str(), outcome.error().message.c_str());
  }
  std::fflush(stderr);
  ::_exit(kHostileExit);
}

namespace {

// KillTarget signals the process named by `arg` ("parent" or a pid) with
// SIGKILL: a compromised role silencing the process that checks it.
Result<std::string> KillTarget(const std::string& arg) {
  pid_t pid = arg == "parent" ? ::getppid() : static_cast<pid_t>(std::atoi(arg.c_str()));
  if (pid <= 1) {
    return Err("no target process in '{}'", arg);
  }
  if (::kill(pid, SIGKILL) != 0) {
    return Err("kill({}): {}", pid, std::strerror(errno));
  }
  return fmt::format("sent SIGKILL to pid {}", pid);
}

// WriteOutside creates (or truncates) the file `path` and writes to it.
Result<std::string> WriteOutside(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Err("open({}, O_CREAT): {}", path, std::strerror(errno));
  }
  ssize_t n = ::write(fd, "hostile\n", 8);
  ::close(fd);
  if (n != 8) {
    return Err("write({}): short write", path);
  }
  return fmt::format("wrote {}", path);
}

}  // namespace

bool RunAfterSandbox(const Request& request) {
  if (request.action == "kill") {
    Finish(request, KillTarget(request.arg));
  }
  if (request.action == "write-outside") {
    Finish(request, WriteOutside(request.arg));
  }
  return false;
}

namespace {

// SignedAndSent describes an attack the CA accepted, or passes on the error
// that blocked it.
Result<std::string> Outcome(const Status& st, const std::string& what) {
  if (!st.ok()) {
    return st.error();
  }
  return what;
}

Result<std::string> NetAttack(const Request& r, const NetContext& net) {
  acme::Client& client = *net.client;
  if (r.action == "sign-keychange") {
    BH_ASSIGN(crypto::PrivateKey key, crypto::PrivateKey::Generate(crypto::KeyType::kEc256));
    BH_ASSIGN(std::unique_ptr<Signer> attacker, NewSignerFromKey(std::move(key)));
    return Outcome(client.ChangeKey(*attacker), "the account now belongs to the attacker's key");
  }
  if (r.action == "sign-deactivate") {
    auto acct = client.DeactivateAccount();
    return Outcome(acct.ok() ? OkStatus() : Status(acct.error()), "the account was deactivated");
  }
  if (r.action == "sign-contact") {
    auto acct = client.UpdateAccount({"mailto:attacker@example.net"});
    return Outcome(acct.ok() ? OkStatus() : Status(acct.error()), "the contact was changed");
  }
  if (r.action == "sign-revoke") {
    BH_ASSIGN(std::string der, Base64UrlDecode(r.arg));
    return Outcome(client.Revoke(der, 0, nullptr), "the certificate was revoked");
  }
  if (r.action == "sign-foreign-order") {
    auto order = client.NewOrder({acme::IdentifierFor(r.arg.empty() ? "evil.example.net" : r.arg)});
    return Outcome(order.ok() ? OkStatus() : Status(order.error()),
                   "an order for a foreign name was created");
  }
  if (r.action == "sign-finalize-csr") {
    std::vector<acme::Identifier> ids;
    for (const std::string& n : net.names) {
      ids.push_back(acme::IdentifierFor(n));
    }
    BH_ASSIGN(acme::Order order, client.NewOrder(ids));
    BH_ASSIGN(crypto::PrivateKey key, crypto::PrivateKey::Generate(crypto::KeyType::kEc256));
    BH_ASSIGN(std::string csr, crypto::MakeCsr(key, net.names));
    auto done = client.Finalize(order, csr);
    return Outcome(done.ok() ? OkStatus() : Status(done.error()),
                   "the order was finalized with the attacker's CSR");
  }
  if (r.action == "sign-inner-jws") {
    SignRequest inner{client.directory().key_change, "", "", "{}"};
    auto jws = net.signer->Sign(inner);
    return Outcome(jws.ok() ? OkStatus() : Status(jws.error()), "a JWS without a nonce was made");
  }
  if (r.action == "store-foreign-cert") {
    if (net.store == nullptr) {
      return Err("no store in this run");
    }
    ipc::CommitRequestMsg commit{net.cert_name, r.arg, "", r.arg, ipc::KeySource::kPending};
    BH_ASSIGN(ipc::DecodedFrame reply,
              net.store->Call(ipc::MessageType::kCommitRequest, ipc::Encode(commit),
                              ipc::MessageType::kCommitResponse, std::chrono::seconds(60)));
    BH_ASSIGN(ipc::CommitResponseMsg resp, ipc::DecodeCommitResponse(reply));
    return fmt::format("the store made the foreign certificate live as version {}",
                       resp.version);
  }
  return Err("unknown net action");
}

}  // namespace

bool RunInNet(const Request& request, const NetContext& net) {
  if (request.action.rfind("sign-", 0) != 0 && request.action.rfind("store-", 0) != 0) {
    return false;
  }
  Finish(request, NetAttack(request, net));
}

#else

bool Enabled() { return false; }
bool RunInNet(const Request&, const NetContext&) { return false; }
std::optional<Request> Requested(std::string_view) { return std::nullopt; }
void Finish(const Request&, const Result<std::string>&) { ::_exit(kHostileExit); }
bool RunAfterSandbox(const Request&) { return false; }

#endif

}  // namespace bulkhead::roles::hostile
