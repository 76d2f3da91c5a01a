// Hostile actions for tests; see hostile.h. Compiled with
// BULKHEAD_TEST_HOOKS=1 only in test builds; otherwise every entry point is
// inert and the attack code is not in the binary.
#include "roles/hostile.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
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
#include "util/fs.h"

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

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

// Refused says whether `err` means the sandbox (Landlock, seccomp's errno
// rules, missing capabilities) or the kernel refused the attempt itself;
// any other failure (a refused connection, an unreachable port) means the
// attempt got through the sandbox.
bool Refused(int err) { return err == EACCES || err == EPERM; }

// Blocked is the outcome of an attempt the sandbox stopped.
Result<std::string> Blocked(std::string_view what, int err) {
  return Err("{}: {}", what, std::strerror(err));
}

// TargetPid resolves "parent" or a number.
Result<pid_t> TargetPid(const std::string& arg) {
  if (arg == "parent" || arg.empty()) {
    return ::getppid();
  }
  char* end = nullptr;
  long pid = std::strtol(arg.c_str(), &end, 10);
  if (end == arg.c_str() || *end != '\0' || pid <= 0) {
    return Err("hostile action: \"{}\" is not a pid or \"parent\"", arg);
  }
  return static_cast<pid_t>(pid);
}

// Target parses "ADDR:PORT" or "[ADDR6]:PORT" (numeric only: a compromised
// role has no resolver either).
struct Target {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_INET;
};

Result<Target> ParseTarget(const std::string& arg) {
  size_t colon = arg.rfind(':');
  if (colon == std::string::npos) {
    return Err("hostile action: \"{}\" is not HOST:PORT", arg);
  }
  std::string host = arg.substr(0, colon);
  std::string port = arg.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  char* end = nullptr;
  long number = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || number <= 0 || number > 65535) {
    return Err("hostile action: \"{}\": bad port", arg);
  }
  // inet_pton, not getaddrinfo: glibc's address sorting would open UDP
  // sockets of its own.
  Target t;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&t.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&t.addr);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(number));
    t.len = sizeof(*v4);
    t.family = AF_INET;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(number));
    t.len = sizeof(*v6);
    t.family = AF_INET6;
  } else {
    return Err("hostile action: \"{}\": not a numeric address", arg);
  }
  return t;
}

// Connect makes a socket of `type`/`protocol` and connects it to `arg`.
Result<std::string> Connect(const std::string& arg, int type, int protocol, const char* what) {
  BH_ASSIGN(Target t, ParseTarget(arg));
  ScopedFd fd(::socket(t.family, type | SOCK_CLOEXEC, protocol));
  if (!fd.valid()) {
    return Blocked(fmt::format("{} socket", what), errno);
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&t.addr), t.len) != 0) {
    int err = errno;
    if (Refused(err)) {
      return Blocked(fmt::format("{} connect to {}", what, arg), err);
    }
    return fmt::format("the sandbox let a {} connect to {} through ({})", what, arg,
                       std::strerror(err));
  }
  return fmt::format("{} connection to {} established", what, arg);
}

Result<std::string> OpenForReading(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Blocked(fmt::format("open {}", path), errno);
  }
  char buf[64];
  ssize_t got = ::read(fd.get(), buf, sizeof(buf));
  return fmt::format("opened {} and read {} bytes", path, got);
}

Result<std::string> CreateOutside(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    int err = errno;
    if (!Refused(err)) {
      return Err("open {} for writing: {} (not created)", path, std::strerror(err));
    }
    return Blocked(fmt::format("create {}", path), err);
  }
  ssize_t ignored = ::write(fd.get(), "hostile\n", 8);
  (void)ignored;
  return fmt::format("created {}", path);
}

Result<std::string> ReadProcMem(const std::string& arg) {
  BH_ASSIGN(pid_t pid, TargetPid(arg));
  // Opening /proc/PID/mem already needs the right to attach to PID.
  std::string path = fmt::format("/proc/{}/mem", pid);
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Blocked(fmt::format("open {}", path), errno);
  }
  return fmt::format("opened {} (the process's memory is readable)", path);
}

