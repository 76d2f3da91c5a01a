// The probe role's messages: round trips, the encoders' clean-up of what a
// server chose, and the decoders' checks on what a compromised probe role
// could send its parent.
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

ProbeCertMsg SampleCert() {
  ProbeCertMsg c;
  c.chain = 3;
  c.depth = 0;
  c.last = false;
  c.subject = "CN=www.example.org,O=Exämple";
  c.subject_cn = "www.example.org";
  c.issuer = "CN=Test CA";
  c.names = {"www.example.org", "example.org"};
  c.serial_hex = "1a2b";
  c.serial_der = std::string("\x1a\x2b", 2);
  c.public_key_der = std::string("\x30\x59\x30\x13", 4);
  c.der = std::string("\x30\x82\x01\x00\x00", 5);
  c.not_before = 1700000000;
  c.not_after = 1800000000;
  c.issued_by_next = true;
  c.self_signed = false;
  return c;
}

ProbeOutcomeMsg SampleOutcome() {
  ProbeOutcomeMsg o;
  o.index = 7;
  o.chain = 3;
  o.address = "::1";
  o.tls_version = "TLSv1.3";
  o.cipher = "TLS_AES_128_GCM_SHA256";
  o.key_type = "EC";
  o.key_bits = 256;
  o.curve = "prime256v1";
  o.signature_algorithm = "ecdsa-with-SHA256";
  o.chain_valid = false;
  o.chain_error = "unable to get local issuer certificate";
  o.hostname_match = true;
  o.http_status = 200;
  o.http_headers = {{"content-security-policy", "default-src 'self'"}};
  o.elapsed_us = 12345;
  return o;
}

TEST(ProbeMessagesTest, RoundTrips) {
  ProbeCertMsg c = SampleCert();
  EXPECT_EQ(*DecodeProbeCert(Wire(MessageType::kProbeCert, Encode(c))), c);
  ProbeOutcomeMsg o = SampleOutcome();
  EXPECT_EQ(*DecodeProbeOutcome(Wire(MessageType::kProbeOutcome, Encode(o))), o);
  ProbeOutcomeMsg failed;
  failed.index = 2;
  failed.error = "127.0.0.1:443: connect: Connection refused";
  failed.code = ErrorCode::kTransient;
  EXPECT_EQ(*DecodeProbeOutcome(Wire(MessageType::kProbeOutcome, Encode(failed))), failed);
  EXPECT_TRUE(DecodeEmpty(Wire(MessageType::kProbeRun, EncodeEmpty()), MessageType::kProbeRun).ok());
  EXPECT_TRUE(ValidatePayload(Wire(MessageType::kProbeCert, Encode(c))).ok());
  EXPECT_TRUE(ValidatePayload(Wire(MessageType::kProbeOutcome, Encode(o))).ok());
  EXPECT_EQ(MessageTypeName(MessageType::kProbeOutcome), "ProbeOutcome");
  EXPECT_TRUE(IsKnownMessageType(0x0701));
  EXPECT_TRUE(IsKnownMessageType(0x0703));
}

