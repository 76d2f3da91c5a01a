// Judging a completed handshake: parse and verify the served chain, match
// the name, read the HTTP response head. Internal to the probe engine.
#ifndef BULKHEAD_PROBE_ANALYSE_H_
#define BULKHEAD_PROBE_ANALYSE_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crypto/ossl.h"
#include "probe/tls_probe.h"

namespace bulkhead::probe {

// ChainVerdict is what is known about one served chain, independent of the
// name asked for.
struct ChainVerdict {
  std::shared_ptr<const std::vector<crypto::CertInfo>> chain;
  LeafKey leaf_key;
  bool valid = false;
  std::string error;
};

// Verifier holds the trust stores of one engine run (by CA bundle path, ""
// for the system store) and remembers each distinct chain's verdict, since
// a fleet serves the same chain from many addresses and verifying it costs
// more than the handshake's own signature check.
class Verifier {
 public:
  // AddStore loads the trust store for `ca_bundle` once. Fails naming the
  // file if it cannot be read or holds no certificate.
  Status AddStore(const std::string& ca_bundle);

  // Judge parses and verifies `chain` (leaf first, as served) against the
  // store for `ca_bundle` (which AddStore must have loaded). Fails only if
  // the chain cannot be parsed at all.
  Result<std::shared_ptr<const ChainVerdict>> Judge(STACK_OF(X509) * chain,
                                                    const std::string& ca_bundle);

 private:
  using StorePtr = crypto::OsslPtr<X509_STORE, X509_STORE_free>;
  std::unordered_map<std::string, StorePtr> stores_;
  std::unordered_map<std::string, std::shared_ptr<const ChainVerdict>> cache_;
};

// EffectiveSni is the server name to send for `req`: sni, else host unless
// host is an IP literal, else "".
std::string EffectiveSni(const ProbeRequest& req);

// EffectiveName is the name the certificate must cover: sni, else host.
std::string EffectiveName(const ProbeRequest& req);

// Analyse builds the ProbeResult of a completed handshake on `ssl`. Fails if
// the server sent no certificate or one that cannot be parsed.
Result<ProbeResult> Analyse(SSL* ssl, const ProbeRequest& req, Verifier& verifier);

// ParseHttpHead fills http_status and http_headers of `out` from a response
// head ("HTTP/1.1 200 OK\r\nName: value\r\n..."); sets http_error if the
// status line is malformed.
void ParseHttpHead(std::string_view head, ProbeResult* out);

// DescribeKey fills `out` from a certificate's key and signature.
void DescribeKey(X509* cert, LeafKey* out);

}  // namespace bulkhead::probe

#endif  // BULKHEAD_PROBE_ANALYSE_H_
