// Fuzz target for the IPC decoders: everything a compromised peer can feed
// a role process goes through DecodeFrame and then the payload decoder of
// the frame's type. Properties checked besides memory safety: the decoder
// never claims more bytes than it was given, and whatever a decoder accepts
// survives a re-encode unchanged in meaning (re-encoding it is accepted
// again).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "ipc/frame.h"
#include "ipc/messages.h"

namespace {

using namespace bulkhead::ipc;

// ReEncode decodes `frame` with its typed decoder and, if accepted, returns
// the canonical re-encoding; an empty string means "rejected".
std::string ReEncode(const DecodedFrame& frame) {
  switch (frame.type) {
    case MessageType::kOk:
    case MessageType::kShutdown:
    case MessageType::kDescribeRequest:
    case MessageType::kWaitReadyRequest:
    case MessageType::kProbeRun:
      return DecodeEmpty(frame, frame.type).ok() ? EncodeEmpty() : "";
    case MessageType::kError: {
      auto m = DecodeError(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kSignerHello: {
      auto m = DecodeSignerHello(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kSignRequest: {
      auto m = DecodeSignRequest(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kSignResponse: {
      auto m = DecodeSignResponse(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kRemoveRequest: {
      auto m = DecodeRemoveRequest(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kPublishForRequest: {
      auto m = DecodePublishForRequest(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kDescribeResponse: {
      auto m = DecodeDescribeResponse(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kPrepareKeyResponse: {
      auto m = DecodePrepareKeyResponse(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kCommitRequest: {
      auto m = DecodeCommitRequest(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kCommitResponse: {
      auto m = DecodeCommitResponse(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kSavePendingOrder: {
      auto m = DecodeSavePendingOrder(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kIssueResult: {
      auto m = DecodeIssueResult(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kOrderReport: {
      auto m = DecodeOrderReport(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kRenewalInfo: {
      auto m = DecodeRenewalInfo(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kTlsaObservation: {
      auto m = DecodeTlsaObservation(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kKeyChangeRequest: {
      auto m = DecodeKeyChangeRequest(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kEabRequest: {
      auto m = DecodeEabRequest(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kAccountResult: {
      auto m = DecodeAccountResult(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kAccountCommitRequest: {
      auto m = DecodeAccountCommitRequest(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kAccountCommitResponse: {
      auto m = DecodeAccountCommitResponse(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kProbeCert: {
      auto m = DecodeProbeCert(frame);
      return m.ok() ? Encode(*m) : "";
    }
    case MessageType::kProbeOutcome: {
      auto m = DecodeProbeOutcome(frame);
      return m.ok() ? Encode(*m) : "";
    }
  }
  return "";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> rest(data, size);
  // Inputs may hold several frames back to back, as a stream would.
  while (!rest.empty()) {
    DecodedFrame frame;
    size_t consumed = 0;
    std::string error;
    DecodeStatus status = DecodeFrame(rest, &frame, &consumed, &error);
    if (status != DecodeStatus::kOk) {
      if (status == DecodeStatus::kMalformed && error.empty()) {
        std::abort();  // Every rejection must say why.
      }
      break;
    }
    if (consumed == 0 || consumed > rest.size()) {
      std::abort();
    }
    rest = rest.subspan(consumed);

    bool valid = ValidatePayload(frame).ok();
    std::string canonical = ReEncode(frame);
    if (valid != !canonical.empty()) {
      std::abort();  // ValidatePayload and the typed decoder disagree.
    }
    if (valid) {
      DecodedFrame again{frame.type, canonical};
      if (ReEncode(again) != canonical) {
        std::abort();  // Decode(Encode(m)) must give m back.
      }
    }
  }
  return 0;
}
