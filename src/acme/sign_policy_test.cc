#include "acme/sign_policy.h"

#include <gtest/gtest.h>

#include "util/base64url.h"

namespace bulkhead::acme {
namespace {

using json = nlohmann::json;

constexpr char kAccount[] = "https://ca.test:14000/my-account/1";

SignPolicy IssuePolicy() {
  SignPolicy p;
  p.operation = SignOperation::kIssue;
  p.origin = "https://ca.test:14000";
  p.account_url = kAccount;
  p.names = {"b.example.org", "A.example.org", "192.0.2.1"};
  return p;
}

jose::SignRequest Req(std::string url, std::string payload, std::string kid = kAccount) {
  return jose::SignRequest{std::move(url), "nonce", std::move(kid), std::move(payload)};
}

std::string NewOrder(const json& ids, const json& extra = json::object()) {
  json j = extra;
  j["identifiers"] = ids;
  return j.dump();
}

json Ids() {
  return json::array({{{"type", "dns"}, {"value", "a.example.org"}},
                      {{"type", "ip"}, {"value", "192.0.2.1"}},
                      {{"type", "dns"}, {"value", "b.example.org"}}});
}

TEST(SignPolicyTest, IssueAllowsWhatAnOrderNeeds) {
  SignPolicy p = IssuePolicy();
  p.csr_der = "csr-bytes";
  EXPECT_TRUE(CheckSignRequest(p, Req("https://ca.test:14000/order/1", "")).ok());
  EXPECT_TRUE(CheckSignRequest(p, Req("https://ca.test:14000/chall/1", "{}")).ok());
  EXPECT_TRUE(CheckSignRequest(p, Req("https://ca.test:14000/new-order", NewOrder(Ids()))).ok());
  json fin = {{"csr", Base64UrlEncode("csr-bytes")}};
  EXPECT_TRUE(CheckSignRequest(p, Req("https://CA.test:14000/finalize/1", fin.dump())).ok());
}

TEST(SignPolicyTest, IssueRefusesEverythingElse) {
  SignPolicy p = IssuePolicy();
  const std::string url = "https://ca.test:14000/x";
  struct Case {
    const char* what;
    jose::SignRequest req;
  };
  json foreign = Ids();
  foreign.push_back({{"type", "dns"}, {"value", "evil.example.net"}});
  json fewer = json::array({Ids()[0]});
  json dup = Ids();
  dup.push_back(Ids()[0]);
  json upper = json::array({{{"type", "dns"}, {"value", "A.example.org"}}, Ids()[1], Ids()[2]});
  json inner = {{"protected", "e30"}, {"payload", "e30"}, {"signature", "AA"}};
  Case cases[] = {
      {"other origin", Req("https://evil.test/new-order", "")},
      {"other port", Req("https://ca.test:14001/x", "")},
      {"plain http", Req("http://ca.test:14000/x", "")},
      {"no nonce", jose::SignRequest{url, "", kAccount, ""}},
      {"embedded jwk", Req(url, "", "")},
      {"other kid", Req(url, "", "https://ca.test:14000/my-account/2")},
      {"foreign name", Req(url, NewOrder(foreign))},
      {"fewer names", Req(url, NewOrder(fewer))},
      {"duplicate name", Req(url, NewOrder(dup))},
      {"non-canonical name", Req(url, NewOrder(upper))},
      {"unasked profile", Req(url, NewOrder(Ids(), {{"profile", "shortlived"}}))},
      {"unasked replaces", Req(url, NewOrder(Ids(), {{"replaces", "abc.def"}}))},
      {"extra member", Req(url, NewOrder(Ids(), {{"notAfter", "2030-01-01T00:00:00Z"}}))},
      {"finalize before the CSR", Req(url, json({{"csr", "AAAA"}}).dump())},
      {"keyChange", Req(url, inner.dump())},
      {"deactivation", Req(kAccount, json({{"status", "deactivated"}}).dump())},
      {"contact update", Req(kAccount, json({{"contact", {"mailto:x@evil"}}}).dump())},
      {"revokeCert", Req(url, json({{"certificate", "AAAA"}, {"reason", 1}}).dump())},
      {"not JSON", Req(url, "{")},
      {"array", Req(url, "[]")},
      {"deep", Req(url, std::string(100, '[') + std::string(100, ']'))},
  };
  for (const Case& c : cases) {
    Status st = CheckSignRequest(p, c.req);
    EXPECT_FALSE(st.ok()) << c.what;
    if (!st.ok()) {
      EXPECT_NE(st.error().message.find("signer refused"), std::string::npos) << c.what;
    }
  }
}

TEST(SignPolicyTest, FinalizeOnlyWithTheRunsCsr) {
  SignPolicy p = IssuePolicy();
  p.csr_der = "the-csr";
  EXPECT_FALSE(
      CheckSignRequest(p, Req("https://ca.test:14000/f", json({{"csr", Base64UrlEncode("other")}})
                                                             .dump()))
          .ok());
  EXPECT_FALSE(CheckSignRequest(p, Req("https://ca.test:14000/f", json({{"csr", 1}}).dump())).ok());
  EXPECT_FALSE(CheckSignRequest(p, Req("https://ca.test:14000/f",
                                       json({{"csr", Base64UrlEncode("the-csr")}, {"x", 1}}).dump()))
                   .ok());
}

TEST(SignPolicyTest, ProfileAndReplacesExactlyAsDecided) {
  SignPolicy p = IssuePolicy();
  p.profile = "shortlived";
  p.replaces = "aki.serial";
  const std::string url = "https://ca.test:14000/new-order";
  EXPECT_TRUE(CheckSignRequest(
                  p, Req(url, NewOrder(Ids(), {{"profile", "shortlived"}, {"replaces", "aki.serial"}})))
                  .ok());
  // Without replaces: the retry after alreadyReplaced.
  EXPECT_TRUE(CheckSignRequest(p, Req(url, NewOrder(Ids(), {{"profile", "shortlived"}}))).ok());
  EXPECT_FALSE(CheckSignRequest(p, Req(url, NewOrder(Ids(), {{"replaces", "aki.serial"}}))).ok());
  EXPECT_FALSE(CheckSignRequest(
                   p, Req(url, NewOrder(Ids(), {{"profile", "shortlived"}, {"replaces", "x.y"}})))
                   .ok());
  EXPECT_FALSE(CheckSignRequest(
                   p, Req(url, NewOrder(Ids(), {{"profile", "classic"}, {"replaces", "aki.serial"}})))
                   .ok());
}

TEST(SignPolicyTest, AccountCommandsSignOnlyTheirOperation) {
  SignPolicy show;
  show.operation = SignOperation::kShow;
  show.origin = "https://ca.test:14000";
  show.account_url = kAccount;
  EXPECT_TRUE(CheckSignRequest(show, Req(kAccount, "")).ok());
  EXPECT_FALSE(CheckSignRequest(show, Req(kAccount, json({{"status", "deactivated"}}).dump())).ok());

  SignPolicy deact = show;
  deact.operation = SignOperation::kDeactivate;
  EXPECT_TRUE(CheckSignRequest(deact, Req(kAccount, json({{"status", "deactivated"}}).dump())).ok());
  EXPECT_FALSE(CheckSignRequest(deact, Req("https://ca.test:14000/authz/1",
                                           json({{"status", "deactivated"}}).dump()))
                   .ok());

  SignPolicy reg;
  reg.operation = SignOperation::kRegister;
  reg.origin = "https://ca.test:14000";
  reg.contact = {"mailto:admin@example.org"};
  reg.agree_tos = true;
  const std::string na = "https://ca.test:14000/new-acct";
  json create = {{"contact", reg.contact}, {"termsOfServiceAgreed", true}};
  EXPECT_TRUE(CheckSignRequest(reg, Req(na, create.dump(), "")).ok());
  EXPECT_TRUE(CheckSignRequest(reg, Req(na, json({{"onlyReturnExisting", true}}).dump(), "")).ok());
  json other = {{"contact", {"mailto:evil@example.net"}}};
  EXPECT_FALSE(CheckSignRequest(reg, Req(na, other.dump(), "")).ok());
  EXPECT_FALSE(CheckSignRequest(reg, Req(na, NewOrder(Ids()), kAccount)).ok());
  reg.agree_tos = false;
  EXPECT_FALSE(CheckSignRequest(reg, Req(na, create.dump(), "")).ok());
}

// InnerKeyChange builds the payload of an outer keyChange JWS.
std::string InnerKeyChange(const std::string& url, const std::string& account) {
  json header = {{"alg", "ES256"}, {"url", url}};
  json body = {{"account", account}, {"oldKey", {{"kty", "EC"}}}};
  json jws = {{"protected", Base64UrlEncode(header.dump())},
              {"payload", Base64UrlEncode(body.dump())},
              {"signature", "AA"}};
  return jws.dump();
}

TEST(SignPolicyTest, KeyChangeOnlyInARolloverOfTheOwnAccount) {
  SignPolicy p;
  p.operation = SignOperation::kRollover;
  p.origin = "https://ca.test:14000";
  p.account_url = kAccount;
  const std::string kc = "https://ca.test:14000/rollover-account-key";
  EXPECT_TRUE(CheckSignRequest(p, Req(kc, InnerKeyChange(kc, kAccount))).ok());
  EXPECT_FALSE(CheckSignRequest(p, Req(kc, InnerKeyChange(kc, "https://ca.test:14000/other"))).ok());
  EXPECT_FALSE(CheckSignRequest(p, Req(kc, InnerKeyChange("https://ca.test:14000/x", kAccount)))
                   .ok());
  EXPECT_TRUE(CheckKeyChangeInner(p, kc, kAccount).ok());
  EXPECT_FALSE(CheckKeyChangeInner(p, kc, "https://ca.test:14000/other").ok());
  EXPECT_FALSE(CheckKeyChangeInner(IssuePolicy(), kc, kAccount).ok());
  EXPECT_FALSE(CheckSignRequest(IssuePolicy(), Req(kc, InnerKeyChange(kc, kAccount))).ok());
}

TEST(SignPolicyTest, RevokeOnlyTheRunsCertificate) {
  SignPolicy p;
  p.operation = SignOperation::kRevoke;
  p.origin = "https://ca.test:14000";
  p.account_url = kAccount;
  p.revoke_cert_der = "cert";
  p.revoke_reason = 4;
  const std::string rc = "https://ca.test:14000/revoke-cert";
  json mine = {{"certificate", Base64UrlEncode("cert")}, {"reason", 4}};
  json other = {{"certificate", Base64UrlEncode("another")}, {"reason", 4}};
  json reason = {{"certificate", Base64UrlEncode("cert")}, {"reason", 1}};
  EXPECT_TRUE(CheckSignRequest(p, Req(rc, mine.dump())).ok());
  EXPECT_FALSE(CheckSignRequest(p, Req(rc, other.dump())).ok());
  EXPECT_FALSE(CheckSignRequest(p, Req(rc, reason.dump())).ok());
  EXPECT_FALSE(CheckSignRequest(p, Req(rc, mine.dump(), "")).ok());
  EXPECT_FALSE(CheckSignRequest(p, Req(rc, "")).ok());
  p.with_cert_key = true;
  EXPECT_TRUE(CheckSignRequest(p, Req(rc, mine.dump(), "")).ok());
  EXPECT_FALSE(CheckSignRequest(p, Req(rc, mine.dump())).ok());
}

}  // namespace
}  // namespace bulkhead::acme
