#include "ipc/messages.h"

#include <gtest/gtest.h>

#include <string>

#include "acme/problem.h"
#include "ipc/frame.h"

namespace bulkhead::ipc {
namespace {

using nlohmann::json;

// Wire sends `payload` through a real frame encode/decode, as a peer would.
DecodedFrame Wire(MessageType type, const std::string& payload) {
  std::string bytes = EncodeFrame(type, payload);
  DecodedFrame frame;
  size_t consumed = 0;
  std::string error;
  DecodeStatus status =
      DecodeFrame({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, &frame,
                  &consumed, &error);
  EXPECT_EQ(status, DecodeStatus::kOk) << error;
  EXPECT_EQ(consumed, bytes.size());
  return frame;
}

DecodedFrame Raw(MessageType type, std::string payload) {
  return DecodedFrame{type, std::move(payload)};
}

// ExpectRejected checks that `result` failed with `needle` in its message.
template <typename R>
void ExpectRejected(const R& result, std::string_view needle) {
  ASSERT_FALSE(result.ok()) << "accepted; wanted an error containing: " << needle;
  EXPECT_NE(result.error().message.find(needle), std::string::npos) << result.error().message;
}

TEST(MessagesTest, EveryTypeHasANameAndIsKnown) {
  for (MessageType t :
       {MessageType::kOk, MessageType::kError, MessageType::kShutdown, MessageType::kSignerHello,
        MessageType::kSignRequest, MessageType::kSignResponse, MessageType::kPublishForRequest,
        MessageType::kRemoveRequest, MessageType::kDescribeRequest,
        MessageType::kDescribeResponse, MessageType::kPrepareKeyResponse, MessageType::kCommitRequest,
        MessageType::kCommitResponse, MessageType::kSavePendingOrder,
        MessageType::kIssueResult, MessageType::kTlsaObservation}) {
    EXPECT_TRUE(IsKnownMessageType(static_cast<uint16_t>(t)));
    EXPECT_NE(MessageTypeName(t), "unknown");
  }
  EXPECT_FALSE(IsKnownMessageType(0));
  EXPECT_FALSE(IsKnownMessageType(0xffff));
  // Retired values (PublishRequest, PrepareKeyRequest) are never reused.
  EXPECT_FALSE(IsKnownMessageType(0x0201));
  EXPECT_FALSE(IsKnownMessageType(0x0301));
}

TEST(MessagesTest, EmptyMessagesRoundTrip) {
  for (MessageType t : {MessageType::kOk, MessageType::kShutdown, MessageType::kDescribeRequest}) {
    Status s = DecodeEmpty(Wire(t, EncodeEmpty()), t);
    EXPECT_TRUE(s.ok()) << s.error().message;
    EXPECT_TRUE(ValidatePayload(Wire(t, EncodeEmpty())).ok());
  }
  ExpectRejected(DecodeEmpty(Raw(MessageType::kOk, "{\"x\":1}"), MessageType::kOk),
                 "unknown key \"x\"");
  ExpectRejected(DecodeEmpty(Raw(MessageType::kOk, ""), MessageType::kOk), "not valid JSON");
  ExpectRejected(DecodeEmpty(Raw(MessageType::kSignRequest, "{}"), MessageType::kSignRequest),
                 "not a message without fields");
}

TEST(MessagesTest, SignerHelloRoundTrips) {
  SignerHelloMsg in{json{{"kty", "EC"}, {"crv", "P-256"}, {"x", "abc"}, {"y", "def"}},
                    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"};
  auto out = DecodeSignerHello(Wire(MessageType::kSignerHello, Encode(in)));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->jwk, in.jwk);
  EXPECT_EQ(out->thumbprint, in.thumbprint);
}

TEST(MessagesTest, SignRequestRoundTrips) {
  SignRequestMsg in{"https://127.0.0.1:14000/new-order", "nonce-1", "https://ca/acct/1",
                    "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.test\"}]}"};
  auto out = DecodeSignRequest(Wire(MessageType::kSignRequest, Encode(in)));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, in);
  // Empty nonce, kid and payload are meaningful (keyChange, jwk, POST-as-GET).
  SignRequestMsg bare{"https://ca/x", "", "", ""};
  auto out_bare = DecodeSignRequest(Wire(MessageType::kSignRequest, Encode(bare)));
  ASSERT_TRUE(out_bare.ok()) << out_bare.error().message;
  EXPECT_EQ(*out_bare, bare);
}

TEST(MessagesTest, SignResponseRoundTripsAndNeedsAllMembers) {
  SignResponseMsg in{json{{"protected", "eyJ"}, {"payload", ""}, {"signature", "c2ln"}}};
  auto out = DecodeSignResponse(Wire(MessageType::kSignResponse, Encode(in)));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->jws, in.jws);
  ExpectRejected(
      DecodeSignResponse(Raw(MessageType::kSignResponse, "{\"jws\":{\"protected\":\"a\"}}")),
      "missing member \"payload\"");
  ExpectRejected(DecodeSignResponse(Raw(MessageType::kSignResponse,
                                        "{\"jws\":{\"protected\":\"a\",\"payload\":\"\","
                                        "\"signature\":\"s\",\"header\":\"h\"}}")),
                 "more than 3");
}

TEST(MessagesTest, PublishForRequestRoundTripsAndChecksKeyAuthorization) {
  PublishForRequestMsg in{"*.a.test", "tok_EN-1", "tok_EN-1.thumb-print_2"};
  auto out = DecodePublishForRequest(Wire(MessageType::kPublishForRequest, Encode(in)));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, in);
  ExpectRejected(DecodePublishForRequest(Raw(
                     MessageType::kPublishForRequest,
                     Encode(PublishForRequestMsg{"a.test", "tok", "other.thumb"}))),
                 "PublishForRequest message: key \"key_authorization\" is not");
  ExpectRejected(DecodePublishForRequest(Raw(
                     MessageType::kPublishForRequest,
                     Encode(PublishForRequestMsg{"a.test", "tok", "tok.a/b"}))),
                 "key_authorization");
  ExpectRejected(DecodePublishForRequest(Raw(
                     MessageType::kPublishForRequest,
                     Encode(PublishForRequestMsg{"a b", "tok", "tok.thumb"}))),
                 "key \"identifier\" is not a DNS name or IP address");
}

