// One certificate order end to end: order, authorizations, http-01,
// finalize, download, chain choice, and the checks a chain must pass before
// it may replace anything.
#ifndef BULKHEAD_ACME_ISSUANCE_H_
#define BULKHEAD_ACME_ISSUANCE_H_

#include <functional>
#include <string>
#include <vector>

#include "acme/client.h"
#include "challenge/publisher.h"
#include "crypto/x509.h"
#include "util/result.h"

namespace bulkhead::acme {

// IssuedChain is a downloaded chain that passed CheckChain, split the way
// servers want it.
struct IssuedChain {
  std::string cert_pem;       // Leaf.
  std::string chain_pem;      // Intermediates.
  std::string fullchain_pem;  // Leaf + intermediates.
  crypto::CertInfo leaf;
};

// FinalizeKey is what an order needs of the certificate's key: the CSR to
// finalize with, and the public key the issued certificate must carry. The
// key itself stays with whoever made it (the keys role).
struct FinalizeKey {
  std::string csr_der;
  std::string public_key_der;  // SubjectPublicKeyInfo, DER.
};

// OrderHooks let the caller persist and resume orders.
struct OrderHooks {
  // An order URL from an interrupted run. It is continued if the CA still
  // has it for the same identifiers and it has not failed; otherwise a new
  // order is created.
  std::string resume_url;
  // Called as soon as the order's URL is known, before anything else, so a
  // crash after this point can resume instead of spending another order.
  std::function<void(const Order&)> on_order;
  // Called for each authorization that ended other than valid, so the
  // caller can count it against the CA's failed-authorization limit.
  std::function<void(const Identifier&)> on_failed_authorization;
  // newOrder options: the profile, and the ARI certID of the certificate
  // being replaced. If the CA rejects an order naming `replaces`
  // (alreadyReplaced, or anything else it objects to), the order is tried
  // once more without it.
  NewOrderOptions new_order;
};

// ObtainCertificate orders a certificate for `names` (validated, distinct),
// answers the challenge type `publisher` answers (http-01 or dns-01; no
// challenge is answered before publisher.WaitReady succeeds) through
// `publisher` (every token it published is removed
// before it returns, success or not), finalizes with `key.csr_der` and
// returns the chain picked by `preferred_chain` (issuer CN; empty = the
// CA's default). Errors name the identifier and the CA's problem.
Result<IssuedChain> ObtainCertificate(Client& client, challenge::Publisher& publisher,
                                      const std::vector<std::string>& names,
                                      const FinalizeKey& key,
                                      std::string_view preferred_chain,
                                      const OrderHooks& hooks = {});

// SelectChain returns the index of the chain whose topmost certificate's
// issuer CN (or, failing that, any certificate's issuer CN) equals
// `preferred`; 0 when `preferred` is empty or nothing matches.
size_t SelectChain(const std::vector<std::vector<crypto::CertInfo>>& chains,
                   std::string_view preferred);

// CheckChain verifies a chain before it may be stored: at least one
// certificate; the leaf carries `public_key_der`; its names equal `names`
// (case-insensitively, as a set); it is valid at `now`; each certificate is
// issued by the next one. The error names the failed check.
Status CheckChain(const std::vector<crypto::CertInfo>& chain, std::string_view public_key_der,
                  const std::vector<std::string>& names, int64_t now);

}  // namespace bulkhead::acme

#endif  // BULKHEAD_ACME_ISSUANCE_H_
