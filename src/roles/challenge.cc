// The challenge role: the only process that writes token files (or answers
// http-01 itself), and nothing else.
#include <algorithm>
#include <cstdlib>
#include <map>

#include "dns/query.h"
#include "roles/compartments.h"

namespace bulkhead::roles {
namespace {

// StandalonePort extracts the port of "ADDR:PORT" for the listener rule.
uint16_t StandalonePort(const std::string& addr) {
  size_t colon = addr.rfind(':');
  int port = colon == std::string::npos ? 0 : std::atoi(addr.c_str() + colon + 1);
  return port > 0 && port < 65536 ? static_cast<uint16_t>(port) : 0;
}

// AddDnsRules lets the dns-01 challenge role do what its method needs:
// write the drop directory; TCP connect (UDP is not limited by Landlock) to
// port 53 (authoritative servers, system resolvers), to the --dns-resolver
// port and to the RFC 2136 server's port; read /etc/resolv.conf when no
// resolver is given.
void AddDnsRules(const ChallengeAccess& s, sandbox::Policy* p) {
  p->udp = true;
  p->connect_ports = {53};
  auto add_port = [&](const std::string& addr) {
    auto server = dns::ParseServer(addr);
    if (server.ok() && server->port != 53) {
      p->connect_ports.push_back(server->port);
    }
  };
  if (s.dns_resolver.empty()) {
    p->read_paths.push_back("/etc/resolv.conf");
  } else {
    add_port(s.dns_resolver);
  }
  if (s.kind == ChallengeAccess::Kind::kDnsRfc2136) {
    add_port(s.target);
  }
  if (s.kind == ChallengeAccess::Kind::kDnsDrop) {
    p->write_dirs = {s.target};
  }
}

// AddPreflightRules lets the http-01 challenge role fetch its own tokens the
// way the CA will (challenge/preflight.h): TCP connect to the pre-flight
// port, to 80 and 443 (redirects the CA follows; https redirects are common)
// and to the resolver's port (53 for the system resolver: TCP after a
// truncated answer); read the resolver, NSS and TLS configuration, and the
// libraries glibc loads lazily for NSS (as the net role does).
void AddPreflightRules(const ChallengeAccess& s, sandbox::Policy* p) {
  p->udp = true;
  uint16_t dns_port = 53;
  if (!s.preflight_resolver.empty()) {
    auto server = dns::ParseServer(s.preflight_resolver);
    if (server.ok()) {
      dns_port = server->port;
    }
  }
  for (uint16_t port : {static_cast<uint16_t>(s.preflight_port), uint16_t{80}, uint16_t{443},
                        dns_port}) {
    if (std::find(p->connect_ports.begin(), p->connect_ports.end(), port) ==
        p->connect_ports.end()) {
      p->connect_ports.push_back(port);
    }
  }
  for (std::string& path : sandbox::NetSystemReadPaths()) {
    p->read_paths.push_back(std::move(path));
  }
  for (const char* dir : {"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"}) {
    p->read_paths.emplace_back(dir);
  }
}

bool IsDns(ChallengeAccess::Kind kind) {
  return kind == ChallengeAccess::Kind::kDnsDrop || kind == ChallengeAccess::Kind::kDnsRfc2136 ||
         kind == ChallengeAccess::Kind::kDnsHook;
}


// RemotePublisher forwards to the challenge role process.
class RemotePublisher final : public challenge::Publisher {
 public:
  RemotePublisher(ipc::Channel& channel, std::string challenge_type,
                  std::chrono::seconds wait_ready_timeout)
      : channel_(channel),
        challenge_type_(std::move(challenge_type)),
        wait_ready_timeout_(wait_ready_timeout) {}

  std::string_view ChallengeType() const override { return challenge_type_; }

  Status Publish(const challenge::Challenge& c) override {
    // The role knows its type; the message carries the rest. http-01 needs
    // the identifier too: the pre-flight check fetches the token at it
    // (challenge/preflight.h).
    ipc::PublishForRequestMsg msg{c.identifier, c.token, c.key_authorization};
    return ipc::CallOk(channel_, msg, std::chrono::seconds(60));
  }

  Status WaitReady() override {
    // For http-01 the role runs the pre-flight check here (or answers at
    // once without it).
    return ipc::CallOk(channel_, ipc::WaitReadyRequestMsg{}, wait_ready_timeout_);
  }

  Status Remove(const challenge::Challenge& c) override {
    // The role remembers what it published under the token.
    ipc::RemoveRequestMsg msg{c.token};
    return ipc::CallOk(channel_, msg, std::chrono::seconds(60));
  }

  std::string Describe() const override {
    auto d = ipc::Call<ipc::DescribeResponseMsg>(channel_, ipc::DescribeRequestMsg{},
                                                 std::chrono::seconds(30));
    return d.ok() ? d->text : "challenge role";
  }

