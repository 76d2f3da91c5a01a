// Proof that a reload took effect: the leaf certificate a server presents
// must be the one on disk (same serial and same public key).
#ifndef BULKHEAD_DEPLOY_VERIFY_H_
#define BULKHEAD_DEPLOY_VERIFY_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "crypto/x509.h"
#include "util/result.h"

namespace bulkhead::deploy {

// HostPort is a parsed --verify argument.
struct HostPort {
  std::string host;  // Name or IP literal, without brackets.
  uint16_t port = 0;
};

// ParseHostPort parses "host:port", "1.2.3.4:port" or "[::1]:port". It
// fails (kUsage) on a missing or out-of-range port or an empty host.
Result<HostPort> ParseHostPort(std::string_view text);

// SameCertificate reports whether `served` and `on_disk` have the same
// serial number and the same SubjectPublicKeyInfo.
bool SameCertificate(const crypto::CertInfo& served, const crypto::CertInfo& on_disk);

// VerifyOutcome is what a verification found.
struct VerifyOutcome {
  bool match = false;           // The served leaf is the one on disk.
  bool probed = false;          // A leaf was obtained at least once.
  std::string served_serial;    // Hex, from the last successful probe.
  int64_t served_not_after = 0; // Unix seconds, from the last probe.
  std::string message;          // Why not, or a summary.
};

// ProbeLeafFn connects to the server and returns the leaf it serves.
using ProbeLeafFn = std::function<Result<crypto::CertInfo>()>;

// SleepFn waits for the given time; returns false if interrupted.
using SleepFn = std::function<bool(std::chrono::milliseconds)>;

// VerifyServed probes until the served leaf equals `on_disk`, trying again
// every `interval` for at most `wait` in total (a server may take a moment
// to reload). It never fails: probe errors and mismatches are reported in
// the outcome (the last one wins).
VerifyOutcome VerifyServed(const crypto::CertInfo& on_disk, const ProbeLeafFn& probe,
                           std::chrono::milliseconds wait, std::chrono::milliseconds interval,
                           const SleepFn& sleep);

// ReadLeafCertificate returns the first certificate of the PEM file at
// `path` (a cert.pem or fullchain.pem).
Result<crypto::CertInfo> ReadLeafCertificate(const std::string& path);

}  // namespace bulkhead::deploy

#endif  // BULKHEAD_DEPLOY_VERIFY_H_
