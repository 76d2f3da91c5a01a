#include "manager/dane.h"

#include <chrono>

#include "crypto/key.h"
#include "dns/dane_observe.h"
#include "dns/query.h"
#include "dns/tlsa.h"
#include "ipc/channel.h"
#include "ipc/messages.h"
#include "roles/dns.h"
#include "roles/process.h"
#include "sandbox/sandbox.h"
#include "util/base64url.h"
#include "util/fs.h"
#include "util/log.h"

namespace bulkhead::manager {
namespace {

using std::chrono::seconds;

// kRoleTimeout bounds one next-key or DNS role: key generation takes
// milliseconds (RSA 4096 a few seconds); DNS makes a few bounded queries per
// endpoint.
constexpr seconds kRoleTimeout{90};
// kQueryTimeout bounds one DNS query of the observation.
constexpr seconds kQueryTimeout{5};
// kMaxStateFile caps dane.json (two public keys and two numbers).
constexpr size_t kMaxStateFile = 64 * 1024;

Result<std::vector<std::string>> Owners(const CertSettings& s) {
  std::vector<std::string> owners;
  for (const std::string& endpoint : s.dane.endpoints) {
    size_t colon = endpoint.rfind(':');
    BH_ASSIGN(std::string owner,
              dns::TlsaOwner(endpoint.substr(0, colon), std::atoi(endpoint.c_str() + colon + 1)));
    owners.push_back(std::move(owner));
  }
  return owners;
}

// ReadNextSpki returns the SPKI of next/pubkey.pem; kNotFound if absent.
Result<std::string> ReadNextSpki(const store::CertStore& certs, const std::string& name) {
  std::string path = certs.NextDir(name) + "/pubkey.pem";
  BH_ASSIGN(std::string pem, ReadFileCapped(path, kMaxStateFile));
  auto spki = crypto::SpkiFromPublicKeyPem(pem);
  if (!spki.ok()) {
    return spki.error().Wrap(path);
  }
  return spki;
}

// SyncNextKey makes state->next_spki agree with the key on disk, which is
// the truth (dane.json may be older after a crash); a different key starts
// its publication wait from scratch.
void SyncNextKey(const store::CertStore& certs, const std::string& name,
                 dns::RolloverState* state) {
  auto on_disk = ReadNextSpki(certs, name);
  std::string spki = on_disk.ok() ? *on_disk : std::string();
  if (!on_disk.ok() && on_disk.error().code != ErrorCode::kNotFound) {
    LogWarn("{}: ignoring the next key: {}", name, on_disk.error().message);
  }
  if (spki != state->next_spki) {
    state->next_spki = spki;
    state->next_published_since = 0;
    state->ttl = 0;
  }
}

// MakeNextKey has a keys role make and store the next key, then takes its
// public key from next/pubkey.pem into `state`.
Status MakeNextKey(const DaneContext& ctx, const CertSettings& s, dns::RolloverState* state) {
  if (ctx.run_as) {
    // Made now, as root, so that the role can write it after its switch.
    std::string next = ctx.certs->NextDir(s.name);
    BH_TRY(MakeDirs(next, 0755));
    BH_TRY(sandbox::ChownTree(next, *ctx.run_as));
  }
  BH_ASSIGN(auto pair, ipc::MakeChannelPair("keys", "parent"));
  ipc::Channel& to_keys = pair.first;
  ipc::Channel& keys_end = pair.second;
  BH_ASSIGN(roles::RoleProcess keys, roles::RoleProcess::Start("keys", {keys_end.fd()}, [&] {
              return roles::RunNextKeyRole(std::move(keys_end), *ctx.certs, s.name, s.key_type,
                                           ctx.require_full_sandbox);
            }, ctx.run_as));
  keys_end.Close();
  auto reply = to_keys.Receive(kRoleTimeout);
  Status waited = keys.Wait(seconds(10));
  if (!reply.ok()) {
    return reply.error().Wrap("making the next key");
  }
  if (reply->type == ipc::MessageType::kError) {
    BH_ASSIGN(ipc::ErrorMsg e, ipc::DecodeError(*reply));
    return Error{"making the next key: " + e.message, e.code};
  }
  if (reply->type != ipc::MessageType::kOk) {
    return Err("making the next key: the keys role answered {}",
               ipc::MessageTypeName(reply->type));
  }
  BH_TRY(waited);
  SyncNextKey(*ctx.certs, s.name, state);
  if (state->next_spki.empty()) {
    return Err("making the next key: {}/pubkey.pem is missing", ctx.certs->NextDir(s.name));
  }
  return OkStatus();
}

// SettleKeys brings `state` in line with what is on disk: `current_spki` is
// the live certificate's key; the next key is what next/ holds; if the live
// key is the next key, the rollover is complete (also when a crash kept
// that from being recorded); with no next key left, one is made. Fails only
// if making the next key fails (the state is still consistent then).
Status SettleKeys(const DaneContext& ctx, const CertSettings& s, const std::string& current_spki,
                  dns::RolloverState* state) {
  state->current_spki = current_spki;
  SyncNextKey(*ctx.certs, s.name, state);
  if (state->next_spki == state->current_spki) {
    dns::CompleteRollover(state);
  }
  return state->next_spki.empty() ? MakeNextKey(ctx, s, state) : OkStatus();
}

// ObserveInRole asks DNS, from a sandboxed role that may only talk DNS,
// whether the next key's record is served.
Result<ipc::TlsaObservationMsg> ObserveInRole(const DaneContext& ctx, const CertSettings& s,
                                              const std::string& spki) {
  roles::DnsJob job;
  BH_ASSIGN(job.owners, Owners(s));
  job.spki = spki;
  job.lookup.query.timeout = kQueryTimeout;
  if (!s.dane.resolver.empty()) {
    BH_ASSIGN(dns::Server resolver, dns::ParseServer(s.dane.resolver));
    job.lookup.resolver = resolver;
  }
  BH_ASSIGN(auto pair, ipc::MakeChannelPair("dns", "parent"));
  ipc::Channel& to_dns = pair.first;
  ipc::Channel& dns_end = pair.second;
  BH_ASSIGN(roles::RoleProcess role, roles::RoleProcess::Start("dns", {dns_end.fd()}, [&] {
              return roles::RunDnsRole(std::move(dns_end), job, ctx.require_full_sandbox);
            }, ctx.run_as));
  dns_end.Close();
  auto reply = to_dns.Receive(kRoleTimeout);
  Status waited = role.Wait(seconds(10));
  if (!reply.ok()) {
    Error e = reply.error().Wrap("asking DNS for the TLSA records");
    if (!waited.ok()) {
      e.message += "; " + waited.error().message;
    }
    return e;
  }
  return ipc::Reply<ipc::TlsaObservationMsg>(*reply);
}

}  // namespace

bool DaneActive(const CertSettings& s) {
  return !s.dane.endpoints.empty() && !s.reuse_key && s.csr_file.empty();
}

std::string DanePath(const store::CertStore& certs, std::string_view name) {
  return certs.CertDir(name) + "/dane.json";
}

Result<dns::RolloverState> LoadDaneState(const std::string& path) {
  auto text = ReadFileCapped(path, kMaxStateFile);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) {
      return dns::RolloverState{};
    }
    return text.error();
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](std::string_view what) { return Err("{}: {} is missing or malformed", path, what); };
  if (j.is_discarded() || !j.is_object()) {
    return bad("the state object");
  }
  dns::RolloverState state;
  for (auto [key, out] : {std::pair{"current_spki", &state.current_spki},
                          std::pair{"next_spki", &state.next_spki}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) {
      return bad(key);
    }
    auto decoded = Base64UrlDecode(it->get<std::string>());
    if (!decoded.ok()) {
      return bad(key);
    }
    *out = std::move(decoded).value();
  }
  auto since = j.find("next_published_since");
  auto ttl = j.find("ttl");
  if (since == j.end() || !since->is_number_integer() || since->get<int64_t>() < 0) {
    return bad("next_published_since");
  }
  if (ttl == j.end() || !ttl->is_number_unsigned() || ttl->get<uint64_t>() > 2147483647) {
    return bad("ttl");
  }
  state.next_published_since = since->get<int64_t>();
  state.ttl = static_cast<uint32_t>(ttl->get<uint64_t>());
  return state;
}

