// The ACME protocol (RFC 8555) from the client's side. Client speaks to one
// CA through an HttpClient and signs through a jose::Signer; it holds no key
// and touches no file.
#ifndef BULKHEAD_ACME_CLIENT_H_
#define BULKHEAD_ACME_CLIENT_H_

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "acme/http.h"
#include "acme/problem.h"
#include "acme/types.h"
#include "jose/signer.h"
#include "util/result.h"

namespace bulkhead::acme {

// ClientOptions tunes retries and polling.
struct ClientOptions {
  // kMaxBadNonceRetries bounds retries of one request after badNonce; at a
  // 50% rejection rate, 20 retries fail with probability one in a million.
  int max_bad_nonce_retries = 20;
  // Polling starts fast (a CA near by is often done within a few
  // milliseconds) and backs off geometrically up to poll_max_interval, so a
  // slow CA costs only about two more requests than starting at 25 ms.
  std::chrono::milliseconds poll_first_interval{5};
  std::chrono::milliseconds poll_max_interval{2000};
  std::chrono::milliseconds poll_timeout{std::chrono::minutes(3)};
  // Cap on Retry-After waits we are willing to honour inside one run; a
  // longer wait fails the run with the time to retry in the message.
  std::chrono::seconds max_retry_after{60};
  // Transient failures (connection errors, 5xx, rateLimited) are retried at
  // most this often per request, backing off exponentially with jitter from
  // retry_first_backoff up to retry_max_backoff, unless Retry-After says.
  int max_transient_retries = 4;
  std::chrono::milliseconds retry_first_backoff{500};
  std::chrono::milliseconds retry_max_backoff{8000};
};

// NewOrderOptions are the optional members of a newOrder request.
struct NewOrderOptions {
  std::string profile;   // ACME profiles draft: a name from meta.profiles.
  std::string replaces;  // RFC 9773: the ARI certID of the certificate replaced.
};

// Client is one session with one CA. Not thread-safe.
class Client {
 public:
  // `http` and `signer` must outlive the Client.
  Client(HttpClient& http, jose::Signer& signer, std::string directory_url,
         ClientOptions options = {});
  // An unauthenticated Client holds no signer: Init, directory() and
  // FetchRenewalInfo work; every signed request (account, order, challenge,
  // finalize, revoke, keyChange) fails with an error saying so, before
  // anything is sent. `http` must outlive it.
  Client(HttpClient& http, std::string directory_url, ClientOptions options = {});

  // Init fetches the directory. Must succeed before anything else.
  Status Init();
  const Directory& directory() const { return dir_; }
  const std::string& directory_url() const { return directory_url_; }

  // SetDeadline bounds every wait and retry of this client (per certificate:
  // the caller sets it before each order). Default: none.
  void SetDeadline(std::chrono::steady_clock::time_point deadline) { deadline_ = deadline; }

  // SetAccountUrl sets the "kid" used for every later request.
  void SetAccountUrl(std::string url) { account_url_ = std::move(url); }
  const std::string& account_url() const { return account_url_; }

  // NewAccount registers (or, when the key is known, finds) the account and
  // sets the account URL. `eab` is an EAB JWS or null. `created` reports
  // whether the CA made a new account.
  Result<Account> NewAccount(const std::vector<std::string>& contact, bool agree_tos,
                             const nlohmann::json& eab, bool* out_created);

  // FindAccount looks up the account for the signer's key
  // (onlyReturnExisting); ErrorCode::kNotFound when the CA has none.
  Result<Account> FindAccount();

  // FetchAccount reads the account object (POST to the account URL).
  Result<Account> FetchAccount();

  // UpdateAccount replaces the contact list.
  Result<Account> UpdateAccount(const std::vector<std::string>& contact);

  // DeactivateAccount deactivates the account for good.
  Result<Account> DeactivateAccount();

  // InnerSigner signs the keyChange inner JWS with the new key (RFC 8555
  // 7.3.5): it gets the request (the keyChange URL, no nonce, no kid, the
  // payload {account, oldKey}) and returns the flattened JWS, or an error.
  using InnerSigner = std::function<Result<nlohmann::json>(const jose::SignRequest&)>;

  // ChangeKey rolls the account over to the key behind `sign_with_new_key`.
  // On success the Client keeps using the old signer object; callers switch.
  // Fails without a request on an unauthenticated Client.
  Status ChangeKey(const InnerSigner& sign_with_new_key);

  // NewOrder creates an order for `identifiers`, with the optional
  // members of `options` (profile, replaces).
  Result<Order> NewOrder(const std::vector<Identifier>& identifiers,
                         const NewOrderOptions& options = {});
  // ReadCheck judges a response to an idempotent read: OK when usable,
  // otherwise why it was refused (the read is then repeated like a 5xx).
  using ReadCheck = std::function<Status(const HttpResponse&)>;

  // FetchRenewalInfo GETs (unauthenticated) the CA's renewalInfo resource
  // for `cert_id` (RFC 9773). Fails when the directory has no renewalInfo,
  // on a transport failure, or on an answer other than 200; the caller
  // parses the body (renew/ari.h) and reads Retry-After. `check`, when
  // given, is the caller's parse: a 200 it refuses is fetched again.
  Result<HttpResponse> FetchRenewalInfo(const std::string& cert_id,
                                        const ReadCheck& check = nullptr);
  Result<Order> FetchOrder(const std::string& url);
  Result<Authorization> FetchAuthorization(const std::string& url);

