#include "acme/types.h"

#include "dns/name.h"
#include "util/json.h"
#include "util/text.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace bulkhead::acme {
namespace {

using nlohmann::json;

// ParseObject parses `body` as a JSON object; `what` names it in errors.
Result<json> ParseObject(std::string_view body, std::string_view what) {
  json j = ParseUntrustedJson(body);
  if (j.is_discarded()) {
    return Err("{} from the CA is not valid JSON (or nests deeper than {} levels)", what,
               kMaxJsonDepth);
  }
  if (!j.is_object()) {
    return Err("{} from the CA is not a JSON object", what);
  }
  return j;
}

// GetString returns member `key` if it is a string, else "".
std::string GetString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    return "";
  }
  return it->get<std::string>();
}

// RequireString returns member `key` or an error naming `what` and `key`.
Result<std::string> RequireString(const json& j, const char* key, std::string_view what) {
  std::string s = GetString(j, key);
  if (s.empty()) {
    return Err("{} from the CA lacks the required field \"{}\"", what, key);
  }
  return s;
}

Result<std::string> RequireHttpsUrl(const json& j, const char* key, std::string_view what) {
  BH_ASSIGN(std::string url, RequireString(j, key, what));
  if (url.rfind("https://", 0) != 0) {
    return Err("{} from the CA has a non-https \"{}\" URL", what, key);
  }
  return url;
}

Status CheckStatus(const std::string& status, std::initializer_list<const char*> allowed,
                   std::string_view what) {
  for (const char* a : allowed) {
    if (status == a) {
      return OkStatus();
    }
  }
  std::string printable = status.substr(0, 40);
  std::replace_if(
      printable.begin(), printable.end(), [](char c) { return !std::isprint(static_cast<unsigned char>(c)); },
      '?');
  return Err("{} from the CA has status \"{}\", which RFC 8555 does not define", what, printable);
}

Result<Identifier> ParseIdentifier(const json& j, std::string_view what) {
  if (!j.is_object()) {
    return Err("{} from the CA has a malformed identifier", what);
  }
  Identifier id{GetString(j, "type"), GetString(j, "value")};
  if (id.type.empty() || id.value.empty()) {
    return Err("{} from the CA has an identifier without type or value", what);
  }
  return id;
}

bool IsIpLiteral(std::string_view s) {
  std::string z(s);
  std::array<unsigned char, 16> buf;
  return inet_pton(AF_INET, z.c_str(), buf.data()) == 1 ||
         inet_pton(AF_INET6, z.c_str(), buf.data()) == 1;
}

}  // namespace

Result<Directory> ParseDirectory(std::string_view body) {
  constexpr std::string_view kWhat = "the directory";
  BH_ASSIGN(json j, ParseObject(body, kWhat));
  Directory d;
  BH_ASSIGN(d.new_nonce, RequireHttpsUrl(j, "newNonce", kWhat));
  BH_ASSIGN(d.new_account, RequireHttpsUrl(j, "newAccount", kWhat));
  BH_ASSIGN(d.new_order, RequireHttpsUrl(j, "newOrder", kWhat));
  d.revoke_cert = GetString(j, "revokeCert");
  d.key_change = GetString(j, "keyChange");
  d.renewal_info = GetString(j, "renewalInfo");
  auto meta = j.find("meta");
  if (meta != j.end() && meta->is_object()) {
    d.terms_of_service = GetString(*meta, "termsOfService");
    d.external_account_required = JsonFlag(*meta, "externalAccountRequired");
    auto profiles = meta->find("profiles");
    if (profiles != meta->end() && profiles->is_object()) {
      d.profiles = *profiles;
    }
  }
  return d;
}

Identifier IdentifierFor(std::string_view name) {
  if (IsIpLiteral(name)) {
    return Identifier{"ip", std::string(name)};
  }
  return Identifier{"dns", AsciiLower(name)};
}

std::string CanonicalName(std::string_view name) {
  std::string text(name);
  in6_addr addr;
  char buf[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET6, text.c_str(), &addr) == 1 &&
      inet_ntop(AF_INET6, &addr, buf, sizeof(buf)) != nullptr) {
    return buf;
  }
  return AsciiLower(text);
}