Status SaveDaneState(const std::string& path, const dns::RolloverState& state) {
  nlohmann::json j = {{"current_spki", Base64UrlEncode(state.current_spki)},
                      {"next_spki", Base64UrlEncode(state.next_spki)},
                      {"next_published_since", state.next_published_since},
                      {"ttl", state.ttl}};
  return WriteFileAtomic(path, j.dump(2) + "\n", 0644);
}

Result<DanePlan> PlanDaneKey(const DaneContext& ctx, const CertSettings& s,
                             const std::optional<crypto::CertInfo>& live_leaf,
                             bool key_compromise) {
  DanePlan plan;
  if (!live_leaf) {
    plan.key = roles::KeyChoice::kFresh;
    plan.status = "DANE: the first certificate's key becomes the current key; the next key is "
                  "made after it is issued";
    return plan;
  }
  BH_ASSIGN(FileLock lock, ctx.certs->Lock(s.name, /*wait=*/false));
  std::string path = DanePath(*ctx.certs, s.name);
  BH_ASSIGN(dns::RolloverState state, LoadDaneState(path));
  Status settled = SettleKeys(ctx, s, live_leaf->public_key_der, &state);
  if (!settled.ok()) {
    plan.warning = settled.error().message;
  }
  std::string seen = "no next key";
  if (!state.next_spki.empty()) {
    auto observed = ObserveInRole(ctx, s, state.next_spki);
    if (observed.ok()) {
      dns::ObservePublication(&state, observed->published, observed->ttl, ctx.now);
      seen = observed->detail;
    } else {
      seen = "DNS did not answer";
      plan.warning = fmt::format("{}; the wait for the next key's TLSA record goes on unchanged",
                                 observed.error().message);
    }
  }
  BH_TRY(SaveDaneState(path, state));

  dns::RolloverDecision decision = dns::DecideRollover(state, /*reuse_key=*/false, ctx.now);
  plan.key = roles::KeyChoice::kLive;
  switch (decision.action) {
    case dns::RolloverAction::kRollNow:
      plan.key = roles::KeyChoice::kNext;
      plan.status = fmt::format("DANE: the next key's record has been served long enough ({}); "
                                "the next certificate uses the next key", seen);
      break;
    case dns::RolloverAction::kWaitForTtl:
      plan.status = fmt::format("DANE: the next key's record is served ({}); renewals use it "
                                "from {} (twice the TTL); until then they keep the current key",
                                seen, crypto::FormatTime(decision.not_before));
      break;
    case dns::RolloverAction::kWaitForPublication:
      plan.status = fmt::format("DANE: the next key's record is not served yet ({}); renewals "
                                "keep the current key until it is (publish the record of {}/"
                                "pubkey.pem)", seen, ctx.certs->NextDir(s.name));
      break;
    case dns::RolloverAction::kGenerateNextKey:
    case dns::RolloverAction::kKeepKey:
      plan.status = "DANE: there is no next key; renewals keep the current key";
      break;
  }
  if (key_compromise) {
    if (!state.next_spki.empty()) {
      plan.key = roles::KeyChoice::kNext;
      if (decision.action != dns::RolloverAction::kRollNow) {
        plan.warning = "the current key is compromised: the next key is used now, before its "
                       "TLSA record has been served for twice the TTL; DANE clients can fail "
                       "until resolvers have it";
      }
    } else {
      plan.key = roles::KeyChoice::kFresh;
      plan.warning = "the current key is compromised and there is no next key: a fresh key is "
                     "used; publish its TLSA record at once";
    }
  }
  return plan;
}

