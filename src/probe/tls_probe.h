// Probing what a TLS endpoint actually serves: connect, optionally upgrade a
// plain-text protocol with STARTTLS, complete a TLS handshake without
// verifying, then verify the served chain and the name separately, so an
// expired or mis-issued certificate is still reported with all its details.
//
// Contract (stable; reload-watch --verify and `tlsa verify` rely on it):
//  - ProbeTls returns an Error only when no chain could be obtained: name
//    resolution, connect, STARTTLS dialogue, handshake, or timeout failed.
//    The message names the address and the phase ("127.0.0.1:443: connect:
//    Connection refused"). A bad certificate is never an Error: chain_valid,
//    chain_error and hostname_match describe it.
//  - The handshake accepts any certificate; verification happens afterwards
//    against `ca_bundle` (or the system trust store) at the current time.
//  - One connection per call; nothing is cached between calls.
//  - Thread-safe: each call runs its own event loop.
#ifndef BULKHEAD_PROBE_TLS_PROBE_H_
#define BULKHEAD_PROBE_TLS_PROBE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/x509.h"
#include "dns/tlsa.h"
#include "util/result.h"

namespace bulkhead::probe {

// StartTls is the plain-text protocol spoken before the TLS handshake.
enum class StartTls { kNone, kSmtp, kImap, kPop3, kLdap, kPostgres };

// ParseStartTls maps "none", "smtp", "imap", "pop3", "ldap", "postgres" to
// a StartTls; anything else is a kUsage error.
Result<StartTls> ParseStartTls(std::string_view name);

// StartTlsName is the inverse of ParseStartTls.
std::string_view StartTlsName(StartTls mode);

// kDefaultTimeout bounds one probe from connect to the last byte read.
inline constexpr std::chrono::milliseconds kDefaultTimeout{10000};

// ProbeRequest says what to probe.
struct ProbeRequest {
  std::string host;       // Name or IP literal (no brackets).
  uint16_t port = 443;
  std::string address;    // Optional IP literal to connect to instead of
                          // resolving `host` (one specific address).
  std::string sni;        // Server name sent; empty = `host` unless it is
                          // an IP literal (then no SNI is sent).
  StartTls starttls = StartTls::kNone;
  std::chrono::milliseconds timeout = kDefaultTimeout;
  std::string ca_bundle;  // PEM file of trust anchors; empty = system store.
  bool http_headers = false;  // After the handshake send "HEAD /" and
                              // collect the response headers.
};

// LeafKey describes the leaf's public key and signature.
struct LeafKey {
  std::string key_type;             // "RSA", "EC", "ED25519", ...
  int key_bits = 0;                 // Modulus or field size.
  std::string curve;                // EC curve short name, else empty.
  std::string signature_algorithm;  // e.g. "ecdsa-with-SHA256".
};

// ProbeResult is what one successful handshake showed.
struct ProbeResult {
  std::string address;      // IP literal actually connected to.
  uint16_t port = 0;
  std::string sni;          // What was sent ("" = none).
  std::string tls_version;  // "TLSv1.3", ...
  std::string cipher;       // e.g. "TLS_AES_256_GCM_SHA384".
  // As served, leaf first (never empty). Shared and immutable: a fleet
  // serves the same chain from many addresses, and a run over thousands of
  // endpoints keeps one parsed copy per distinct chain.
  std::shared_ptr<const std::vector<crypto::CertInfo>> chain;
  LeafKey leaf_key;
  bool chain_valid = false;  // Leaf chains to a trust anchor, all dates valid.
  std::string chain_error;   // Why not (OpenSSL's reason), empty if valid.
  bool hostname_match = false;  // Leaf covers the checked name (sni or host).
  std::string checked_name;     // The name hostname_match refers to.
  // HTTP response, when ProbeRequest::http_headers was set and the server
  // answered; header names lower-cased, last value wins.
  std::optional<int> http_status;
  std::map<std::string, std::string> http_headers;
  std::string http_error;   // Why there is no HTTP response, if asked for.
  double elapsed_ms = 0;    // Connect to end of handshake (and HTTP).
  // Who signed whom in `chain`, as the probe role worked it out (see
  // roles/probe_role.h); empty when probed in this process, then whoever
  // needs it verifies the signatures itself.
  std::shared_ptr<const dns::ChainLinks> links;

  // leaf returns the served leaf certificate.
  const crypto::CertInfo& leaf() const { return chain->front(); }
};

// ProbeTls probes one endpoint synchronously. With `address` empty it
// resolves `host` and tries each address in turn until one yields a chain.
// Fails as described in the file comment.
Result<ProbeResult> ProbeTls(const ProbeRequest& request);

// IsIpLiteral reports whether `host` is an IPv4 or IPv6 address literal.
bool IsIpLiteral(std::string_view host);

// ResolveAddresses returns every address of `host` (IPv4 and IPv6, in the
// resolver's order, duplicates removed); an IP literal resolves to itself.
// Fails naming the host if it has none.
Result<std::vector<std::string>> ResolveAddresses(const std::string& host);

}  // namespace bulkhead::probe

#endif  // BULKHEAD_PROBE_TLS_PROBE_H_
