#include "acme/issuance.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <set>

#include "util/base64url.h"
#include "util/log.h"
#include "util/text.h"

namespace bulkhead::acme {
namespace {

// kClockSkew tolerates a CA clock slightly ahead of ours when checking that
// a fresh certificate is already valid.
constexpr int64_t kClockSkewSeconds = 3600;

// NormalizeName lower-cases DNS names and canonicalises IP literals, so
// that names from the command line and from the certificate compare equal.
std::string NormalizeName(std::string_view name) {
  std::string s(name);
  std::array<unsigned char, 16> buf;
  char out[INET6_ADDRSTRLEN];
  for (int af : {AF_INET, AF_INET6}) {
    if (inet_pton(af, s.c_str(), buf.data()) == 1 && inet_ntop(af, buf.data(), out, sizeof(out))) {
      return out;
    }
  }
  return AsciiLower(s);
}

std::string DescribeChallenges(const Authorization& authz) {
  std::string out;
  for (const Challenge& c : authz.challenges) {
    out += (out.empty() ? "" : ", ") + c.type;
  }
  return out.empty() ? "none" : out;
}

// PublishedToken removes its challenge from the publisher when it goes out
// of scope, so no path out of ObtainCertificate leaves a token behind.
class PublishedToken {
 public:
  PublishedToken(challenge::Publisher& publisher, challenge::Challenge challenge)
      : publisher_(publisher), challenge_(std::move(challenge)) {}
  PublishedToken(const PublishedToken&) = delete;
  PublishedToken& operator=(const PublishedToken&) = delete;
  ~PublishedToken() {
    Status st = publisher_.Remove(challenge_);
    if (!st.ok()) {
      LogWarn("removing challenge token: {}", st.error().message);
    }
  }

