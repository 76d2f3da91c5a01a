#include "ipc/frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ipc/messages.h"

namespace bulkhead::ipc {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Decode runs DecodeFrame and returns its status, keeping the outputs.
struct Decoded {
  DecodeStatus status;
  DecodedFrame frame;
  size_t consumed = 0;
  std::string error;
};

Decoded Decode(const std::string& bytes) {
  Decoded d;
  d.status = DecodeFrame(Bytes(bytes), &d.frame, &d.consumed, &d.error);
  return d;
}

TEST(FrameTest, HeaderLayoutIsBigEndian) {
  std::string f = EncodeFrame(MessageType::kSignRequest, "abc");
  ASSERT_EQ(f.size(), kFrameHeaderSize + 3);
  const std::string want_header("BH\x01\x00\x01\x02\x00\x00\x00\x00\x00\x03", 12);
  EXPECT_EQ(f.substr(0, 12), want_header);
  EXPECT_EQ(f.substr(12), "abc");
}

TEST(FrameTest, RoundTripsAndReportsConsumed) {
  std::string two = EncodeFrame(MessageType::kOk, "{}") + EncodeFrame(MessageType::kShutdown, "");
  Decoded d = Decode(two);
  ASSERT_EQ(d.status, DecodeStatus::kOk) << d.error;
  EXPECT_EQ(d.frame.type, MessageType::kOk);
  EXPECT_EQ(d.frame.payload, "{}");
  EXPECT_EQ(d.consumed, kFrameHeaderSize + 2);
  Decoded second = Decode(two.substr(d.consumed));
  ASSERT_EQ(second.status, DecodeStatus::kOk) << second.error;
  EXPECT_EQ(second.frame.type, MessageType::kShutdown);
  EXPECT_EQ(second.frame.payload, "");
  EXPECT_EQ(second.consumed, kFrameHeaderSize);
}

TEST(FrameTest, RoundTripsMaximumPayload) {
  std::string payload(kMaxPayload, 'x');
  Decoded d = Decode(EncodeFrame(MessageType::kCommitRequest, payload));
  ASSERT_EQ(d.status, DecodeStatus::kOk) << d.error;
  EXPECT_EQ(d.frame.payload.size(), kMaxPayload);
}

TEST(FrameTest, TruncatedHeaderOrPayloadNeedsMore) {
  std::string f = EncodeFrame(MessageType::kRemoveRequest, "{\"token\":\"abc\"}");
  for (size_t len = 0; len < f.size(); ++len) {
    Decoded d = Decode(f.substr(0, len));
    EXPECT_EQ(d.status, DecodeStatus::kNeedMore) << "prefix of " << len << " bytes";
    EXPECT_EQ(d.consumed, 0u);
  }
}

// Corrupt returns a valid frame with byte `at` replaced by `value`.
std::string Corrupt(size_t at, char value) {
  std::string f = EncodeFrame(MessageType::kOk, "{}");
  f[at] = value;
  return f;
}

TEST(FrameTest, RejectsBadMagic) {
  Decoded d = Decode(Corrupt(1, 'X'));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_NE(d.error.find("bad magic"), std::string::npos) << d.error;
}

TEST(FrameTest, RejectsVersionTwo) {
  Decoded d = Decode(Corrupt(2, 2));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_NE(d.error.find("unsupported version 2"), std::string::npos) << d.error;
}

TEST(FrameTest, RejectsNonzeroFlags) {
  Decoded d = Decode(Corrupt(3, 1));
  EXPECT_EQ(d.status, DecodeStatus::kMalformed);
  EXPECT_NE(d.error.find("flags"), std::string::npos) << d.error;
}

TEST(FrameTest, RejectsNonzeroReserved) {
  for (size_t at : {6, 7}) {
    Decoded d = Decode(Corrupt(at, 1));
    EXPECT_EQ(d.status, DecodeStatus::kMalformed);
    EXPECT_NE(d.error.find("reserved"), std::string::npos) << d.error;
  }
}

TEST(FrameTest, RejectsUnknownType) {
  Decoded zero = Decode(Corrupt(5, 0));  // Type 0x0000.
  EXPECT_EQ(zero.status, DecodeStatus::kMalformed);
  EXPECT_NE(zero.error.find("unknown message type 0"), std::string::npos) << zero.error;
  Decoded high = Decode(Corrupt(4, 0x7f));  // Type 0x7f01.
  EXPECT_EQ(high.status, DecodeStatus::kMalformed);
  EXPECT_NE(high.error.find("unknown message type"), std::string::npos) << high.error;
}

TEST(FrameTest, RejectsOversizedLengthFromHeaderAlone) {
  // Only the header is present: an over-cap length must be refused now,
  // not answered with kNeedMore (which would invite buffering 4 GiB).
  for (uint32_t len : {static_cast<uint32_t>(kMaxPayload + 1), 0xffffffffu}) {
    std::string header = EncodeFrame(MessageType::kOk, "");
    header[8] = static_cast<char>(len >> 24);
    header[9] = static_cast<char>(len >> 16);
    header[10] = static_cast<char>(len >> 8);
    header[11] = static_cast<char>(len);
    Decoded d = Decode(header);
    EXPECT_EQ(d.status, DecodeStatus::kMalformed) << len;
    EXPECT_NE(d.error.find("exceeds the cap"), std::string::npos) << d.error;
    EXPECT_TRUE(d.frame.payload.empty());
  }
}

TEST(FrameTest, HeaderDecoderAgreesWithFrameDecoder) {
  std::string f = EncodeFrame(MessageType::kCommitResponse, "{\"version\":3}");
  FrameHeader header;
  std::string error;
  ASSERT_EQ(DecodeFrameHeader(Bytes(f), &header, &error), DecodeStatus::kOk) << error;
  EXPECT_EQ(header.type, MessageType::kCommitResponse);
  EXPECT_EQ(header.payload_len, 13u);
}

}  // namespace
}  // namespace bulkhead::ipc