TEST(MessagesTest, RemoveAndDescribeRoundTrip) {
  RemoveRequestMsg remove{"abc-_DEF123"};
  auto out_remove = DecodeRemoveRequest(Wire(MessageType::kRemoveRequest, Encode(remove)));
  ASSERT_TRUE(out_remove.ok()) << out_remove.error().message;
  EXPECT_EQ(*out_remove, remove);

  DescribeResponseMsg describe{"webroot /var/www (\u00e9t\u00e9)"};
  auto out_describe =
      DecodeDescribeResponse(Wire(MessageType::kDescribeResponse, Encode(describe)));
  ASSERT_TRUE(out_describe.ok()) << out_describe.error().message;
  EXPECT_EQ(*out_describe, describe);
}

TEST(MessagesTest, PrepareKeyRoundTrips) {
  PrepareKeyResponseMsg resp{std::string("\x30\x82\x00\xff\x00", 5), std::string("\x30\x59", 2)};
  auto out_resp = DecodePrepareKeyResponse(Wire(MessageType::kPrepareKeyResponse, Encode(resp)));
  ASSERT_TRUE(out_resp.ok()) << out_resp.error().message;
  EXPECT_EQ(*out_resp, resp);
  // The wire form of the DER is base64url.
  EXPECT_EQ(json::parse(Encode(resp))["public_key_der"], "MFk");
}

