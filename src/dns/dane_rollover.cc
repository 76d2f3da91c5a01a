// DANE rollover policy; see the header for the sequence.
#include "dns/dane_rollover.h"

#include <algorithm>

namespace bulkhead::dns {

void ObservePublication(RolloverState* state, bool next_published, uint32_t ttl, int64_t now) {
  if (state->next_spki.empty() || !next_published) {
    state->next_published_since = 0;
    state->ttl = 0;
    return;
  }
  if (state->next_published_since == 0) {
    state->next_published_since = now;
  }
  state->ttl = std::max(state->ttl, ttl);
}

RolloverDecision DecideRollover(const RolloverState& state, bool reuse_key, int64_t now) {
  RolloverDecision d;
  if (reuse_key) {
    d.action = RolloverAction::kKeepKey;
    d.reason = "key reused: the 3 1 1 record does not change";
    return d;
  }
  if (state.next_spki.empty()) {
    d.action = RolloverAction::kGenerateNextKey;
    d.reason = "no next key yet: generate it so that its TLSA record can be published";
    return d;
  }
  if (state.next_published_since == 0) {
    d.action = RolloverAction::kWaitForPublication;
    d.reason = "the next key's TLSA record is not published yet";
    return d;
  }
  int64_t ready = state.next_published_since + kTtlWaitFactor * static_cast<int64_t>(state.ttl);
  if (now < ready) {
    d.action = RolloverAction::kWaitForTtl;
    d.not_before = ready;
    d.reason = fmt::format(
        "the next key's TLSA record has been published for {} s of the {} s required (2 x TTL "
        "{})",
        now - state.next_published_since, ready - state.next_published_since, state.ttl);
    return d;
  }
  d.action = RolloverAction::kRollNow;
  d.not_before = ready;
  d.reason = "the next key's TLSA record has been published for at least twice its TTL";
  return d;
}

void CompleteRollover(RolloverState* state) {
  state->current_spki = std::move(state->next_spki);
  state->next_spki.clear();
  state->next_published_since = 0;
  state->ttl = 0;
}

Result<TlsaRecord> SpkiRecord(std::string_view spki_der) {
  crypto::CertInfo holder;
  holder.public_key_der = std::string(spki_der);
  TlsaRecord record;  // 3 1 1.
  BH_ASSIGN(record.data, AssociationData(holder, record.selector, record.mtype));
  return record;
}

Result<std::vector<TlsaRecord>> PublishedRecords(const RolloverState& state) {
  std::vector<TlsaRecord> out;
  if (!state.current_spki.empty()) {
    BH_ASSIGN(TlsaRecord current, SpkiRecord(state.current_spki));
    out.push_back(std::move(current));
  }
  if (!state.next_spki.empty() && state.next_spki != state.current_spki) {
    BH_ASSIGN(TlsaRecord next, SpkiRecord(state.next_spki));
    out.push_back(std::move(next));
  }
  return out;
}

}  // namespace bulkhead::dns