// What a hostile server chose is made to fit before it is sent, so an
// honest probe never produces a message its parent rejects.
TEST(ProbeMessagesTest, EncodersCleanServerChosenText) {
  ProbeCertMsg c = SampleCert();
  c.subject = "CN=evil\x1b[2J\n" + std::string(10000, 'a');
  c.names = {"ok.example", std::string("bad\x07name"), "", std::string(300, 'x')};
  c.not_before = -5;
  auto back = DecodeProbeCert(Wire(MessageType::kProbeCert, Encode(c)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->subject.rfind("CN=evil?[2J?aaa", 0), 0u) << back->subject;
  EXPECT_EQ(back->subject.size(), kMaxTextLen);
  EXPECT_EQ(back->names, (std::vector<std::string>{"ok.example", "bad?name"}));
  EXPECT_EQ(back->not_before, 0);

  ProbeOutcomeMsg o = SampleOutcome();
  o.http_headers = {{"set-cookie", "a=b"},
                    {"strict-transport-security", std::string(5000, 'm')},
                    {"referrer-policy", "no-referrer\r\nX: y"}};
  o.chain_error = std::string("\xff\xfe broken \xc3", 11);
  auto out = DecodeProbeOutcome(Wire(MessageType::kProbeOutcome, Encode(o)));
  ASSERT_TRUE(out.ok()) << out.error().message;
  ASSERT_EQ(out->http_headers.size(), 2u);
  EXPECT_EQ(out->http_headers[0].first, "referrer-policy");
  EXPECT_EQ(out->http_headers[0].second, "no-referrer??X: y");
  EXPECT_EQ(out->http_headers[1].second.size(), kMaxProbeHeaderLen);
  EXPECT_EQ(out->chain_error, "?? broken ?");
  // Many names: the message still fits a frame.
  ProbeCertMsg many = SampleCert();
  many.names.assign(2 * kMaxProbeNames, std::string(253, 'n'));
  many.der.assign(kMaxProbeCertDer, '\x30');
  std::string payload = Encode(many);
  EXPECT_LE(payload.size(), kMaxPayload);
  auto big = DecodeProbeCert(Wire(MessageType::kProbeCert, payload));
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(big->names.size(), kMaxProbeNames);
}

// A compromised probe role writes its own JSON: the decoders hold.
TEST(ProbeMessagesTest, DecodersRejectWhatAHonestProbeNeverSends) {
  auto cert_with = [](const std::string& key, nlohmann::json value) {
    nlohmann::json j = nlohmann::json::parse(Encode(SampleCert()));
    j[key] = std::move(value);
    return DecodeProbeCert(Wire(MessageType::kProbeCert, j.dump()));
  };
  ExpectRejected(cert_with("subject", "CN=\x1b[31mred"), "control character");
  ExpectRejected(cert_with("names", nlohmann::json::array({"a\nb"})), "control character");
  ExpectRejected(cert_with("serial_hex", "1A2B"), "serial_hex");
  ExpectRejected(cert_with("serial_der", "***"), "serial_der");
  ExpectRejected(cert_with("der", ""), "key \"der\"");
  ExpectRejected(cert_with("der", std::string(200000, 'A')), "key \"der\"");
  ExpectRejected(cert_with("depth", kMaxProbeChainLength), "key \"depth\"");
  ExpectRejected(cert_with("not_after", -1), "not_after");
  ExpectRejected(cert_with("extra", 1), "unknown key");
  {
    nlohmann::json j = nlohmann::json::parse(Encode(SampleCert()));
    j["last"] = true;  // issued_by_next is set: there is no next one.
    ExpectRejected(DecodeProbeCert(Wire(MessageType::kProbeCert, j.dump())), "no next one");
  }

  auto outcome_with = [](const std::string& key, nlohmann::json value) {
    nlohmann::json j = nlohmann::json::parse(Encode(SampleOutcome()));
    j[key] = std::move(value);
    return DecodeProbeOutcome(Wire(MessageType::kProbeOutcome, j.dump()));
  };
  ExpectRejected(outcome_with("http_headers", {{"set-cookie", "a=b"}}), "unexpected header");
  ExpectRejected(outcome_with("http_headers", {{"referrer-policy", "a\rb"}}), "control character");
  ExpectRejected(outcome_with("cipher", "AES\x1b"), "control character");
  ExpectRejected(outcome_with("code", "root"), "key \"code\"");
  ExpectRejected(outcome_with("http_status", 1000), "http_status");
  ExpectRejected(outcome_with("address", ""), "address");
  ExpectRejected(outcome_with("error", "refused"), "error outcome carries a result");
  ExpectRejected(DecodeProbeOutcome(Wire(MessageType::kProbeCert, Encode(SampleOutcome()))),
                 "frame has type");
  ExpectRejected(DecodeEmpty(Wire(MessageType::kProbeRun, "{\"targets\":[]}"),
                             MessageType::kProbeRun),
                 "unknown key");
}

}  // namespace
}  // namespace bulkhead::ipc