TEST(MessagesTest, NameArraysAndKeysRejectBadValues) {
  auto result = [](const std::string& names) {
    return Raw(MessageType::kIssueResult,
               "{\"version\":1,\"subject\":\"\",\"issuer\":\"\",\"names\":" + names +
                   ",\"serial\":\"\",\"not_before\":0,\"not_after\":0}");
  };
  EXPECT_TRUE(DecodeIssueResult(result("[\"a.test\"]")).ok());
  ExpectRejected(DecodeIssueResult(result("[]")), "has 0 entries");
  ExpectRejected(DecodeIssueResult(result("[\"\"]")), "entry 0 is empty");
  ExpectRejected(DecodeIssueResult(result("[\"a\", 7]")), "entry 1");
  json many = json::array();
  for (size_t i = 0; i <= kMaxNames; ++i) {
    many.push_back("n" + std::to_string(i) + ".test");
  }
  ExpectRejected(DecodeIssueResult(result(many.dump())), "has 101 entries");
  std::string long_name = "[\"" + std::string(kMaxNameLen + 1, 'a') + "\"]";
  ExpectRejected(DecodeIssueResult(result(long_name)), "exceeds the cap of 253");
  ExpectRejected(DecodePrepareKeyResponse(Raw(MessageType::kPrepareKeyResponse,
                                              "{\"csr_der\":\"A\",\"public_key_der\":\"MFk\"}")),
                 "impossible base64url length");
}

TEST(MessagesTest, CommitRoundTrips) {
  for (KeySource source : {KeySource::kPending, KeySource::kLive, KeySource::kNone}) {
    CommitRequestMsg in{"_.example.com", "-----BEGIN CERTIFICATE-----\nA\n", "chain\n",
                        "full\n", source};
    auto out = DecodeCommitRequest(Wire(MessageType::kCommitRequest, Encode(in)));
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, in);
  }
  CommitResponseMsg resp{42};
  auto out_resp = DecodeCommitResponse(Wire(MessageType::kCommitResponse, Encode(resp)));
  ASSERT_TRUE(out_resp.ok()) << out_resp.error().message;
  EXPECT_EQ(*out_resp, resp);
}

TEST(MessagesTest, CommitRejectsBadValues) {
  CommitRequestMsg traversal{"../etc", "c", "ch", "f", KeySource::kNone};
  ExpectRejected(DecodeCommitRequest(Raw(MessageType::kCommitRequest, Encode(traversal))),
                 "not a valid certificate name");
  json j = json::parse(Encode(CommitRequestMsg{"a", "c", "ch", "f", KeySource::kNone}));
  j["key_source"] = "elsewhere";
  ExpectRejected(DecodeCommitRequest(Raw(MessageType::kCommitRequest, j.dump())),
                 "key_source");
  ExpectRejected(DecodeCommitResponse(Raw(MessageType::kCommitResponse, "{\"version\":-1}")),
                 "non-negative integer");
  ExpectRejected(DecodeCommitResponse(Raw(MessageType::kCommitResponse, "{\"version\":1.5}")),
                 "non-negative integer");
  ExpectRejected(
      DecodeCommitResponse(Raw(MessageType::kCommitResponse, "{\"version\":4294967296}")),
      "exceeds the maximum");
}

TEST(MessagesTest, SavePendingOrderRoundTrips) {
  SavePendingOrderMsg in{json{{"url", "https://ca/order/1"}, {"names", {"a.test"}}}};
  auto out = DecodeSavePendingOrder(Wire(MessageType::kSavePendingOrder, Encode(in)));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->order, in.order);
  ExpectRejected(
      DecodeSavePendingOrder(Raw(MessageType::kSavePendingOrder, "{\"order\":\"[1]\"}")),
      "not a JSON object");
  ExpectRejected(DecodeSavePendingOrder(Raw(MessageType::kSavePendingOrder, "{\"order\":{}}")),
                 "expected a string");
}

TEST(MessagesTest, IssueResultRoundTrips) {
  IssueResultMsg in{7, "CN=a.test", "CN=Pebble Intermediate", {"a.test", "b.test"}, "0a1b",
                    1700000000, 1707776000};
  auto out = DecodeIssueResult(Wire(MessageType::kIssueResult, Encode(in)));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, in);
  json j = json::parse(Encode(in));
  j["not_after"] = 253402300800;  // One second past year 9999.
  ExpectRejected(DecodeIssueResult(Raw(MessageType::kIssueResult, j.dump())),
                 "key \"not_after\": exceeds the maximum");
}