 private:
  challenge::Publisher& publisher_;
  challenge::Challenge challenge_;
};

// Pending is one authorization we are answering.
struct Pending {
  Authorization authz;
  Challenge challenge;
};

// PrepareAuthorization fetches an authorization and picks its challenge of
// `type` ("http-01" or "dns-01", what the publisher answers).
Result<Pending> PrepareAuthorization(Client& client, const std::string& url,
                                     const std::string& type) {
  BH_ASSIGN(Authorization authz, client.FetchAuthorization(url));
  std::string id = authz.identifier.ToString();
  if (authz.status != "pending" && authz.status != "valid") {
    return Err("{}: the authorization is {}; create a new order", id, authz.status);
  }
  auto it = std::find_if(authz.challenges.begin(), authz.challenges.end(),
                         [&](const Challenge& c) { return c.type == type; });
  if (authz.status == "valid") {
    return Pending{std::move(authz), {}};
  }
  if (it == authz.challenges.end()) {
    return Err("{}: the CA offers no {} challenge (it offers: {})", id, type,
               DescribeChallenges(authz));
  }
  if (!IsBase64UrlToken(it->token) || it->token.size() > 256) {
    return Err("{}: the CA sent a {} token that is not base64url; refusing it", id, type);
  }
  Challenge ch = *it;
  return Pending{std::move(authz), std::move(ch)};
}

Error FailedAuthorization(const Authorization& authz, const challenge::Publisher& publisher) {
  std::string id = authz.identifier.ToString();
  for (const Challenge& c : authz.challenges) {
    if (c.status == "invalid" && !c.error.is_null()) {
      Problem p = ParseProblem(c.error.dump(), /*http_status=*/0);
      if (p.identifier.empty()) {
        p.identifier = id;
      }
      Error e = ProblemError(p, fmt::format("{} validation failed", c.type));
      if (c.type == "http-01") {
        e.message += fmt::format(
            "\n  check that http://{}/.well-known/acme-challenge/ on port 80 serves the files "
            "of the {}",
            authz.identifier.value, publisher.Describe());
      } else if (c.type == "dns-01") {
        e.message += fmt::format(
            "\n  check that the TXT record _acme-challenge.{} is served by every "
            "authoritative server ({})",
            authz.identifier.value, publisher.Describe());
      }
      return e;
    }
  }
  return Err("{}: the authorization ended as {} without a reason from the CA", id, authz.status);
}

Error OrderFailed(const Order& order, std::string_view step) {
  if (!order.error.is_null()) {
    return ProblemError(ParseProblem(order.error.dump(), 0),
                        fmt::format("order {} became {} while {}", order.url, order.status, step));
  }
  return Err("order {} is {} while {}; expected it to progress", order.url, order.status, step);
}

// RespondOnce answers a challenge. If the answer is lost or refused, the
// authorization tells whether the CA got it: a challenge already processing
// or already decided is simply polled, like any other.
Status RespondOnce(Client& client, const Pending& p) {
  Status st = client.RespondToChallenge(p.challenge);
  if (st.ok()) {
    return st;
  }
  auto authz = client.FetchAuthorization(p.authz.url);
  if (!authz.ok()) {
    return st;
  }
  for (const Challenge& c : authz->challenges) {
    if (c.url == p.challenge.url && c.status != "pending") {
      LogInfo("{}: the challenge answer was lost, but the CA has it ({})",
              p.authz.identifier.ToString(), c.status);
      return OkStatus();
    }
  }
  return st;
}

bool SameIdentifiers(const std::vector<Identifier>& a, const std::vector<Identifier>& b) {
  std::set<std::string> sa;
  std::set<std::string> sb;
  for (const Identifier& i : a) {
    sa.insert(i.ToString());
  }
  for (const Identifier& i : b) {
    sb.insert(i.ToString());
  }
  return sa == sb;
}

// FinalizeOnce finalizes `order`. If the answer is lost or the CA reports a
// failure, the order itself tells whether the CSR arrived: a processing or
// valid order is carried on with; a still-ready one is finalized once more
// after a transient failure or an orderNotReady (it became ready meanwhile);
// a pending one (the CA has not applied the valid authorizations to the
// order yet: ObtainCertificate finalizes as soon as every authorization is
// valid) is waited for and then finalized.
Result<Order> FinalizeOnce(Client& client, const Order& order, const std::string& csr_der) {
  auto finalized = client.Finalize(order, csr_der);
  if (finalized.ok()) {
    return finalized;
  }
  LogInfo("finalizing {} failed ({}); asking the CA for the order's state", order.url,
          finalized.error().message);
  auto now = client.FetchOrder(order.url);
  if (!now.ok()) {
    return finalized.error();
  }
  if (now->status == "pending") {
    BH_ASSIGN(Order ready, client.PollOrder(order.url, /*wait_pending=*/true));
    if (ready.status != "ready") {
      return ready;  // The caller reports what became of it.
    }
    return client.Finalize(ready, csr_der);
  }
  if (now->status == "processing" || now->status == "valid") {
    return now;
  }
  bool not_ready = finalized.error().message.find("orderNotReady") != std::string::npos;
  if (now->status == "ready" && (finalized.error().code == ErrorCode::kTransient || not_ready)) {
    return client.Finalize(*now, csr_der);
  }
  return finalized.error();
}

}  // namespace

size_t SelectChain(const std::vector<std::vector<crypto::CertInfo>>& chains,
                   std::string_view preferred) {
  if (preferred.empty()) {
    return 0;
  }
  for (size_t i = 0; i < chains.size(); ++i) {
    if (!chains[i].empty() && chains[i].back().issuer_cn == preferred) {
      return i;
    }
  }
  for (size_t i = 0; i < chains.size(); ++i) {
    for (const crypto::CertInfo& c : chains[i]) {
      if (c.issuer_cn == preferred) {
        return i;
      }
    }
  }
  return 0;
}

Status CheckChain(const std::vector<crypto::CertInfo>& chain, std::string_view public_key_der,
                  const std::vector<std::string>& names, int64_t now) {
  if (chain.empty()) {
    return Err("the certificate chain is empty");
  }
  const crypto::CertInfo& leaf = chain.front();
  if (leaf.public_key_der != public_key_der) {
    return Err("the certificate's public key (serial {}) is not our certificate key", leaf.serial_hex);
  }
  std::set<std::string> want;
  std::set<std::string> got;
  for (const std::string& n : names) {
    want.insert(NormalizeName(n));
  }
  for (const std::string& n : leaf.names) {
    got.insert(NormalizeName(n));
  }
  if (want != got) {
    std::string listed;
    for (const std::string& n : got) {
      listed += (listed.empty() ? "" : ", ") + n;
    }
    return Err("the certificate names ({}) differ from the names requested", listed);
  }
  if (leaf.not_before > now + kClockSkewSeconds || leaf.not_after <= now) {
    return Err("the certificate is not valid now (valid {} to {})", crypto::FormatTime(leaf.not_before),
               crypto::FormatTime(leaf.not_after));
  }
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    BH_ASSIGN(bool issued, crypto::VerifyIssuedBy(chain[i], chain[i + 1]));
    if (!issued) {
      return Err("certificate {} of the chain (\"{}\") is not issued by the next one (\"{}\")", i,
                 chain[i].subject, chain[i + 1].subject);
    }
  }
  return OkStatus();
}