Result<std::vector<std::string>> FinishDaneKey(const DaneContext& ctx, const CertSettings& s) {
  BH_ASSIGN(FileLock lock, ctx.certs->Lock(s.name, /*wait=*/false));
  std::string path = DanePath(*ctx.certs, s.name);
  BH_ASSIGN(dns::RolloverState state, LoadDaneState(path));
  BH_ASSIGN(store::LiveSet live, ctx.certs->LoadLive(s.name));
  BH_ASSIGN(crypto::CertInfo leaf, crypto::ParseCertPem(live.cert_pem));
  Status settled = SettleKeys(ctx, s, leaf.public_key_der, &state);
  if (!settled.ok()) {
    LogWarn("{}: {}; the next run tries again", s.name, settled.error().message);
  }
  BH_TRY(SaveDaneState(path, state));
  return DaneRecords(s, state, state.ttl > 0 ? state.ttl : dns::kDefaultTlsaTtl);
}

Result<std::vector<std::string>> DaneRecords(const CertSettings& s,
                                             const dns::RolloverState& state, uint32_t ttl) {
  BH_ASSIGN(std::vector<std::string> owners, Owners(s));
  BH_ASSIGN(std::vector<dns::TlsaRecord> records, dns::PublishedRecords(state));
  std::vector<std::string> lines;
  for (const std::string& owner : owners) {
    for (const dns::TlsaRecord& r : records) {
      lines.push_back(dns::FormatTlsa(owner, ttl, r));
    }
  }
  return lines;
}

}  // namespace bulkhead::manager