TEST(MessagesTest, TlsaObservationRoundTripsAndChecksTheTtl) {
  TlsaObservationMsg m{true, 300, "served"};
  auto back = DecodeTlsaObservation(Wire(MessageType::kTlsaObservation, Encode(m)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, m);
  ExpectRejected(DecodeTlsaObservation(Raw(MessageType::kTlsaObservation,
                                           R"({"published":true,"ttl":2147483648,"detail":""})")),
                 "ttl");
  ExpectRejected(DecodeTlsaObservation(
                     Raw(MessageType::kTlsaObservation, R"({"published":1,"ttl":1,"detail":""})")),
                 "published");
  ExpectRejected(
      DecodeTlsaObservation(Raw(MessageType::kTlsaObservation, R"({"published":true,"ttl":1})")),
      "detail");
}

TEST(MessagesTest, ErrorRoundTripsEveryCode) {
  for (ErrorCode code : {ErrorCode::kFailure, ErrorCode::kUsage, ErrorCode::kNotFound,
                         ErrorCode::kTransient}) {
    ErrorMsg in{"disk full", code};
    auto out = DecodeError(Wire(MessageType::kError, Encode(in)));
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, in);
  }
  ExpectRejected(DecodeError(Raw(MessageType::kError, "{\"message\":\"m\",\"code\":\"boom\"}")),
                 "key \"code\"");
}

// The generic schema checks, exercised through RemoveRequest and
// SignRequest.
TEST(MessagesTest, RejectsMalformedPayloads) {
  auto remove = [](std::string payload) {
    return DecodeRemoveRequest(Raw(MessageType::kRemoveRequest, std::move(payload)));
  };
  ExpectRejected(remove("not json"), "RemoveRequest message: payload is not valid JSON");
  ExpectRejected(remove("{\"token\":\"abc\""), "not valid JSON");
  ExpectRejected(remove("[\"abc\"]"), "payload is array, expected a JSON object");
  ExpectRejected(remove("\"abc\""), "expected a JSON object");
  ExpectRejected(remove("{}"), "missing key \"token\"");
  ExpectRejected(remove("{\"token\":\"abc\",\"path\":\"/etc\"}"), "unknown key \"path\"");
  ExpectRejected(remove("{\"token\":\"abc\",\"token\":\"../x\"}"), "duplicate key");
  ExpectRejected(remove("{\"token\":42}"), "key \"token\": is number, expected a string");
  ExpectRejected(remove("{\"token\":\"../../etc/passwd\"}"), "not a non-empty base64url");
  ExpectRejected(remove("{\"token\":\"\"}"), "not a non-empty base64url");
  ExpectRejected(remove("{\"token\":\"" + std::string(kMaxTokenLen + 1, 'a') + "\"}"),
                 "257 bytes exceeds the cap of 256");
  ExpectRejected(remove("{\"token\":\"a\xff\"}"), "not valid JSON");  // Invalid UTF-8.
  // A hostile key name is shortened and made printable in the message.
  auto long_key = remove("{\"token\":\"a\",\"" + std::string(1000, 'k') + "\x01\":1}");
  ASSERT_FALSE(long_key.ok());
  EXPECT_LT(long_key.error().message.size(), 200u) << long_key.error().message;

  SignRequestMsg big{std::string(kMaxUrlLen + 1, 'u'), "", "", ""};
  ExpectRejected(DecodeSignRequest(Raw(MessageType::kSignRequest, Encode(big))),
                 "key \"url\": 2049 bytes exceeds the cap of 2048");
  ExpectRejected(
      DecodeSignRequest(Raw(MessageType::kSignRequest,
                            "{\"url\":\"u\",\"nonce\":null,\"kid\":\"\",\"payload\":\"\"}")),
      "key \"nonce\": is null, expected a string");
}

