// Channel: one end of a connection between two role processes, carrying
// frames (ipc/frame.h) over a SOCK_STREAM Unix socket. Every read and write
// has a deadline, so a stuck or dead peer becomes an error naming it rather
// than a hang.
#ifndef BULKHEAD_IPC_CHANNEL_H_
#define BULKHEAD_IPC_CHANNEL_H_

#include <chrono>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ipc/frame.h"
#include "ipc/messages.h"
#include "util/fs.h"
#include "util/result.h"

namespace bulkhead::ipc {

// kDefaultSendTimeout bounds Send when the peer stops reading: long enough
// for a busy peer, short enough that a wedged one is reported.
inline constexpr std::chrono::milliseconds kDefaultSendTimeout{30000};

// Channel owns a connected stream socket. It is move-only and not
// thread-safe: one thread uses a Channel at a time.
//
// After an error that may have left part of a frame unread or unwritten
// (a malformed header, a timeout in the middle of a frame or of a Call), the
// channel is marked broken and every later operation fails at once, since
// the byte stream can no longer be trusted to be in step.
class Channel {
 public:
  // The Channel takes ownership of `fd`. `peer_name` is the role at the
  // other end ("signer"), used in every error message.
  Channel(ScopedFd fd, std::string peer_name);
  Channel(Channel&&) noexcept = default;
  Channel& operator=(Channel&&) noexcept = default;

  const std::string& peer_name() const { return peer_name_; }
  // fd returns the socket, e.g. for poll() or to hand to a child process.
  int fd() const { return fd_.get(); }
  bool broken() const { return !broken_reason_.empty(); }

  // Close closes the socket now, e.g. the parent's copy of an end that a
  // child process owns, so that the peer sees EOF when the child exits.
  // Later operations fail as on a closed descriptor.
  void Close() { fd_ = ScopedFd(); }

  // Send writes one frame. It fails, without writing, if the payload is
  // larger than kMaxPayload; it fails naming the peer if the peer has closed
  // the channel or does not accept the bytes within `timeout`.
  Status Send(MessageType type, std::string_view payload,
              std::chrono::milliseconds timeout = kDefaultSendTimeout);

  // Receive reads one frame. It reads the header, validates it (magic,
  // version, type, length cap) and only then reads exactly the announced
  // payload, so it never reads more than kFrameHeaderSize + kMaxPayload
  // bytes. It fails with "peer <name> closed the channel" on EOF, with an
  // error naming the peer when `timeout` passes, and with the reason when
  // the header is malformed. The payload is not interpreted.
  Result<DecodedFrame> Receive(std::chrono::milliseconds timeout);

  // Call sends a request and waits for its reply, both within `timeout`.
  // A kError reply becomes an Error ("<peer>: <message>", with its code); a
  // reply of any type other than `expected_reply` is an error. A timeout
  // breaks the channel, since a late reply would otherwise be taken as the
  // answer to the next call.
  Result<DecodedFrame> Call(MessageType type, std::string_view payload,
                            MessageType expected_reply, std::chrono::milliseconds timeout);

 private:
  using Clock = std::chrono::steady_clock;

  // `timeout` is only used in messages; `deadline` is what is enforced.
  Status SendUntil(MessageType type, std::string_view payload, Clock::time_point deadline,
                   std::chrono::milliseconds timeout);
  Result<DecodedFrame> ReceiveUntil(Clock::time_point deadline,
                                    std::chrono::milliseconds timeout);
  // ReadExact fills `buf` with exactly `len` bytes. With `frame_start` set,
  // EOF or a timeout before the first byte leaves the channel usable;
  // anywhere else they break it.
  Status ReadExact(uint8_t* buf, size_t len, Clock::time_point deadline,
                   std::chrono::milliseconds timeout, bool frame_start);
  // Break records why the stream is out of step and returns that error.
  Error Break(Error error);

  ScopedFd fd_;
  std::string peer_name_;
  std::string broken_reason_;  // Non-empty once the channel is broken.
};

// Send writes message `msg` as one frame of type M::kType, so the type
// cannot be paired with another message's payload. Fails as Channel::Send.
template <class M>
Status Send(Channel& channel, const M& msg,
            std::chrono::milliseconds timeout = kDefaultSendTimeout) {
  return channel.Send(M::kType, Encode(msg), timeout);
}

// Call sends `request` (type M::kType) and returns the reply decoded as R.
// It fails as Channel::Call (a kError reply becomes an Error naming the
// peer, any type other than R::kType is an error, a timeout breaks the
// channel), and with Decode<R>'s error if the reply does not match R's
// schema. A reply without fields (OkMsg) is accepted on its type alone, as
// Channel::Call callers always have: it carries nothing to use.
template <class R, class M>
Result<R> Call(Channel& channel, const M& request, std::chrono::milliseconds timeout) {
  BH_ASSIGN(DecodedFrame reply, channel.Call(M::kType, Encode(request), R::kType, timeout));
  if constexpr (std::is_empty_v<R>) {
    (void)reply;
    return R{};
  } else {
    return Decode<R>(reply);
  }
}

// CallOk is Call<OkMsg>: for requests whose success is a kOk reply.
template <class M>
Status CallOk(Channel& channel, const M& request, std::chrono::milliseconds timeout) {
  auto reply = Call<OkMsg>(channel, request, timeout);
  if (!reply.ok()) {
    return reply.error();
  }
  return OkStatus();
}

// MakeChannelPair connects two new Channels with
// socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC). `a_name` and `b_name` are
// the roles at the two ends: the first Channel is a's end (its peer is
// b_name), the second is b's end (its peer is a_name). Fails with errno text
// if the sockets cannot be created.
Result<std::pair<Channel, Channel>> MakeChannelPair(std::string a_name, std::string b_name);

}  // namespace bulkhead::ipc

#endif  // BULKHEAD_IPC_CHANNEL_H_
