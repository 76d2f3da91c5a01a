// The challenge role: the only process that writes token files (or answers
// http-01 itself), and nothing else.
#include <map>

#include "roles/compartments.h"

namespace bulkhead::roles {
namespace {

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
    BH_ASSIGN(ipc::DecodedFrame reply,
              channel_.Call(ipc::MessageType::kPublishForRequest, ipc::Encode(msg),
                            ipc::MessageType::kOk, std::chrono::seconds(60)));
    (void)reply;
    return OkStatus();
  }

  Status WaitReady() override {
    // For http-01 the role runs the pre-flight check here (or answers at
    // once without it).
    BH_ASSIGN(ipc::DecodedFrame reply,
              channel_.Call(ipc::MessageType::kWaitReadyRequest, ipc::EncodeEmpty(),
                            ipc::MessageType::kOk, wait_ready_timeout_));
    (void)reply;
    return OkStatus();
  }

  Status Remove(const challenge::Challenge& c) override {
    // The role remembers what it published under the token.
    ipc::RemoveRequestMsg msg{c.token};
    BH_ASSIGN(ipc::DecodedFrame reply,
              channel_.Call(ipc::MessageType::kRemoveRequest, ipc::Encode(msg),
                            ipc::MessageType::kOk, std::chrono::seconds(60)));
    (void)reply;
    return OkStatus();
  }

  std::string Describe() const override {
    auto reply = channel_.Call(ipc::MessageType::kDescribeRequest, ipc::EncodeEmpty(),
                               ipc::MessageType::kDescribeResponse, std::chrono::seconds(30));
    if (!reply.ok()) {
      return "challenge role";
    }
    auto d = ipc::DecodeDescribeResponse(*reply);
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
    (void)channel.Send(ipc::MessageType::kOk, ipc::EncodeEmpty());
  } else {
    (void)channel.Send(ipc::MessageType::kError,
                       ipc::Encode(ipc::ErrorMsg{st.error().message, st.error().code}));
  }
}

}  // namespace

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
      case ipc::MessageType::kPublishRequest: {
        auto req = ipc::DecodePublishRequest(*frame);
        // Without an identifier (dns-01 refuses it; no pre-flight check).
        Reply(channel, req.ok() ? published.Publish(**publisher, "", req->token,
                                                    req->key_authorization)
                                : Status(req.error()));
        break;
      }
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
        (void)channel.Send(ipc::MessageType::kDescribeResponse,
                           ipc::Encode(ipc::DescribeResponseMsg{(*publisher)->Describe()}));
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