TEST(MessagesTest, TableDrivenMessagesKeepTheirWireForm) {
  EXPECT_EQ(Encode(SignRequestMsg{"https://ca/x", "n", "", "{}"}),
            R"({"kid":"","nonce":"n","payload":"{}","url":"https://ca/x"})");
  EXPECT_EQ(Encode(TlsaObservationMsg{true, 300, "seen"}),
            R"({"detail":"seen","published":true,"ttl":300})");
  EXPECT_EQ(Encode(CommitResponseMsg{7}), R"({"version":7})");
  EXPECT_EQ(Encode(KeyChangeRequestMsg{"https://ca/kc", "https://ca/a/1"}),
            R"({"account":"https://ca/a/1","url":"https://ca/kc"})");
  auto ttl = DecodeTlsaObservation(
      Raw(MessageType::kTlsaObservation, R"({"published":true,"ttl":2147483648,"detail":""})"));
  ExpectRejected(ttl, "TlsaObservation message: key \"ttl\": exceeds the maximum of 2147483647");
  auto out = DecodeTlsaObservation(Wire(MessageType::kTlsaObservation,
                                        Encode(TlsaObservationMsg{true, 2147483647, "d"})));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->ttl, 2147483647u);
}

TEST(MessagesTest, RejectsFrameOfWrongType) {
  ExpectRejected(DecodeRemoveRequest(Raw(MessageType::kPublishForRequest, "{\"token\":\"a\"}")),
                 "RemoveRequest message: frame has type PublishForRequest");
}

TEST(MessagesTest, ValidatePayloadDispatchesOnType) {
  EXPECT_TRUE(ValidatePayload(Raw(MessageType::kRemoveRequest, "{\"token\":\"a\"}")).ok());
  EXPECT_FALSE(ValidatePayload(Raw(MessageType::kCommitResponse, "{\"token\":\"a\"}")).ok());
}

}  // namespace
}  // namespace bulkhead::ipc

namespace bulkhead::ipc {
namespace {

// A CA may answer with up to 100 subproblems; the user must see the first
// of them, not a complaint about the message's length.
TEST(MessagesTest, LongErrorIsCutByTheEncoderNotRejectedByTheDecoder) {
  nlohmann::json doc = {{"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
                        {"detail", "Error creating new order"},
                        {"subproblems", nlohmann::json::array()}};
  for (int i = 0; i < 100; ++i) {
    doc["subproblems"].push_back(
        {{"type", "urn:ietf:params:acme:error:rejectedIdentifier"},
         {"detail", "Domain name \"host" + std::to_string(i) +
                        ".example.org\" is forbidden by policy: é " + std::string(40, 'x')},
         {"identifier", {{"type", "dns"}, {"value", "host" + std::to_string(i) + ".example.org"}}}});
  }
  acme::Problem p = acme::ParseProblem(doc.dump(), 400);
  std::string message = p.Message();
  ASSERT_GT(message.size(), kMaxTextLen);
  auto decoded = DecodeError(Wire(MessageType::kError, Encode(ErrorMsg{message, ErrorCode::kUsage})));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_LE(decoded->message.size(), kMaxTextLen);
  EXPECT_NE(decoded->message.find("Error creating new order"), std::string::npos);
  EXPECT_NE(decoded->message.find("host0.example.org"), std::string::npos);
  EXPECT_EQ(decoded->code, ErrorCode::kUsage);
}

TEST(MessagesTest, ErrorCutNeverSplitsACharacter) {
  std::string message(kMaxTextLen - 1, 'a');
  message += "é";  // Two bytes straddling the cap.
  auto decoded = DecodeError(Wire(MessageType::kError, Encode(ErrorMsg{message, ErrorCode::kFailure})));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->message, std::string(kMaxTextLen - 1, 'a'));
}

// Reply takes a role's one answer: the message, or its error with the
// role's code; a frame of any other type is refused as Decode would.
TEST(MessagesTest, ReplyIsTheAnswerOrTheRolesError) {
  auto ok = Reply<TlsaObservationMsg>(
      Wire(MessageType::kTlsaObservation, Encode(TlsaObservationMsg{true, 300, "served"})));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->ttl, 300u);
  auto failed = Reply<TlsaObservationMsg>(
      Wire(MessageType::kError, Encode(ErrorMsg{"no such zone", ErrorCode::kUsage})));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "no such zone");
  EXPECT_EQ(failed.error().code, ErrorCode::kUsage);
  ExpectRejected(Reply<TlsaObservationMsg>(Wire(MessageType::kOk, EncodeEmpty())),
                 "frame has type Ok");
  ExpectRejected(Reply<OkMsg>(Raw(MessageType::kError, "{")), "Error message");
}

}  // namespace
}  // namespace bulkhead::ipc
