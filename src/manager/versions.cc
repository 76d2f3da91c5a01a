#include "manager/versions.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "crypto/key.h"
#include "util/secret.h"

namespace bulkhead::manager {
namespace {

// SettingsNames returns the "names" of a kept settings.json, or nullopt if
// there is none or it does not hold a list of strings.
std::optional<std::vector<std::string>> SettingsNames(const store::CertStore& certs,
                                                      std::string_view name, int version) {
  Result<nlohmann::json> kept = certs.LoadVersionSettings(name, version);
  if (!kept.ok()) {
    return std::nullopt;
  }
  auto it = kept->find("names");
  if (it == kept->end() || !it->is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> names;
  for (const nlohmann::json& n : *it) {
    if (!n.is_string()) {
      return std::nullopt;
    }
    names.push_back(n.get<std::string>());
  }
  return names;
}

// KeyProblem returns why the stored key of a version does not belong to
// `leaf`, or "" when it does or there is none (issued from a CSR). A
// privkey.pem that is there but no regular file (a symlink placed by
// whoever wrote the version) is a problem, not "no key".
std::string KeyProblem(const store::CertStore& certs, std::string_view name, int version,
                       const crypto::CertInfo& leaf) {
  Result<Secret> pem = certs.ReadVersionKey(name, version);
  if (!pem.ok()) {
    return pem.error().code == ErrorCode::kNotFound ? "" : pem.error().message;
  }
  Result<crypto::PrivateKey> key = crypto::PrivateKey::FromPem(pem->view());
  if (!key.ok()) {
    return "privkey.pem does not parse: " + key.error().message;
  }
  Result<std::string> spki = key->PublicKeyDer();
  if (!spki.ok()) {
    return "privkey.pem: " + spki.error().message;
  }
  return *spki == leaf.public_key_der ? "" : "privkey.pem is not the key of cert.pem";
}

std::string Describe(const VersionCheck& v) {
  return fmt::format("version {}: {}", v.version, fmt::join(v.problems, "; "));
}

}  // namespace

VersionCheck CheckVersion(const store::CertStore& certs, std::string_view name, int version,
                          bool live, int64_t now) {
  VersionCheck v;
  v.version = version;
  v.live = live;
  Result<store::LiveSet> set = certs.LoadVersion(name, version);
  if (!set.ok()) {
    v.problems.push_back(set.error().message);
    return v;
  }
  v.has_key = set->has_key;
  v.settings_names = SettingsNames(certs, name, version);
  Result<crypto::CertInfo> leaf = crypto::ParseCertPem(set->cert_pem);
  if (!leaf.ok()) {
    v.problems.push_back("cert.pem does not parse: " + leaf.error().message);
    return v;
  }
  v.leaf = *leaf;
  Result<std::vector<crypto::CertInfo>> chain = crypto::ParsePemChain(set->fullchain_pem);
  if (!chain.ok()) {
    v.problems.push_back("fullchain.pem does not parse: " + chain.error().message);
  } else if (chain->front().der != leaf->der) {
    v.problems.push_back("fullchain.pem does not start with cert.pem");
  }
  if (leaf->not_after <= now) {
    v.problems.push_back("expired " + crypto::FormatTime(leaf->not_after));
  } else if (leaf->not_before > now) {
    v.problems.push_back("not valid before " + crypto::FormatTime(leaf->not_before));
  }
  if (std::string problem = KeyProblem(certs, name, version, *leaf); !problem.empty()) {
    v.problems.push_back(std::move(problem));
  }
  return v;
}

std::vector<std::string> LiveDamage(const store::CertStore& certs, std::string_view name,
                                    int version, int64_t now) {
  VersionCheck v = CheckVersion(certs, name, version, /*live=*/true, now);
  std::vector<std::string> damage;
  for (std::string& p : v.problems) {
    if (p.rfind("expired ", 0) != 0 && p.rfind("not valid before ", 0) != 0) {
      damage.push_back(std::move(p));
    }
  }
  return damage;
}

Result<std::vector<VersionCheck>> CheckVersions(const store::CertStore& certs,
                                                std::string_view name, int64_t now) {
  BH_ASSIGN(store::VersionList list, certs.Versions(name));
  std::vector<VersionCheck> out;
  for (auto it = list.versions.rbegin(); it != list.versions.rend(); ++it) {
    out.push_back(CheckVersion(certs, name, *it, *it == list.live, now));
  }
  return out;
}

Result<RollbackOutcome> Rollback(const store::CertStore& certs, std::string_view name,
                                 std::optional<int> to, int64_t now) {
  BH_ASSIGN(FileLock lock, certs.Lock(name, /*wait=*/false));
  BH_ASSIGN(store::VersionList list, certs.Versions(name));
  if (list.live == 0) {
    return ErrCode(ErrorCode::kNotFound, "certificate {} has no live version to roll back from",
                   name);
  }
  RollbackOutcome out;
  out.from = CheckVersion(certs, name, list.live, /*live=*/true, now);
  auto kept = [&](int v) {
    return std::find(list.versions.begin(), list.versions.end(), v) != list.versions.end();
  };
  if (to.has_value()) {
    if (*to == list.live) {
      return ErrCode(ErrorCode::kUsage, "version {} of {} is already live", *to, name);
    }
    if (!kept(*to)) {
      return ErrCode(ErrorCode::kUsage, "{} has no version {}; kept: {}", name, *to,
                     fmt::join(list.versions, ", "));
    }
    out.to = CheckVersion(certs, name, *to, /*live=*/false, now);
    if (!out.to.usable()) {
      return Err("refusing to roll {} back to {}; nothing changed", name, Describe(out.to));
    }
  } else {
    bool found = false;
    for (auto it = list.versions.rbegin(); it != list.versions.rend() && !found; ++it) {
      if (*it >= list.live) {
        continue;
      }
      VersionCheck v = CheckVersion(certs, name, *it, /*live=*/false, now);
      if (v.usable()) {
        out.to = std::move(v);
        found = true;
      } else {
        out.passed_over.push_back(Describe(v));
      }
    }
    if (!found) {
      return Err("{} has no earlier version that may go live{}{}; nothing changed", name,
                 out.passed_over.empty() ? "" : ": ", fmt::join(out.passed_over, "; "));
    }
  }
  BH_TRY(certs.SetLive(name, out.to.version));
  out.to.live = true;
  out.from.live = false;
  return out;
}

}  // namespace bulkhead::manager
