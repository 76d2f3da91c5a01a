#include "ledger/limits.h"

#include <arpa/inet.h>
#include <libpsl.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "util/fs.h"
#include "util/json.h"
#include "util/text.h"

namespace bulkhead::ledger {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kMaxWindow = 366 * kDay;
constexpr size_t kMaxLimitsFileBytes = 64 * 1024;

constexpr LimitKind kAllKinds[] = {
    LimitKind::kNewOrdersPerAccount,
    LimitKind::kCertsPerRegisteredDomain,
    LimitKind::kDuplicateCertificates,
    LimitKind::kFailedAuthzPerIdentifier,
};

// PslContext returns the system's Public Suffix List if installed (it is
// updated with the OS), else the copy built into libpsl; null only if
// neither exists. Loaded once: the file is a few hundred KiB.
const psl_ctx_t* PslContext() {
  static const psl_ctx_t* ctx = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest != nullptr ? latest : psl_builtin();
  }();
  return ctx;
}

}  // namespace

const Limit& Limits::Get(LimitKind kind) const {
  switch (kind) {
    case LimitKind::kNewOrdersPerAccount:
      return new_orders;
    case LimitKind::kCertsPerRegisteredDomain:
      return certs_per_domain;
    case LimitKind::kDuplicateCertificates:
      return duplicates;
    case LimitKind::kFailedAuthzPerIdentifier:
      return failed_authz;
  }
  return new_orders;
}

Limit& Limits::Get(LimitKind kind) {
  return const_cast<Limit&>(static_cast<const Limits*>(this)->Get(kind));
}

Limits LetsEncryptLimits() {
  Limits l;
  l.new_orders = {300, 3 * kHour};
  l.certs_per_domain = {50, 7 * kDay};
  l.duplicates = {5, 7 * kDay};
  l.failed_authz = {5, kHour};
  l.source = "Let's Encrypt's published limits (built in)";
  return l;
}

std::string_view LimitKey(LimitKind kind) {
  switch (kind) {
    case LimitKind::kNewOrdersPerAccount:
      return "new_orders_per_account";
    case LimitKind::kCertsPerRegisteredDomain:
      return "certificates_per_registered_domain";
    case LimitKind::kDuplicateCertificates:
      return "duplicate_certificates";
    case LimitKind::kFailedAuthzPerIdentifier:
      return "failed_authorizations_per_identifier";
  }
  return "unknown";
}

std::string_view LimitTitle(LimitKind kind) {
  switch (kind) {
    case LimitKind::kNewOrdersPerAccount:
      return "new orders per account";
    case LimitKind::kCertsPerRegisteredDomain:
      return "certificates per registered domain";
    case LimitKind::kDuplicateCertificates:
      return "duplicate certificates (same identifier set)";
    case LimitKind::kFailedAuthzPerIdentifier:
      return "failed authorizations per identifier";
  }
  return "unknown";
}

Result<Limits> ParseLimits(std::string_view text, std::string_view source) {
  nlohmann::json j = ParseUntrustedJson(text);
  if (j.is_discarded() || !j.is_object()) {
    return ErrCode(ErrorCode::kUsage, "{}: not a JSON object", source);
  }
  Limits out = LetsEncryptLimits();
  out.source = std::string(source);
  for (const auto& item : j.items()) {
    // Named copies, not a structured binding: lambdas may not capture those
    // before C++20 compilers caught up (clang 14).
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    const LimitKind* kind = std::find_if(std::begin(kAllKinds), std::end(kAllKinds),
                                         [&](LimitKind k) { return LimitKey(k) == key; });
    if (kind == std::end(kAllKinds)) {
      return ErrCode(ErrorCode::kUsage, "{}: unknown limit \"{}\"", source, key.substr(0, 64));
    }
    if (!value.is_object() || value.size() != 2 || !value.contains("max") ||
        !value.contains("window_seconds") || !value["max"].is_number_integer() ||
        !value["window_seconds"].is_number_integer()) {
      return ErrCode(ErrorCode::kUsage,
                     "{}: \"{}\" must be {{\"max\": N, \"window_seconds\": S}}", source, key);
    }
    int64_t max = value["max"].get<int64_t>();
    int64_t window = value["window_seconds"].get<int64_t>();
    if (max < 0 || max > 1000000 || window <= 0 || window > kMaxWindow) {
      return ErrCode(ErrorCode::kUsage,
                     "{}: \"{}\" needs 0 <= max <= 1000000 and 0 < window_seconds <= {}", source,
                     key, kMaxWindow);
    }
    out.Get(*kind) = Limit{static_cast<int>(max), window};
  }
  return out;
}

Limits NoLimits() {
  Limits l;
  for (LimitKind k : kAllKinds) {
    l.Get(k) = LetsEncryptLimits().Get(k);
    l.Get(k).max = 0;
  }
  l.source = "no published limits known for this CA (set them in limits.json)";
  return l;
}

Result<Limits> LoadLimits(const std::string& path, const std::string& directory_url) {
  auto text = ReadFileCapped(path, kMaxLimitsFileBytes);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kNotFound) {
      bool lets_encrypt = directory_url.empty() ||
                          directory_url.rfind("https://acme-v02.api.letsencrypt.org/", 0) == 0;
      return lets_encrypt ? LetsEncryptLimits() : NoLimits();
    }
    return text.error();
  }
  return ParseLimits(*text, path);
}

std::string RegisteredDomain(std::string_view identifier) {
  std::string s(identifier);
  std::array<unsigned char, 16> addr;
  if (inet_pton(AF_INET, s.c_str(), addr.data()) == 1) {
    return s;
  }
  if (inet_pton(AF_INET6, s.c_str(), addr.data()) == 1) {
    std::fill(addr.begin() + 8, addr.end(), 0);
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, addr.data(), buf, sizeof(buf)) != nullptr) {
      return std::string(buf) + "/64";
    }
    return s;
  }
  if (s.rfind("*.", 0) == 0) {
    s.erase(0, 2);
  }
  s = AsciiLower(s);
  while (!s.empty() && s.back() == '.') {
    s.pop_back();
  }
  const psl_ctx_t* psl = PslContext();
  if (psl == nullptr) {
    return s;
  }
  const char* reg = psl_registrable_domain(psl, s.c_str());
  return reg != nullptr ? std::string(reg) : s;
}

}  // namespace bulkhead::ledger