  // RespondToChallenge tells the CA the challenge is ready.
  Status RespondToChallenge(const Challenge& challenge);

  // PollAuthorization waits until the authorization leaves "pending".
  // Fails (kTransient) when poll_timeout or the deadline (SetDeadline)
  // would pass before the next look.
  Result<Authorization> PollAuthorization(const std::string& url);

  // Finalize submits the CSR (DER) and returns the order as the CA answers.
  Result<Order> Finalize(const Order& order, const std::string& csr_der);

  // PollOrder waits while the order is "processing" (and, with
  // `wait_pending`, while it is "pending": authorizations just turned valid
  // may take a moment to reach the order), then returns it. Fails like
  // PollAuthorization at the poll timeout or the deadline.
  Result<Order> PollOrder(const std::string& url, bool wait_pending);

  // DownloadChains returns the default chain (PEM) first, then, with
  // `with_alternates`, each alternate chain the CA links (at most
  // kMaxAlternates; each is one more request, so callers ask for them only
  // when they will choose between chains).
  Result<std::vector<std::string>> DownloadChains(const std::string& cert_url,
                                                  bool with_alternates);

  // Revoke revokes `cert_der` with RFC 5280 `reason`. When `cert_key_signer`
  // is given, the request is signed with the certificate's own key (jwk),
  // otherwise with the account (kid).
  Status Revoke(const std::string& cert_der, int reason, jose::Signer* cert_key_signer);

  // KeyAuthorization returns token "." thumbprint (RFC 8555 8.1); an
  // unauthenticated Client has no thumbprint and returns "".
  std::string KeyAuthorization(const std::string& token) const;

  static constexpr int kMaxAlternates = 4;

 private:
  // Post sends a signed request, retrying on badNonce, and returns the
  // response if its status is below 400; otherwise the problem as an Error
  // prefixed with `context`. With `signer` null the account signer is used;
  // `use_jwk` embeds the JWK instead of the kid.
  // With `retry_lost` false, a transport failure after the request may
  // have reached the CA is returned instead of retried (finalize: the caller
  // polls the order to learn what happened). With `check`, the request is an
  // idempotent read and unusable answers are retried (see Unusable).
  Result<HttpResponse> Post(const std::string& url, const std::string& payload,
                            std::string_view context, bool use_jwk = false,
                            jose::Signer* signer = nullptr, bool retry_lost = true,
                            const ReadCheck& check = nullptr);
  // Fetch GETs (or HEADs) `url`, retrying transient failures; with `check`
  // it is an idempotent read (see Unusable).
  Result<HttpResponse> Fetch(const std::string& url, bool head, std::string_view context,
                             const ReadCheck& check = nullptr);
  // Read is the POST-as-GET of `url`: an idempotent read, so an answer
  // `check` refuses, or one over the size cap, is retried like a 5xx.
  Result<HttpResponse> Read(const std::string& url, std::string_view context,
                            const ReadCheck& check);
  // ReadParsed is Read with `parse` as the check; it returns what `parse`
  // made of the answer it accepted, and that answer in `*resp` if given.
  template <typename T>
  Result<T> ReadParsed(const std::string& url, std::string_view context,
                       const std::function<Result<T>(const HttpResponse&)>& parse,
                       HttpResponse* resp = nullptr);
  // Unusable is the one rule for idempotent reads (`check` set): an answer
  // over the size cap, or one `check` refuses, is unusable and returns the
  // reason, which the caller retries with the backoff and bound of a 5xx.
  // Without `check` (a request that changes state) nothing is unusable here:
  // a garbled answer there is settled by reading the state afterwards.
  static std::optional<Error> Unusable(const Result<HttpResponse>& got, const ReadCheck& check);
  // BackOff sleeps before retry number `attempt` of a transient failure
  // (`why`); false when retries, the deadline or the Retry-After cap are
  // exhausted, or on interruption.
  bool BackOff(int attempt, long retry_after_seconds, std::string_view context,
               std::string_view why);
  Result<std::string> TakeNonce();
  void RememberNonce(const HttpResponse& resp);
  Status CheckSameOrigin(const std::string& url, std::string_view what) const;
  // CheckOrderOrigins applies CheckSameOrigin to every URL an order names.
  Status CheckOrderOrigins(const Order& order) const;
  Status CheckJson(const HttpResponse& resp, const std::string& url) const;
  // OrderParser and AuthorizationParser return the parse step of a read of
  // `url` (JSON content type, then the object); they fail as Parse* do.
  std::function<Result<Order>(const HttpResponse&)> OrderParser(const std::string& url) const;
  std::function<Result<Authorization>(const HttpResponse&)> AuthorizationParser(
      const std::string& url) const;
  // Wait sleeps for the poll interval (or Retry-After); false on deadline
  // or interruption.
  bool WaitToPoll(const HttpResponse& resp, std::chrono::milliseconds* interval,
                  std::chrono::steady_clock::time_point deadline, std::string_view what);

  HttpClient& http_;
  jose::Signer* signer_;  // Null: unauthenticated, nothing can be signed.
  std::string directory_url_;
  std::string origin_;
  ClientOptions options_;
  Directory dir_;
  std::string account_url_;
  std::string nonce_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

// RevocationReason parses an RFC 5280 reason name ("keyCompromise" -> 1).
Result<int> RevocationReason(std::string_view name);

}  // namespace bulkhead::acme

#endif  // BULKHEAD_ACME_CLIENT_H_
