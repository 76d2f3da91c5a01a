#include "ipc/channel.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "ipc/messages.h"

namespace bulkhead::ipc {
namespace {

using std::chrono::milliseconds;

// kGenerous is a timeout that only matters if the code under test hangs.
constexpr milliseconds kGenerous{10000};

std::pair<Channel, Channel> Pair() {
  auto pair = MakeChannelPair("net", "signer");
  EXPECT_TRUE(pair.ok()) << pair.error().message;
  return std::move(pair).value();
}

void WriteRaw(int fd, const std::string& bytes) {
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

TEST(ChannelTest, PairNamesThePeers) {
  auto [net, signer] = Pair();
  EXPECT_EQ(net.peer_name(), "signer");
  EXPECT_EQ(signer.peer_name(), "net");
}

TEST(ChannelTest, CallAndResponseAcrossThreads) {
  auto [net, signer] = Pair();
  std::thread server([&signer] {
    for (;;) {
      auto frame = signer.Receive(kGenerous);
      ASSERT_TRUE(frame.ok()) << frame.error().message;
      if (frame->type == MessageType::kShutdown) {
        return;
      }
      auto req = DecodeSignRequest(*frame);
      ASSERT_TRUE(req.ok()) << req.error().message;
      if (req->url == "https://ca/fail") {
        ASSERT_TRUE(signer.Send(MessageType::kError,
                                Encode(ErrorMsg{"no key loaded", ErrorCode::kNotFound}))
                        .ok());
        continue;
      }
      SignResponseMsg resp{nlohmann::json{
          {"protected", "p"}, {"payload", req->payload}, {"signature", "s"}}};
      ASSERT_TRUE(signer.Send(MessageType::kSignResponse, Encode(resp)).ok());
    }
  });

  SignRequestMsg req{"https://ca/new-order", "n1", "https://ca/acct/1", "{}"};
  auto reply = net.Call(MessageType::kSignRequest, Encode(req), MessageType::kSignResponse,
                        kGenerous);
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  auto resp = DecodeSignResponse(*reply);
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->jws["payload"], "{}");

  // A payload bigger than a socket buffer exercises partial reads and writes.
  req.payload = std::string(kMaxSignPayloadLen, 'z');
  auto big = net.Call(MessageType::kSignRequest, Encode(req), MessageType::kSignResponse,
                      kGenerous);
  ASSERT_TRUE(big.ok()) << big.error().message;
  auto big_resp = DecodeSignResponse(*big);
  ASSERT_TRUE(big_resp.ok()) << big_resp.error().message;
  EXPECT_EQ(big_resp->jws["payload"], req.payload);

  // An Error reply becomes an Error naming the peer, with its code.
  req = SignRequestMsg{"https://ca/fail", "n2", "", ""};
  auto failed = net.Call(MessageType::kSignRequest, Encode(req), MessageType::kSignResponse,
                         kGenerous);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "signer: no key loaded");
  EXPECT_EQ(failed.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(net.broken());

  ASSERT_TRUE(net.Send(MessageType::kShutdown, EncodeEmpty()).ok());
  server.join();
}

TEST(ChannelTest, UnexpectedReplyTypeIsAnError) {
  auto [net, store] = Pair();
  std::thread server([&store] {
    auto frame = store.Receive(kGenerous);
    ASSERT_TRUE(frame.ok()) << frame.error().message;
    ASSERT_TRUE(store.Send(MessageType::kOk, EncodeEmpty()).ok());
  });
  auto reply = net.Call(MessageType::kDescribeRequest, EncodeEmpty(),
                        MessageType::kDescribeResponse, kGenerous);
  server.join();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().message,
            "peer signer answered DescribeRequest with Ok, expected DescribeResponse");
}

TEST(ChannelTest, TypedSendAndCallUseTheStructsType) {
  auto [net, signer] = Pair();
  std::thread server([&signer] {
    auto first = signer.Receive(kGenerous);
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto req = Decode<SignRequestMsg>(*first);
    ASSERT_TRUE(req.ok()) << req.error().message;
    SignResponseMsg resp{nlohmann::json{
        {"protected", "p"}, {"payload", req->payload}, {"signature", "s"}}};
    ASSERT_TRUE(Send(signer, resp).ok());
    auto second = signer.Receive(kGenerous);
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->type, MessageType::kWaitReadyRequest);
    ASSERT_TRUE(Send(signer, ErrorMsg{"not ready", ErrorCode::kTransient}).ok());
    auto third = signer.Receive(kGenerous);
    ASSERT_TRUE(third.ok()) << third.error().message;
    ASSERT_TRUE(Decode<ShutdownMsg>(*third).ok());
  });
  auto resp = Call<SignResponseMsg>(net, SignRequestMsg{"https://ca/x", "n", "", "{}"},
                                    kGenerous);
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->jws["payload"], "{}");
  // A kError reply is reported exactly as Channel::Call reports it.
  Status ready = CallOk(net, WaitReadyRequestMsg{}, kGenerous);
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().message, "signer: not ready");
  EXPECT_EQ(ready.error().code, ErrorCode::kTransient);
  ASSERT_TRUE(Send(net, ShutdownMsg{}).ok());
  server.join();
}