Result<std::string> Ptrace(const std::string& arg) {
  BH_ASSIGN(pid_t pid, TargetPid(arg));
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) != 0) {
    return Blocked(fmt::format("PTRACE_SEIZE {}", pid), errno);
  }
  (void)::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  return fmt::format("attached to process {}", pid);
}

Result<std::string> Kill(const std::string& arg) {
  BH_ASSIGN(pid_t pid, TargetPid(arg));
  if (::kill(pid, SIGTERM) != 0) {
    return Blocked(fmt::format("kill({}, SIGTERM)", pid), errno);
  }
  return fmt::format("sent SIGTERM to process {}", pid);
}

Result<std::string> UdpSend(const std::string& arg) {
  BH_ASSIGN(Target t, ParseTarget(arg));
  ScopedFd fd(::socket(t.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Blocked("UDP socket", errno);
  }
  static constexpr char kDatagram[] = "bulkhead hostile datagram";
  if (::sendto(fd.get(), kDatagram, sizeof(kDatagram) - 1, 0,
               reinterpret_cast<sockaddr*>(&t.addr), t.len) < 0) {
    int err = errno;
    if (Refused(err)) {
      return Blocked(fmt::format("sendto {}", arg), err);
    }
    return fmt::format("the sandbox let a datagram to {} through ({})", arg, std::strerror(err));
  }
  return fmt::format("sent a datagram to {}", arg);
}

// MakeSocket only creates a socket: having one at all is the breach.
Result<std::string> MakeSocket(int family, int type, int protocol, const char* what) {
  ScopedFd fd(::socket(family, type | SOCK_CLOEXEC, protocol));
  if (!fd.valid()) {
    return Blocked(fmt::format("{} socket", what), errno);
  }
  return fmt::format("created a {} socket", what);
}

}  // namespace

bool RunAfterSandbox(const Request& request) {
  const std::string& a = request.action;
  const std::string& arg = request.arg;
  Result<std::string> outcome = Err("unused");
  if (a == "open-account-key") {
    outcome = OpenForReading(arg);
  } else if (a == "write-outside") {
    outcome = CreateOutside(arg);
  } else if (a == "read-proc-mem") {
    outcome = ReadProcMem(arg);
  } else if (a == "ptrace") {
    outcome = Ptrace(arg);
  } else if (a == "kill") {
    outcome = Kill(arg);
  } else if (a == "tcp-connect") {
    outcome = Connect(arg, SOCK_STREAM, 0, "TCP");
  } else if (a == "mptcp-connect") {
    outcome = Connect(arg, SOCK_STREAM, IPPROTO_MPTCP, "MPTCP");
  } else if (a == "udp-send") {
    outcome = UdpSend(arg);
  } else if (a == "sctp-socket") {
    outcome = MakeSocket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, "SCTP");
  } else if (a == "raw-socket") {
    outcome = MakeSocket(AF_INET, SOCK_RAW, IPPROTO_UDP, "raw IPv4");
  } else if (a == "packet-socket") {
    outcome = MakeSocket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL), "packet");
  } else if (a == "report") {
    // Not an attack: proves that this build has test hooks and that the
    // role reached this point inside its sandbox.
    outcome = fmt::format("test hooks are built in; the {} role is in its sandbox", request.role);
  } else {
    return false;
  }
  Finish(request, outcome);
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
    BH_ASSIGN(std::unique_ptr<jose::Signer> attacker, jose::NewSignerFromKey(std::move(key)));
    return Outcome(
        client.ChangeKey([&](const jose::SignRequest& inner) { return attacker->Sign(inner); }),
        "the account now belongs to the attacker's key");
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
    jose::SignRequest inner{client.directory().key_change, "", "", "{}"};
    auto jws = net.signer->Sign(inner);
    return Outcome(jws.ok() ? OkStatus() : Status(jws.error()), "a JWS without a nonce was made");
  }
  if (r.action == "store-foreign-cert") {
    if (net.store == nullptr) {
      return Err("no store in this run");
    }
    ipc::CommitRequestMsg commit{net.cert_name, r.arg, "", r.arg, ipc::KeySource::kPending};
    BH_ASSIGN(ipc::CommitResponseMsg resp,
              ipc::Call<ipc::CommitResponseMsg>(*net.store, commit, std::chrono::seconds(60)));
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
