#include "ipc/channel.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace bulkhead::ipc {
namespace {

using Clock = std::chrono::steady_clock;

// RemainingMs converts a deadline into a poll(2) timeout, rounding up so
// that we never wake a millisecond early and spin.
int RemainingMs(Clock::time_point deadline) {
  auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) {
    return 0;
  }
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

// PollOnce waits for `events` on `fd` until `deadline`. It sets
// `*out_ready` to false on timeout; it fails only if poll itself fails.
Status PollOnce(int fd, short events, Clock::time_point deadline, bool* out_ready) {
  for (;;) {
    pollfd p{};
    p.fd = fd;
    p.events = events;
    int r = poll(&p, 1, RemainingMs(deadline));
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      return Err("poll: {}", std::strerror(errno));
    }
    *out_ready = r > 0;
    return OkStatus();
  }
}

bool IsPeerGone(int err) { return err == EPIPE || err == ECONNRESET; }

}  // namespace

Channel::Channel(ScopedFd fd, std::string peer_name)
    : fd_(std::move(fd)), peer_name_(std::move(peer_name)) {}

Error Channel::Break(Error error) {
  if (broken_reason_.empty()) {
    broken_reason_ = error.message;
  }
  return error;
}

Status Channel::Send(MessageType type, std::string_view payload,
                     std::chrono::milliseconds timeout) {
  return SendUntil(type, payload, Clock::now() + timeout, timeout);
}

Status Channel::SendUntil(MessageType type, std::string_view payload,
                          Clock::time_point deadline, std::chrono::milliseconds timeout) {
  if (broken()) {
    return Err("channel to peer {} is unusable after an earlier error: {}", peer_name_,
               broken_reason_);
  }
  if (payload.size() > kMaxPayload) {
    return Err("sending {} to peer {}: payload of {} bytes exceeds the cap of {}",
               MessageTypeName(type), peer_name_, payload.size(), kMaxPayload);
  }
  std::string frame = EncodeFrame(type, payload);
  size_t sent = 0;
  while (sent < frame.size()) {
    bool ready = false;
    BH_TRY(PollOnce(fd_.get(), POLLOUT, deadline, &ready));
    if (!ready) {
      Error e = Err("sending {} to peer {}: timed out after {} ms", MessageTypeName(type),
                    peer_name_, timeout.count());
      // A partly written frame would make the peer misread everything after.
      return sent > 0 ? Break(e) : e;
    }
    // MSG_NOSIGNAL: a dead peer must be an error here, not SIGPIPE.
    ssize_t n = send(fd_.get(), frame.data() + sent, frame.size() - sent,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        continue;
      }
      if (IsPeerGone(errno)) {
        // With nothing of this frame written the stream is still in step:
        // what the peer sent before it closed (often its report of why)
        // can still be received.
        Error e = Err("sending {}: peer {} closed the channel", MessageTypeName(type), peer_name_);
        return sent > 0 ? Break(e) : e;
      }
      return Break(Err("sending {} to peer {}: {}", MessageTypeName(type), peer_name_,
                       std::strerror(errno)));
    }
    sent += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status Channel::ReadExact(uint8_t* buf, size_t len, Clock::time_point deadline,
                          std::chrono::milliseconds timeout, bool frame_start) {
  size_t got = 0;
  while (got < len) {
    bool clean = frame_start && got == 0;
    bool ready = false;
    BH_TRY(PollOnce(fd_.get(), POLLIN, deadline, &ready));
    if (!ready) {
      Error e = Err("timed out after {} ms waiting for peer {}{}", timeout.count(), peer_name_,
                    clean ? "" : " to finish a frame");
      return clean ? e : Break(e);
    }
    ssize_t n = recv(fd_.get(), buf + got, len - got, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && IsPeerGone(errno))) {
      // A clean close stays reported as such on every later call.
      if (clean) {
        return Err("peer {} closed the channel", peer_name_);
      }
      return Break(Err("peer {} closed the channel in the middle of a frame", peer_name_));
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
        continue;
      }
      return Break(Err("reading from peer {}: {}", peer_name_, std::strerror(errno)));
    }
    got += static_cast<size_t>(n);
  }
  return OkStatus();
}

Result<DecodedFrame> Channel::Receive(std::chrono::milliseconds timeout) {
  return ReceiveUntil(Clock::now() + timeout, timeout);
}

Result<DecodedFrame> Channel::ReceiveUntil(Clock::time_point deadline,
                                           std::chrono::milliseconds timeout) {
  if (broken()) {
    return Err("channel to peer {} is unusable after an earlier error: {}", peer_name_,
               broken_reason_);
  }
  uint8_t header_bytes[kFrameHeaderSize];
  BH_TRY(ReadExact(header_bytes, sizeof(header_bytes), deadline, timeout,
                   /*frame_start=*/true));
  FrameHeader header;
  std::string why;
  if (DecodeFrameHeader(header_bytes, &header, &why) != DecodeStatus::kOk) {
    return Break(Err("rejected a frame from peer {}: {}", peer_name_, why));
  }
  // The length has been checked against kMaxPayload, so this allocation is
  // bounded whatever the peer claims.
  DecodedFrame frame;
  frame.type = header.type;
  frame.payload.resize(header.payload_len);
  BH_TRY(ReadExact(reinterpret_cast<uint8_t*>(frame.payload.data()), frame.payload.size(),
                   deadline, timeout, /*frame_start=*/false));
  return frame;
}

Result<DecodedFrame> Channel::Call(MessageType type, std::string_view payload,
                                   MessageType expected_reply,
                                   std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  BH_TRY(SendUntil(type, payload, deadline, timeout));
  auto reply = ReceiveUntil(deadline, timeout);
  if (!reply.ok()) {
    // The reply may still arrive; it must not be taken for the next one's.
    return Break(reply.error().Wrap(MessageTypeName(type)));
  }
  if (reply->type == MessageType::kError && expected_reply != MessageType::kError) {
    auto err = DecodeError(*reply);
    if (!err.ok()) {
      return err.error().Wrap(fmt::format("{} reply from peer {}", MessageTypeName(type),
                                          peer_name_));
    }
    return Error{fmt::format("{}: {}", peer_name_, err->message), err->code};
  }
  if (reply->type != expected_reply) {
    return Err("peer {} answered {} with {}, expected {}", peer_name_, MessageTypeName(type),
               MessageTypeName(reply->type), MessageTypeName(expected_reply));
  }
  return reply;
}

Result<std::pair<Channel, Channel>> MakeChannelPair(std::string a_name, std::string b_name) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return Err("socketpair: {}", std::strerror(errno));
  }
  return std::pair<Channel, Channel>(Channel(ScopedFd(fds[0]), std::move(b_name)),
                                     Channel(ScopedFd(fds[1]), std::move(a_name)));
}

}  // namespace bulkhead::ipc