 private:
  ipc::Channel& channel_;
  std::string challenge_type_;
  std::chrono::seconds wait_ready_timeout_;
};

// PublishedChallenges is what the role published, by token, so a
// RemoveRequest (which carries only the token) removes the whole challenge.
class PublishedChallenges {
 public:
  explicit PublishedChallenges(std::string_view type) : type_(type) {}

  // Publish publishes {type, identifier, token, key authorization} and
  // returns the publisher's error.
  Status Publish(challenge::Publisher& publisher, std::string identifier, std::string token,
                 std::string key_authorization) {
    challenge::Challenge c{type_, std::move(identifier), std::move(token),
                           std::move(key_authorization)};
    BH_TRY(publisher.Publish(c));
    std::string key = c.token;
    by_token_[key] = std::move(c);
    return OkStatus();
  }

  // Remove removes the challenge published under `token` (a token never
  // published goes to the publisher as is: not an error by its contract).
  Status Remove(challenge::Publisher& publisher, const std::string& token) {
    auto it = by_token_.find(token);
    challenge::Challenge c =
        it != by_token_.end() ? std::move(it->second) : challenge::Challenge{type_, "", token, ""};
    if (it != by_token_.end()) {
      by_token_.erase(it);
    }
    return publisher.Remove(c);
  }

 private:
  std::string type_;
  std::map<std::string, challenge::Challenge> by_token_;
};

void Reply(ipc::Channel& channel, const Status& st) {
  if (st.ok()) {
    (void)ipc::Send(channel, ipc::OkMsg{});
  } else {
    (void)ipc::Send(channel, ipc::ErrorMsg{st.error().message, st.error().code});
  }
}

}  // namespace

sandbox::Policy ChallengePolicy(const ChallengeAccess& access) {
  sandbox::Policy p;
  p.role = sandbox::Role::kChallenge;
  if (access.kind == ChallengeAccess::Kind::kStandalone) {
    p.bind_ports = {StandalonePort(access.target)};
  } else if (IsDns(access.kind)) {
    AddDnsRules(access, &p);
  } else {
    p.write_dirs = {access.target};
  }
  if (!IsDns(access.kind) && access.preflight) {
    AddPreflightRules(access, &p);
  }
  return p;
}

int RunChallengeRole(ipc::Channel channel, const sandbox::Policy& policy, bool require_full,
                     const std::function<Result<std::unique_ptr<challenge::Publisher>>()>& make) {
  sandbox::Policy p = policy;
  p.ipc_fd = channel.fd();
  if (!EnterSandbox(p, require_full)) {
    return 1;
  }
  auto publisher = make();
  if (!publisher.ok()) {
    Reply(channel, publisher.error());
    return 1;
  }
  // The first message tells the net role the publisher is ready (or why not).
  Reply(channel, OkStatus());
  PublishedChallenges published((*publisher)->ChallengeType());
  for (;;) {
    auto frame = channel.Receive(kRoleIdleTimeout);
    if (!frame.ok() || frame->type == ipc::MessageType::kShutdown) {
      publisher->reset();  // Removes every token still published.
      return frame.ok() || !channel.broken() ? 0 : 1;
    }
    switch (frame->type) {
      case ipc::MessageType::kPublishForRequest: {
        auto req = ipc::DecodePublishForRequest(*frame);
        Reply(channel, req.ok() ? published.Publish(**publisher, req->identifier, req->token,
                                                    req->key_authorization)
                                : Status(req.error()));
        break;
      }
      case ipc::MessageType::kWaitReadyRequest: {
        Status empty = ipc::DecodeEmpty(*frame, ipc::MessageType::kWaitReadyRequest);
        Reply(channel, empty.ok() ? (*publisher)->WaitReady() : empty);
        break;
      }
      case ipc::MessageType::kRemoveRequest: {
        auto req = ipc::DecodeRemoveRequest(*frame);
        Reply(channel,
              req.ok() ? published.Remove(**publisher, req->token) : Status(req.error()));
        break;
      }
      case ipc::MessageType::kDescribeRequest:
        (void)ipc::Send(channel, ipc::DescribeResponseMsg{(*publisher)->Describe()});
        break;
      default:
        Reply(channel, Err("challenge role: unexpected {} message",
                           ipc::MessageTypeName(frame->type)));
        publisher->reset();
        return 1;
    }
  }
}

Result<std::unique_ptr<challenge::Publisher>> NewRemotePublisher(
    ipc::Channel& channel, const std::string& challenge_type,
    std::chrono::seconds wait_ready_timeout) {
  BH_ASSIGN(ipc::DecodedFrame ready, channel.Receive(std::chrono::seconds(30)));
  if (ready.type == ipc::MessageType::kError) {
    BH_ASSIGN(ipc::ErrorMsg e, ipc::DecodeError(ready));
    return Error{e.message, e.code};
  }
  BH_TRY(ipc::DecodeEmpty(ready, ipc::MessageType::kOk));
  return std::unique_ptr<challenge::Publisher>(
      std::make_unique<RemotePublisher>(channel, challenge_type, wait_ready_timeout));
}

}  // namespace bulkhead::roles
