// The publishing interface every challenge mechanism implements: http-01
// (challenge/http01.h: token files, or a standalone server), dns-01
// (challenge/dns01.h: TXT records) and the proxy for the challenge role
// (roles/challenge.cc). The ACME code (acme/issuance.h) sees only this.
#ifndef BULKHEAD_CHALLENGE_PUBLISHER_H_
#define BULKHEAD_CHALLENGE_PUBLISHER_H_

#include <string>
#include <string_view>

#include "util/result.h"

namespace bulkhead::challenge {

// kHttp01 and kDns01 are the challenge types (RFC 8555 sections 8.3, 8.4)
// a publisher answers.
inline constexpr std::string_view kHttp01 = "http-01";
inline constexpr std::string_view kDns01 = "dns-01";

// Challenge is one challenge to answer: what the CA asked (type, token) for
// which identifier, and the key authorization that answers it.
struct Challenge {
  std::string type;        // kHttp01 or kDns01.
  std::string identifier;  // The DNS name ("*." kept for a wildcard) or IP address.
  std::string token;       // From the CA; base64url.
  std::string key_authorization;  // "<token>.<account key thumbprint>".
};

// Publisher makes key authorizations available to the CA and takes them
// away again. Contract:
//   - callers pass only challenges of ChallengeType();
//   - Publish refuses a token that is not base64url (it becomes a file
//     name) and, for dns-01, an identifier that is not a DNS name;
//   - Remove takes away what Publish put up for `challenge.token` (the
//     other fields may be empty); removing a token never published is not
//     an error;
//   - the destructor removes everything still published, so nothing
//     outlives the run, also on failure.
class Publisher {
 public:
  virtual ~Publisher() = default;
  // ChallengeType returns the type answered: kHttp01 or kDns01.
  virtual std::string_view ChallengeType() const = 0;
  // Publish returns an error naming what could not be put in place.
  virtual Status Publish(const Challenge& challenge) = 0;
  // Remove returns an error when what was published could not be taken
  // away (it is still removed by the destructor, if possible).
  virtual Status Remove(const Challenge& challenge) = 0;
  // WaitReady returns once everything published can be seen by the CA, or
  // an error naming what lags; callers answer no challenge before it
  // succeeds. http-01 publishers serve at once and return OK; dns-01 waits
  // until the authoritative servers serve the TXT records; the pre-flight
  // wrapper (challenge/preflight.h) fetches each token as the CA would.
  virtual Status WaitReady() = 0;
  // Describe names the mechanism for messages ("webroot /var/www"); it
  // cannot fail.
  virtual std::string Describe() const = 0;
};

}  // namespace bulkhead::challenge

#endif  // BULKHEAD_CHALLENGE_PUBLISHER_H_
