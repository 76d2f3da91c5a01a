#include "serve/snapshot.h"

#include <algorithm>
#include <map>

#include "manager/manager.h"

namespace bulkhead::serve {
namespace {

using inventory::CheckState;
using inventory::StateUrgency;

constexpr int64_t kDay = 86400;
// Thresholds from the monitor's verdicts: PLAN within 28 days, WARNING within
// 48 hours.
constexpr int64_t kPlanWindow = 28 * kDay;
constexpr int64_t kWarningWindow = 2 * kDay;

CheckState Worse(CheckState a, CheckState b) {
  return StateUrgency(a) <= StateUrgency(b) ? a : b;
}

// Earlier returns the earlier non-zero time.
int64_t Earlier(int64_t a, int64_t b) {
  if (a == 0) {
    return b;
  }
  if (b == 0) {
    return a;
  }
  return std::min(a, b);
}

}  // namespace

CheckState StateForExpiry(int64_t not_after, int64_t now) {
  int64_t left = not_after - now;
  if (left <= 0) {
    return CheckState::kError;
  }
  if (left < kWarningWindow) {
    return CheckState::kWarning;
  }
  if (left <= kPlanWindow) {
    return CheckState::kPlan;
  }
  return CheckState::kOk;
}

Result<Snapshot> TakeSnapshot(inventory::Inventory& inv, const store::CertStore* certs,
                              int64_t now) {
  Snapshot snap;
  snap.now = now;
  BH_ASSIGN(auto endpoints, inv.ListEndpoints());
  BH_ASSIGN(auto latest, inv.LatestChecks());
  std::map<int64_t, std::vector<inventory::CheckRecord>> by_endpoint;
  for (auto& c : latest) {
    by_endpoint[c.endpoint_id].push_back(std::move(c));
  }
  for (auto& ep : endpoints) {
    EndpointView v;
    v.endpoint = std::move(ep);
    auto it = by_endpoint.find(v.endpoint.id);
    if (it != by_endpoint.end()) {
      v.checks = std::move(it->second);
      v.state = v.checks.front().state;
      for (const auto& c : v.checks) {
        v.state = Worse(v.state, c.state);
        v.not_after = Earlier(v.not_after, c.not_after);
        v.last_check = std::max(v.last_check, c.checked_at);
      }
    }
    snap.endpoints.push_back(std::move(v));
  }
  std::stable_sort(snap.endpoints.begin(), snap.endpoints.end(),
                   [](const EndpointView& a, const EndpointView& b) {
                     if (StateUrgency(a.state) != StateUrgency(b.state)) {
                       return StateUrgency(a.state) < StateUrgency(b.state);
                     }
                     // Sooner expiry first; never-seen (0) last.
                     return (a.not_after == 0 ? INT64_MAX : a.not_after) <
                            (b.not_after == 0 ? INT64_MAX : b.not_after);
                   });

  if (certs != nullptr) {
    auto names = certs->List();
    if (names.ok()) {
      for (const std::string& name : *names) {
        ManagedView m;
        m.name = name;
        auto st = manager::InspectCertificate(*certs, name, now);
        if (!st.ok()) {
          m.error = st.error().message;
          m.state = CheckState::kError;
        } else {
          m.names = st->settings.names;
          m.renew_at = st->decision.renew_at;
          m.due = st->decision.due;
          m.reason = st->decision.reason;
          if (st->leaf) {
            m.issuer = st->leaf->issuer_cn.empty() ? st->leaf->issuer : st->leaf->issuer_cn;
            m.serial_hex = st->leaf->serial_hex;
            m.not_before = st->leaf->not_before;
            m.not_after = st->leaf->not_after;
            m.state = StateForExpiry(m.not_after, now);
          } else {
            m.state = CheckState::kWarning;  // Managed but never issued.
          }
        }
        snap.managed.push_back(std::move(m));
      }
    }
    std::stable_sort(snap.managed.begin(), snap.managed.end(),
                     [](const ManagedView& a, const ManagedView& b) {
                       if (StateUrgency(a.state) != StateUrgency(b.state)) {
                         return StateUrgency(a.state) < StateUrgency(b.state);
                       }
                       return a.not_after < b.not_after;
                     });
  }

  BH_ASSIGN(auto domains, inv.ListDomains());
  for (auto& d : domains) {
    DomainView v;
    v.domain = std::move(d);
    for (const auto& ev : snap.endpoints) {
      for (const auto& c : ev.checks) {
        bool covers = std::any_of(c.sans.begin(), c.sans.end(), [&](const std::string& san) {
          return inventory::MatchesName(san, v.domain.name);
        });
        if (covers && c.not_after != 0) {
          v.not_after = Earlier(v.not_after, c.not_after);
          v.seen_on.push_back(fmt::format(
              "{} ({})", inventory::EndpointKey(ev.endpoint.host, ev.endpoint.port), c.address));
        }
      }
    }
    for (const auto& m : snap.managed) {
      bool covers = std::any_of(m.names.begin(), m.names.end(), [&](const std::string& n) {
        return inventory::MatchesName(n, v.domain.name);
      });
      if (covers) {
        v.managed_by.push_back(m.name);
        v.not_after = Earlier(v.not_after, m.not_after);
      }
    }
    v.state = v.not_after == 0 ? CheckState::kUnknown : StateForExpiry(v.not_after, now);
    snap.domains.push_back(std::move(v));
  }

  BH_ASSIGN(snap.changes, inv.Changes(/*endpoint_id=*/0, kChangesShown));
  return snap;
}

}  // namespace bulkhead::serve
