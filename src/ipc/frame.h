// Framing for messages between role processes. A frame is a fixed 12-byte
// header, every field big-endian, followed by the payload:
//
//   offset  size  field
//   0       2     magic "BH" (0x42 0x48)
//   2       1     version, kFrameVersion
//   3       1     flags, must be 0 (reserved for later versions)
//   4       2     message type (ipc::MessageType)
//   6       2     reserved, must be 0
//   8       4     payload length, at most kMaxPayload
//
// The length is checked against the cap before any payload byte is read or
// allocated, so a hostile peer cannot make us reserve memory it never sends.
#ifndef BULKHEAD_IPC_FRAME_H_
#define BULKHEAD_IPC_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bulkhead::ipc {

// MessageType is defined in ipc/messages.h; frames only carry its value.
enum class MessageType : uint16_t;

inline constexpr size_t kFrameHeaderSize = 12;
inline constexpr uint8_t kFrameMagic0 = 0x42;  // 'B'
inline constexpr uint8_t kFrameMagic1 = 0x48;  // 'H'
inline constexpr uint8_t kFrameVersion = 1;

// kMaxPayload bounds one message. A certificate chain plus its leaf is a few
// KiB; 256 KiB leaves room for long chains and RSA-4096 material while
// keeping a peer from making us hold large buffers.
inline constexpr size_t kMaxPayload = 256 * 1024;

// DecodeStatus is the outcome of decoding from a byte stream.
enum class DecodeStatus {
  kOk,         // A complete, valid frame was decoded.
  kNeedMore,   // The bytes so far are a valid prefix; read more and retry.
  kMalformed,  // The bytes can never become a valid frame; drop the peer.
};

// FrameHeader is a validated header.
struct FrameHeader {
  MessageType type{};
  uint32_t payload_len = 0;
};

// DecodedFrame is one complete frame whose header has been validated. The
// payload is not yet interpreted (see ipc/messages.h).
struct DecodedFrame {
  MessageType type{};
  std::string payload;
};

// EncodeFrame returns the header for `type` followed by `payload`. The
// caller must keep `payload` within kMaxPayload (Channel::Send checks it);
// a larger payload is encoded anyway and will be rejected by the receiver.
std::string EncodeFrame(MessageType type, std::string_view payload);

// DecodeFrameHeader validates the first kFrameHeaderSize bytes of `bytes`.
// It returns kNeedMore if fewer bytes are given, kMalformed (with a reason in
// `*out_error`) for a wrong magic, version, flags, reserved field, unknown
// message type or a length above kMaxPayload, and kOk with `*out_header`
// filled otherwise.
DecodeStatus DecodeFrameHeader(std::span<const uint8_t> bytes, FrameHeader* out_header,
                               std::string* out_error);

// DecodeFrame decodes one frame from the start of `bytes`. On kOk it fills
// `*out_frame` and sets `*out_consumed` to the frame's size (bytes after it
// belong to the next frame). On kNeedMore nothing is filled; on kMalformed
// `*out_error` says why. It never allocates more than kMaxPayload.
DecodeStatus DecodeFrame(std::span<const uint8_t> bytes, DecodedFrame* out_frame,
                         size_t* out_consumed, std::string* out_error);

}  // namespace bulkhead::ipc

#endif  // BULKHEAD_IPC_FRAME_H_