std::vector<std::string> CanonicalNameSet(std::vector<std::string> names) {
  for (std::string& name : names) {
    name = CanonicalName(name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Status ValidateName(std::string_view name) {
  if (IsIpLiteral(name)) {
    return OkStatus();
  }
  // A name in a certificate is a host name, unlike the service and zone
  // names dns::IsDnsName also accepts: no '_', no final dot, no '-' at a
  // label's ends, two labels at least, and optionally a "*." wildcard.
  dns::DnsNameSyntax syntax;
  syntax.allow_final_dot = false;
  syntax.allow_wildcard = true;
  syntax.host_labels = true;
  syntax.min_labels = 2;
  dns::DnsNameCheck check = dns::CheckDnsName(name, syntax);
  std::string shown(name.substr(0, 80));
  switch (check.fault) {
    case dns::DnsNameFault::kNone:
      break;
    case dns::DnsNameFault::kLength:
      return ErrCode(ErrorCode::kUsage, "invalid name \"{}\": length must be 1..253", shown);
    case dns::DnsNameFault::kLabel:
      return ErrCode(ErrorCode::kUsage, "invalid name \"{}\": bad label \"{}\"", shown,
                     std::string(check.label.substr(0, 63)));
    case dns::DnsNameFault::kCharacter:
      return ErrCode(ErrorCode::kUsage,
                     "invalid name \"{}\": only letters, digits, '-' and '.' are allowed "
                     "(a leading \"*.\" for a wildcard)",
                     shown);
    case dns::DnsNameFault::kTooFewLabels:
      return ErrCode(ErrorCode::kUsage, "invalid name \"{}\": needs at least two labels", shown);
  }
  return OkStatus();
}

Result<Authorization> ParseAuthorization(std::string_view body, const std::string& url) {
  std::string what = fmt::format("authorization {}", url);
  BH_ASSIGN(json j, ParseObject(body, what));
  Authorization a;
  a.url = url;
  BH_ASSIGN(a.status, RequireString(j, "status", what));
  BH_TRY(CheckStatus(a.status, {"pending", "valid", "invalid", "deactivated", "expired", "revoked"},
                     what));
  auto id = j.find("identifier");
  if (id == j.end()) {
    return Err("{} lacks the required field \"identifier\"", what);
  }
  BH_ASSIGN(a.identifier, ParseIdentifier(*id, what));
  auto wc = j.find("wildcard");
  a.wildcard = wc != j.end() && wc->is_boolean() && wc->get<bool>();
  auto chs = j.find("challenges");
  if (chs == j.end() || !chs->is_array()) {
    return Err("{} lacks the required array \"challenges\"", what);
  }
  for (const json& c : *chs) {
    if (!c.is_object()) {
      return Err("{} has a malformed challenge", what);
    }
    Challenge ch;
    ch.type = GetString(c, "type");
    ch.url = GetString(c, "url");
    ch.status = GetString(c, "status");
    ch.token = GetString(c, "token");
    auto err = c.find("error");
    if (err != c.end()) {
      ch.error = *err;
    }
    if (ch.type.empty() || ch.url.empty()) {
      return Err("{} has a challenge without type or url", what);
    }
    BH_TRY(CheckStatus(ch.status, {"pending", "processing", "valid", "invalid"}, what));
    a.challenges.push_back(std::move(ch));
  }
  return a;
}

Result<Order> ParseOrder(std::string_view body, const std::string& url) {
  std::string what = fmt::format("order {}", url);
  BH_ASSIGN(json j, ParseObject(body, what));
  Order o;
  o.url = url;
  BH_ASSIGN(o.status, RequireString(j, "status", what));
  BH_TRY(CheckStatus(o.status, {"pending", "ready", "processing", "valid", "invalid"}, what));
  auto ids = j.find("identifiers");
  if (ids == j.end() || !ids->is_array() || ids->empty()) {
    return Err("{} lacks the required array \"identifiers\"", what);
  }
  for (const json& i : *ids) {
    BH_ASSIGN(Identifier id, ParseIdentifier(i, what));
    o.identifiers.push_back(std::move(id));
  }
  auto authzs = j.find("authorizations");
  if (authzs == j.end() || !authzs->is_array()) {
    return Err("{} lacks the required array \"authorizations\"", what);
  }
  for (const json& a : *authzs) {
    if (!a.is_string()) {
      return Err("{} has a malformed authorization URL", what);
    }
    o.authorizations.push_back(a.get<std::string>());
  }
  BH_ASSIGN(o.finalize, RequireString(j, "finalize", what));
  o.certificate = GetString(j, "certificate");
  auto err = j.find("error");
  if (err != j.end()) {
    o.error = *err;
  }
  if (o.status == "valid" && o.certificate.empty()) {
    return Err("{} is valid but names no certificate URL", what);
  }
  return o;
}

Result<Account> ParseAccount(std::string_view body, const std::string& url) {
  std::string what = fmt::format("account {}", url);
  BH_ASSIGN(json j, ParseObject(body, what));
  Account a;
  a.url = url;
  BH_ASSIGN(a.status, RequireString(j, "status", what));
  BH_TRY(CheckStatus(a.status, {"valid", "deactivated", "revoked"}, what));
  auto contact = j.find("contact");
  if (contact != j.end() && contact->is_array()) {
    for (const json& c : *contact) {
      if (c.is_string()) {
        a.contact.push_back(c.get<std::string>());
      }
    }
  }
  a.orders = GetString(j, "orders");
  return a;
}

}  // namespace bulkhead::acme
