// The messages of the account and revocation commands: round trips and the
// strict checks on what a compromised net role could send the parent.
#include <gtest/gtest.h>

#include <string>

#include "ipc/frame.h"
#include "ipc/messages.h"

namespace bulkhead::ipc {
namespace {

DecodedFrame Wire(MessageType type, const std::string& payload) {
  std::string bytes = EncodeFrame(type, payload);
  DecodedFrame frame;
  size_t consumed = 0;
  std::string error;
  DecodeStatus status =
      DecodeFrame({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, &frame,
                  &consumed, &error);
  EXPECT_EQ(status, DecodeStatus::kOk) << error;
  return frame;
}

template <typename R>
void ExpectRejected(const R& result, std::string_view needle) {
  ASSERT_FALSE(result.ok()) << "accepted; wanted an error containing: " << needle;
  EXPECT_NE(result.error().message.find(needle), std::string::npos) << result.error().message;
}

constexpr const char* kAccount = "https://127.0.0.1:14000/my-account/1";

TEST(AccountMessagesTest, RoundTrips) {
  KeyChangeRequestMsg kc{"https://ca.test/key-change", kAccount};
  EXPECT_EQ(*DecodeKeyChangeRequest(Wire(MessageType::kKeyChangeRequest, Encode(kc))), kc);
  EabRequestMsg eab{"https://ca.test/new-account"};
  EXPECT_EQ(*DecodeEabRequest(Wire(MessageType::kEabRequest, Encode(eab))), eab);
  AccountResultMsg r{AccountOutcome::kCreated, kAccount, "valid", {"mailto:a@example.org"}};
  EXPECT_EQ(*DecodeAccountResult(Wire(MessageType::kAccountResult, Encode(r))), r);
  AccountResultMsg changed{AccountOutcome::kKeyChanged, kAccount, "", {}};
  EXPECT_EQ(*DecodeAccountResult(Wire(MessageType::kAccountResult, Encode(changed))), changed);
  AccountCommitRequestMsg c{true, kAccount, "deactivated", {}};
  EXPECT_EQ(*DecodeAccountCommitRequest(Wire(MessageType::kAccountCommitRequest, Encode(c))), c);
  AccountCommitResponseMsg resp{crypto::KeyType::kRsa2048,
                                "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", ""};
  EXPECT_EQ(*DecodeAccountCommitResponse(Wire(MessageType::kAccountCommitResponse, Encode(resp))),
            resp);
  EXPECT_EQ(MessageTypeName(MessageType::kAccountResult), "AccountResult");
  EXPECT_TRUE(IsKnownMessageType(0x0602));
}

TEST(AccountMessagesTest, ResultRejectsWhatTheParentMustNotPrint) {
  auto with = [](std::string url, std::string status, std::string contact) {
    AccountResultMsg r{AccountOutcome::kFetched, std::move(url), std::move(status),
                       {std::move(contact)}};
    return DecodeAccountResult(Wire(MessageType::kAccountResult, Encode(r)));
  };
  EXPECT_TRUE(with(kAccount, "valid", "mailto:a@example.org").ok());
  ExpectRejected(with("https://ca.test/a\x1b[2J", "valid", "mailto:a@example.org"),
                 "key \"url\"");
  ExpectRejected(with("http://ca.test/a", "valid", "mailto:a@example.org"), "key \"url\"");
  ExpectRejected(with(kAccount, "pending", "mailto:a@example.org"), "key \"status\"");
  // Only a key change may leave the status empty.
  ExpectRejected(with(kAccount, "", "mailto:a@example.org"), "key \"status\"");
  ExpectRejected(with(kAccount, "valid", "mailto:a@example.org\n"), "key \"contact\"");
  ExpectRejected(with(kAccount, "valid", ""), "key \"contact\"");
}

TEST(AccountMessagesTest, StrictSchema) {
  ExpectRejected(DecodeAccountResult(Wire(
                     MessageType::kAccountResult,
                     R"({"outcome":"stolen","url":"https://a.test/1","status":"valid","contact":[]})")),
                 "outcome");
  ExpectRejected(
      DecodeAccountResult(Wire(MessageType::kAccountResult,
                               R"({"outcome":"fetched","url":"https://a.test/1","status":"valid"})")),
      "missing key \"contact\"");
  ExpectRejected(DecodeAccountResult(Wire(MessageType::kAccountResult,
                                          R"({"outcome":"fetched","url":"https://a.test/1",)"
                                          R"("status":"valid","contact":[],"extra":1})")),
                 "unknown key");
  std::string many = "[";
  for (size_t i = 0; i <= kMaxContacts; ++i) {
    many += std::string(i ? "," : "") + "\"mailto:a@b.c\"";
  }
  many += "]";
  ExpectRejected(DecodeAccountResult(Wire(MessageType::kAccountResult,
                                          R"({"outcome":"fetched","url":"https://a.test/1",)"
                                          R"("status":"valid","contact":)" + many + "}")),
                 "contact");
  ExpectRejected(DecodeKeyChangeRequest(Wire(MessageType::kKeyChangeRequest,
                                             R"({"url":"https://a.test/kc","account":""})")),
                 "key \"account\"");
  ExpectRejected(DecodeEabRequest(Wire(MessageType::kEabRequest, R"({"url":"file:///etc"})")),
                 "key \"url\"");
  ExpectRejected(DecodeAccountCommitResponse(
                     Wire(MessageType::kAccountCommitResponse,
                          R"({"key_type":"dsa","thumbprint":"abc","warning":""})")),
                 "key_type");
  ExpectRejected(DecodeAccountCommitResponse(
                     Wire(MessageType::kAccountCommitResponse,
                          R"({"key_type":"ec256","thumbprint":"a/b","warning":""})")),
                 "thumbprint");
  // A commit that saves account.json needs a real status.
  ExpectRejected(DecodeAccountCommitRequest(Wire(
                     MessageType::kAccountCommitRequest,
                     R"({"save_info":true,"url":"https://a.test/1","status":"","contact":[]})")),
                 "status");
  EXPECT_TRUE(ValidatePayload(Wire(MessageType::kAccountCommitRequest,
                                   R"({"save_info":false,"url":"https://a.test/1",)"
                                   R"("status":"","contact":[]})"))
                  .ok());
}

}  // namespace
}  // namespace bulkhead::ipc
