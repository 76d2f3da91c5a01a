#include "acme/sign_policy.h"

#include <algorithm>
#include <set>

#include "acme/http.h"
#include "acme/types.h"
#include "util/base64url.h"
#include "util/json.h"

namespace bulkhead::acme {
namespace {

using json = nlohmann::json;

// Describe names a request in an error without echoing much of what a
// hostile peer sent.
std::string Describe(const jose::SignRequest& r) {
  std::string url = r.url.substr(0, 200);
  std::string payload = r.payload.substr(0, 80);
  return fmt::format("request to {} with payload {}{}", url.empty() ? "(no URL)" : url,
                     payload.empty() ? "\"\" (POST-as-GET)" : payload,
                     r.payload.size() > 80 ? "..." : "");
}

// ParseObject parses `text` as a JSON object; anything else is an error.
Result<json> ParseObject(std::string_view text) {
  json j = ParseUntrustedJson(text);
  if (!j.is_object()) {
    return Err("the payload is not a JSON object");
  }
  return j;
}

// KeysAre reports whether `j` has exactly the members in `required` plus any
// of `optional`.
bool KeysAre(const json& j, std::initializer_list<std::string_view> required,
             std::initializer_list<std::string_view> optional = {}) {
  for (std::string_view k : required) {
    if (!j.contains(k)) {
      return false;
    }
  }
  for (const auto& [k, v] : j.items()) {
    bool known = std::find(required.begin(), required.end(), k) != required.end() ||
                 std::find(optional.begin(), optional.end(), k) != optional.end();
    if (!known) {
      return false;
    }
  }
  return true;
}

// IdentifierSet canonicalises names the way newOrder sends them.
std::set<std::string> IdentifierSet(const std::vector<std::string>& names) {
  std::set<std::string> out;
  for (const std::string& n : names) {
    out.insert(IdentifierFor(n).ToString());
  }
  return out;
}

// StringMemberIs reports whether optional string member `key` of `j` equals
// `want` ("" = must be absent).
bool StringMemberIs(const json& j, std::string_view key, const std::string& want) {
  if (!j.contains(key)) {
    return want.empty();
  }
  return !want.empty() && j[key].is_string() && j[key].get<std::string>() == want;
}

Status CheckNewOrder(const SignPolicy& p, const json& j) {
  if (!KeysAre(j, {"identifiers"}, {"profile", "replaces"}) || !j["identifiers"].is_array()) {
    return Err("a newOrder payload may carry only identifiers, profile and replaces");
  }
  std::set<std::string> asked;
  for (const json& id : j["identifiers"]) {
    if (!id.is_object() || !KeysAre(id, {"type", "value"}) || !id["type"].is_string() ||
        !id["value"].is_string()) {
      return Err("newOrder: an identifier is not {{type, value}}");
    }
    Identifier parsed{id["type"].get<std::string>(), id["value"].get<std::string>()};
    if (IdentifierFor(parsed.value) != parsed) {
      return Err("newOrder: identifier {} is not in canonical form",
                 parsed.ToString().substr(0, 100));
    }
    asked.insert(parsed.ToString());
  }
  if (asked != IdentifierSet(p.names) || asked.size() != j["identifiers"].size()) {
    return Err("newOrder for names other than this run's ({})", fmt::join(p.names, ", "));
  }
  if (!StringMemberIs(j, "profile", p.profile)) {
    return Err("newOrder with a profile other than the one this run asked for (\"{}\")", p.profile);
  }
  // Without "replaces" is allowed too: a CA that answers alreadyReplaced
  // gets the same order again without it (RFC 9773 section 5).
  if (j.contains("replaces") && !StringMemberIs(j, "replaces", p.replaces)) {
    return Err("newOrder replacing a certificate other than the one this run replaces (\"{}\")",
               p.replaces);
  }
  return OkStatus();
}

Status CheckFinalize(const SignPolicy& p, const json& j) {
  if (!j["csr"].is_string()) {
    return Err("finalize without a CSR string");
  }
  if (p.csr_der.empty()) {
    return Err("finalize before the parent released the CSR of this run");
  }
  auto der = Base64UrlDecode(j["csr"].get<std::string>());
  if (!der.ok() || *der != p.csr_der) {
    return Err("finalize with a CSR other than the one the keys role made for this run");
  }
  return OkStatus();
}

Status CheckIssue(const SignPolicy& p, const jose::SignRequest& r) {
  if (r.payload == "{}") {
    return OkStatus();  // A challenge response.
  }
  BH_ASSIGN(json j, ParseObject(r.payload));
  if (j.contains("identifiers")) {
    return CheckNewOrder(p, j);
  }
  if (KeysAre(j, {"csr"})) {
    return CheckFinalize(p, j);
  }
  return Err("an issuing run signs only POST-as-GET, challenge responses, its own newOrder and "
             "its own finalize");
}

bool ContactIs(const SignPolicy& p, const json& j) {
  return j.contains("contact") && j["contact"] == json(p.contact);
}

Status CheckRegister(const SignPolicy& p, const jose::SignRequest& r, const json& j) {
  if (r.kid.empty()) {  // newAccount, signed with the embedded JWK.
    if (j.contains("onlyReturnExisting")) {
      if (KeysAre(j, {"onlyReturnExisting"}) && j["onlyReturnExisting"] == true) {
        return OkStatus();
      }
      return Err("an account lookup carries nothing but onlyReturnExisting: true");
    }
    if (!KeysAre(j, {"contact"}, {"termsOfServiceAgreed", "externalAccountBinding"}) ||
        !ContactIs(p, j)) {
      return Err("newAccount with a contact other than this run's");
    }
    if (j.contains("termsOfServiceAgreed") && !(p.agree_tos && j["termsOfServiceAgreed"] == true)) {
      return Err("newAccount agreeing to terms this run did not agree to");
    }
    if (j.contains("externalAccountBinding") && !j["externalAccountBinding"].is_object()) {
      return Err("newAccount with a malformed externalAccountBinding");
    }
    return OkStatus();
  }
  // The contact update of an account found by its key: the CA named the
  // account, so any account URL of the CA's origin.
  if (KeysAre(j, {"contact"}) && ContactIs(p, j)) {
    return OkStatus();
  }
  return Err("account register signs only newAccount and an update to this run's contact");
}

// CheckKeyChangeOuter checks the outer keyChange JWS: its payload is the
// inner JWS, made by the new key for this account and this URL.
Status CheckKeyChangeOuter(const SignPolicy& p, const jose::SignRequest& r, const json& j) {
  if (!KeysAre(j, {"protected", "payload", "signature"}) || !j["protected"].is_string() ||
      !j["payload"].is_string()) {
    return Err("account rollover signs only a keyChange carrying an inner JWS");
  }
  auto prot = Base64UrlDecode(j["protected"].get<std::string>());
  auto inner = Base64UrlDecode(j["payload"].get<std::string>());
  if (!prot.ok() || !inner.ok()) {
    return Err("keyChange: the inner JWS is not base64url");
  }
  BH_ASSIGN(json header, ParseObject(*prot));
  BH_ASSIGN(json body, ParseObject(*inner));
  if (!header["url"].is_string() || header["url"].get<std::string>() != r.url) {
    return Err("keyChange: the inner JWS is for another URL");
  }
  if (!KeysAre(body, {"account", "oldKey"}) || !body["account"].is_string() ||
      body["account"].get<std::string>() != p.account_url) {
    return Err("keyChange for an account other than this run's ({})", p.account_url);
  }
  return OkStatus();
}

Status CheckRevoke(const SignPolicy& p, const json& j) {
  if (!KeysAre(j, {"certificate"}, {"reason"}) || !j["certificate"].is_string()) {
    return Err("a revoking run signs only its revokeCert");
  }
  auto der = Base64UrlDecode(j["certificate"].get<std::string>());
  if (!der.ok() || *der != p.revoke_cert_der) {
    return Err("revokeCert of a certificate other than this run's");
  }
  int reason = j.contains("reason") && j["reason"].is_number_integer() ? j["reason"].get<int>()
                                                                         : -1;
  if (j.contains("reason") ? reason != p.revoke_reason : p.revoke_reason != 0) {
    return Err("revokeCert with a reason other than this run's ({})", p.revoke_reason);
  }
  return OkStatus();
}

Status CheckKid(const SignPolicy& p, const jose::SignRequest& r) {
  bool jwk_allowed = (p.operation == SignOperation::kRegister) ||
                     (p.operation == SignOperation::kRevoke && p.with_cert_key);
  if (r.kid.empty()) {
    return jwk_allowed ? OkStatus()
                       : Err("only an account registration embeds the key instead of a kid");
  }
  if (p.operation == SignOperation::kRevoke && p.with_cert_key) {
    return Err("a revocation with the certificate's key carries no kid");
  }
  if (p.operation == SignOperation::kRegister) {
    return UrlOrigin(r.kid) == p.origin ? OkStatus() : Err("a kid of another origin");
  }
  return r.kid == p.account_url ? OkStatus()
                                : Err("a kid other than this run's account ({})", p.account_url);
}

Status Check(const SignPolicy& p, const jose::SignRequest& r) {
  if (p.origin.empty() || UrlOrigin(r.url) != p.origin) {
    return Err("a URL outside the CA's origin {}", p.origin);
  }
  if (r.nonce.empty()) {
    return Err("a request without a nonce (an inner JWS)");
  }
  BH_TRY(CheckKid(p, r));
  if (r.payload.empty() && p.operation != SignOperation::kRevoke) {
    if (r.kid.empty()) {
      return Err("POST-as-GET without an account");
    }
    return OkStatus();  // POST-as-GET reads; it changes nothing.
  }
  switch (p.operation) {
    case SignOperation::kIssue:
      return CheckIssue(p, r);
    case SignOperation::kRegister: {
      BH_ASSIGN(json j, ParseObject(r.payload));
      return CheckRegister(p, r, j);
    }
    case SignOperation::kShow:
      return Err("account show signs only POST-as-GET");
    case SignOperation::kDeactivate: {
      BH_ASSIGN(json j, ParseObject(r.payload));
      if (r.url == p.account_url && KeysAre(j, {"status"}) && j["status"] == "deactivated") {
        return OkStatus();
      }
      return Err("account deactivate signs only the deactivation of its own account");
    }
    case SignOperation::kRollover: {
      BH_ASSIGN(json j, ParseObject(r.payload));
      return CheckKeyChangeOuter(p, r, j);
    }
    case SignOperation::kRevoke: {
      BH_ASSIGN(json j, ParseObject(r.payload));
      return CheckRevoke(p, j);
    }
  }
  return Err("unknown operation");
}

}  // namespace

std::string_view SignOperationName(SignOperation op) {
  switch (op) {
    case SignOperation::kIssue:
      return "issue";
    case SignOperation::kRegister:
      return "account register";
    case SignOperation::kShow:
      return "account show";
    case SignOperation::kDeactivate:
      return "account deactivate";
    case SignOperation::kRollover:
      return "account rollover";
    case SignOperation::kRevoke:
      return "revoke";
  }
  return "unknown";
}

Status CheckSignRequest(const SignPolicy& policy, const jose::SignRequest& request) {
  Status st = Check(policy, request);
  if (!st.ok()) {
    return Err("the signer refused a {} (this run may only {}): {}", Describe(request),
               SignOperationName(policy.operation), st.error().message);
  }
  return OkStatus();
}

Status CheckKeyChangeInner(const SignPolicy& policy, std::string_view url,
                           std::string_view account) {
  if (policy.operation != SignOperation::kRollover) {
    return Err("the signer refused a keyChange: this run may only {}",
               SignOperationName(policy.operation));
  }
  if (UrlOrigin(url) != policy.origin || account != policy.account_url) {
    return Err("the signer refused a keyChange for {} at {}: this run rolls over {} only",
               std::string(account.substr(0, 200)), std::string(url.substr(0, 200)),
               policy.account_url);
  }
  return OkStatus();
}

}  // namespace bulkhead::acme
