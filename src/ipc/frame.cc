#include "ipc/frame.h"

#include <fmt/format.h>

#include "ipc/messages.h"

namespace bulkhead::ipc {
namespace {

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

void PutU32(std::string* out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v & 0xffff));
}

uint16_t GetU16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}

uint32_t GetU32(std::span<const uint8_t> b, size_t at) {
  return (static_cast<uint32_t>(GetU16(b, at)) << 16) | GetU16(b, at + 2);
}

}  // namespace

std::string EncodeFrame(MessageType type, std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeaderSize + payload.size());
  out.push_back(static_cast<char>(kFrameMagic0));
  out.push_back(static_cast<char>(kFrameMagic1));
  out.push_back(static_cast<char>(kFrameVersion));
  out.push_back(0);  // flags
  PutU16(&out, static_cast<uint16_t>(type));
  PutU16(&out, 0);  // reserved
  PutU32(&out, static_cast<uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

DecodeStatus DecodeFrameHeader(std::span<const uint8_t> bytes, FrameHeader* out_header,
                               std::string* out_error) {
  if (bytes.size() < kFrameHeaderSize) {
    return DecodeStatus::kNeedMore;
  }
  if (bytes[0] != kFrameMagic0 || bytes[1] != kFrameMagic1) {
    *out_error =
        fmt::format("frame: bad magic 0x{:04x} (expected 0x4248, \"BH\")", GetU16(bytes, 0));
    return DecodeStatus::kMalformed;
  }
  if (bytes[2] != kFrameVersion) {
    *out_error = fmt::format("frame: unsupported version {} (this build speaks version {})",
                             bytes[2], kFrameVersion);
    return DecodeStatus::kMalformed;
  }
  if (bytes[3] != 0) {
    *out_error = fmt::format("frame: flags 0x{:02x} set, must be 0", bytes[3]);
    return DecodeStatus::kMalformed;
  }
  uint16_t type = GetU16(bytes, 4);
  if (!IsKnownMessageType(type)) {
    *out_error = fmt::format("frame: unknown message type {}", type);
    return DecodeStatus::kMalformed;
  }
  uint16_t reserved = GetU16(bytes, 6);
  if (reserved != 0) {
    *out_error = fmt::format("frame: reserved field 0x{:04x}, must be 0", reserved);
    return DecodeStatus::kMalformed;
  }
  uint32_t len = GetU32(bytes, 8);
  if (len > kMaxPayload) {
    *out_error =
        fmt::format("frame: payload length {} exceeds the cap of {} bytes", len, kMaxPayload);
    return DecodeStatus::kMalformed;
  }
  out_header->type = static_cast<MessageType>(type);
  out_header->payload_len = len;
  return DecodeStatus::kOk;
}

DecodeStatus DecodeFrame(std::span<const uint8_t> bytes, DecodedFrame* out_frame,
                         size_t* out_consumed, std::string* out_error) {
  FrameHeader header;
  DecodeStatus status = DecodeFrameHeader(bytes, &header, out_error);
  if (status != DecodeStatus::kOk) {
    return status;
  }
  // payload_len <= kMaxPayload here, so the sum cannot overflow.
  size_t total = kFrameHeaderSize + header.payload_len;
  if (bytes.size() < total) {
    return DecodeStatus::kNeedMore;
  }
  auto payload = bytes.subspan(kFrameHeaderSize, header.payload_len);
  out_frame->type = header.type;
  out_frame->payload.assign(reinterpret_cast<const char*>(payload.data()), payload.size());
  *out_consumed = total;
  return DecodeStatus::kOk;
}

}  // namespace bulkhead::ipc