Result<IssuedChain> ObtainCertificate(Client& client, challenge::Publisher& publisher,
                                      const std::vector<std::string>& names,
                                      const FinalizeKey& key,
                                      std::string_view preferred_chain,
                                      const OrderHooks& hooks) {
  std::vector<Identifier> ids;
  for (const std::string& n : names) {
    ids.push_back(IdentifierFor(n));
  }
  Order order;
  if (!hooks.resume_url.empty()) {
    auto old = client.FetchOrder(hooks.resume_url);
    if (old.ok() && old->status != "invalid" && SameIdentifiers(old->identifiers, ids)) {
      order = std::move(old).value();
      LogInfo("resuming order {} ({})", order.url, order.status);
    } else {
      LogInfo("the interrupted order {} cannot be continued ({}); starting a new one",
              hooks.resume_url, old.ok() ? old->status : old.error().message);
    }
  }
  if (order.url.empty()) {
    auto created = client.NewOrder(ids, hooks.new_order);
    if (!created.ok() && !hooks.new_order.replaces.empty() &&
        created.error().code != ErrorCode::kTransient) {
      // RFC 9773: a CA may refuse `replaces` (alreadyReplaced, or a
      // certificate it does not know); the renewal itself is still wanted.
      LogWarn("the CA refused the order naming the replaced certificate ({}); ordering without "
              "\"replaces\"",
              created.error().message);
      NewOrderOptions plain = hooks.new_order;
      plain.replaces.clear();
      created = client.NewOrder(ids, plain);
    }
    BH_ASSIGN(order, std::move(created));
    LogInfo("order {} is {}", order.url, order.status);
  }
  if (hooks.on_order) {
    hooks.on_order(order);
  }

  if (order.status == "pending") {
    std::vector<Pending> pending;
    for (const std::string& url : order.authorizations) {
      BH_ASSIGN(Pending p,
                PrepareAuthorization(client, url, std::string(publisher.ChallengeType())));
      if (p.authz.status == "valid") {
        LogInfo("{}: already authorized", p.authz.identifier.ToString());
        continue;
      }
      pending.push_back(std::move(p));
    }
    // Publish every token first, then answer all challenges, then poll: the
    // CA validates the identifiers in parallel.
    std::vector<std::unique_ptr<PublishedToken>> published;
    for (const Pending& p : pending) {
      // dns-01 names its record after the identifier; a wildcard's
      // authorization carries the base name and the wildcard flag.
      challenge::Challenge c{std::string(publisher.ChallengeType()),
                             (p.authz.wildcard ? "*." : "") + p.authz.identifier.value,
                             p.challenge.token, client.KeyAuthorization(p.challenge.token)};
      Status st = publisher.Publish(c);
      if (!st.ok()) {
        return st.error().Wrap(p.authz.identifier.ToString());
      }
      published.push_back(std::make_unique<PublishedToken>(publisher, std::move(c)));
    }
    // Nothing is answered before the CA can see every token (for dns-01:
    // until every authoritative server serves every record).
    if (!pending.empty()) {
      BH_TRY(publisher.WaitReady());
    }
    for (const Pending& p : pending) {
      if (p.challenge.status == "pending") {
        BH_TRY(RespondOnce(client, p));
      }
    }
    for (const Pending& p : pending) {
      BH_ASSIGN(Authorization done, client.PollAuthorization(p.authz.url));
      if (done.status != "valid") {
        if (hooks.on_failed_authorization) {
          hooks.on_failed_authorization(done.identifier);
        }
        return FailedAuthorization(done, publisher);
      }
      LogInfo("{}: authorized", done.identifier.ToString());
    }
    published.clear();
    // Every authorization of the order is valid, so the order is ready
    // (RFC 8555 section 7.1.6): finalize without reading it again, which
    // saves a signed request. A CA that has not caught up yet answers
    // orderNotReady, and FinalizeOnce waits for the order and finalizes then.
    order.status = "ready";
  }
  if (order.status == "ready") {
    BH_ASSIGN(order, FinalizeOnce(client, order, key.csr_der));
  }
  if (order.status == "processing") {
    BH_ASSIGN(order, client.PollOrder(order.url, /*wait_pending=*/false));
  }
  if (order.status != "valid") {
    return OrderFailed(order, "finalizing");
  }

  // Alternate chains matter only to choose one of them.
  BH_ASSIGN(std::vector<std::string> pems,
            client.DownloadChains(order.certificate, !preferred_chain.empty()));
  std::vector<std::vector<crypto::CertInfo>> chains;
  for (size_t i = 0; i < pems.size(); ++i) {
    auto parsed = crypto::ParsePemChain(pems[i]);
    if (!parsed.ok()) {
      if (i == 0) {
        return parsed.error().Wrap(fmt::format("certificate from {}", order.certificate));
      }
      LogWarn("ignoring alternate chain {}: {}", i, parsed.error().message);
      chains.emplace_back();
      continue;
    }
    chains.push_back(std::move(parsed).value());
  }
  size_t pick = SelectChain(chains, preferred_chain);
  if (!preferred_chain.empty() && pick == 0 &&
      (chains[0].empty() || chains[0].back().issuer_cn != preferred_chain)) {
    LogWarn("no chain from the CA is issued by \"{}\"; using the default chain",
            std::string(preferred_chain));
  }
  std::vector<crypto::CertInfo>& chain = chains[pick];
  Status check = CheckChain(chain, key.public_key_der, names, static_cast<int64_t>(std::time(nullptr)));
  if (!check.ok()) {
    return check.error().Wrap(fmt::format("refusing the certificate from {}", order.certificate));
  }
  IssuedChain out;
  out.cert_pem = chain.front().pem;
  for (size_t i = 1; i < chain.size(); ++i) {
    out.chain_pem += chain[i].pem;
  }
  out.fullchain_pem = out.cert_pem + out.chain_pem;
  out.leaf = chain.front();
  return out;
}

}  // namespace bulkhead::acme