TEST(ChannelTest, TimeoutNamesThePeerAndBreaksTheChannelAfterCall) {
  auto [net, signer] = Pair();
  // The signer end stays open but never answers.
  auto received = net.Receive(milliseconds(20));
  ASSERT_FALSE(received.ok());
  EXPECT_NE(received.error().message.find("timed out after 20 ms waiting for peer signer"),
            std::string::npos)
      << received.error().message;
  // A timeout between frames leaves the channel usable...
  EXPECT_FALSE(net.broken());

  auto reply = net.Call(MessageType::kDescribeRequest, EncodeEmpty(),
                        MessageType::kDescribeResponse, milliseconds(20));
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.error().message.find("DescribeRequest: timed out"), std::string::npos)
      << reply.error().message;
  EXPECT_NE(reply.error().message.find("peer signer"), std::string::npos);
  // ...but a timed-out Call does not: its reply could arrive late.
  EXPECT_TRUE(net.broken());
  Status again = net.Send(MessageType::kOk, EncodeEmpty());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("unusable"), std::string::npos) << again.error().message;
}

TEST(ChannelTest, PeerClosedIsAClearError) {
  auto [net, signer] = Pair();
  std::thread peer([moved = std::move(signer)]() mutable {
    auto frame = moved.Receive(kGenerous);
    ASSERT_TRUE(frame.ok()) << frame.error().message;
    // Destroying the Channel closes the socket without replying.
  });
  auto reply = net.Call(MessageType::kRemoveRequest, Encode(RemoveRequestMsg{"tok"}),
                        MessageType::kOk, kGenerous);
  peer.join();
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().message, "RemoveRequest: peer signer closed the channel");

  Status send = net.Send(MessageType::kOk, EncodeEmpty());
  ASSERT_FALSE(send.ok());
  EXPECT_NE(send.error().message.find("peer signer closed the channel"), std::string::npos)
      << send.error().message;
}

TEST(ChannelTest, WhatAPeerSentBeforeClosingOutlivesAFailedSend) {
  // A role that fails early reports why and exits; the parent may only
  // then try to send it something. The report must still be readable.
  auto [parent, net] = Pair();
  {
    Channel gone = std::move(net);
    ASSERT_TRUE(gone.Send(MessageType::kError, Encode(ErrorMsg{"no such profile",
                                                                ErrorCode::kUsage}))
                    .ok());
  }
  Status send = parent.Send(MessageType::kOk, EncodeEmpty());
  ASSERT_FALSE(send.ok());
  EXPECT_FALSE(parent.broken());
  auto frame = parent.Receive(kGenerous);
  ASSERT_TRUE(frame.ok()) << frame.error().message;
  auto e = DecodeError(*frame);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->message, "no such profile");
  EXPECT_EQ(e->code, ErrorCode::kUsage);
  EXPECT_EQ(parent.Receive(kGenerous).error().message, "peer signer closed the channel");
}

TEST(ChannelTest, ReceiveAfterCloseStaysClear) {
  auto [net, signer] = Pair();
  { Channel gone = std::move(signer); }
  for (int i = 0; i < 2; ++i) {
    auto frame = net.Receive(kGenerous);
    ASSERT_FALSE(frame.ok());
    EXPECT_EQ(frame.error().message, "peer signer closed the channel");
  }
}

TEST(ChannelTest, CloseInTheMiddleOfAFrame) {
  auto [net, signer] = Pair();
  std::string frame = EncodeFrame(MessageType::kRemoveRequest, "{\"token\":\"abc\"}");
  WriteRaw(signer.fd(), frame.substr(0, frame.size() - 3));
  { Channel gone = std::move(signer); }
  auto got = net.Receive(kGenerous);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message, "peer signer closed the channel in the middle of a frame");
  EXPECT_TRUE(net.broken());
}

TEST(ChannelTest, CorruptedFrameIsRejected) {
  auto [net, signer] = Pair();
  std::string frame = EncodeFrame(MessageType::kOk, EncodeEmpty());
  frame[0] = 'X';
  WriteRaw(signer.fd(), frame);
  auto got = net.Receive(kGenerous);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("rejected a frame from peer signer: frame: bad magic"),
            std::string::npos)
      << got.error().message;
  // The stream is out of step now, so nothing more is read from it.
  EXPECT_TRUE(net.broken());
  EXPECT_FALSE(net.Receive(kGenerous).ok());
}

TEST(ChannelTest, OversizedLengthIsRejectedBeforeReadingPayload) {
  auto [net, signer] = Pair();
  std::string header = EncodeFrame(MessageType::kCommitRequest, "");
  header[8] = '\x7f';  // Claims ~2 GiB; the payload never comes.
  WriteRaw(signer.fd(), header);
  // If the length were trusted this would wait for the payload and time out.
  auto got = net.Receive(kGenerous);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("exceeds the cap"), std::string::npos)
      << got.error().message;
}

TEST(ChannelTest, SendRefusesOversizedPayload) {
  auto [net, signer] = Pair();
  Status s = net.Send(MessageType::kCommitRequest, std::string(kMaxPayload + 1, 'x'));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("exceeds the cap"), std::string::npos) << s.error().message;
  EXPECT_FALSE(net.broken());
  // Nothing was written.
  EXPECT_FALSE(signer.Receive(milliseconds(0)).ok());
}

}  // namespace
}  // namespace bulkhead::ipc
