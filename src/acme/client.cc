#include "acme/client.h"

#include <algorithm>
#include <ctime>
#include <random>
#include <set>

#include "crypto/x509.h"
#include "util/base64url.h"
#include "util/interrupt.h"
#include "util/log.h"

namespace bulkhead::acme {
namespace {

using nlohmann::json;
constexpr std::string_view kJoseContentType = "application/jose+json";

long NowUnix() { return static_cast<long>(std::time(nullptr)); }

json IdentifiersJson(const std::vector<Identifier>& ids) {
  json arr = json::array();
  for (const Identifier& id : ids) {
    arr.push_back({{"type", id.type}, {"value", id.value}});
  }
  return arr;
}

}  // namespace

Client::Client(HttpClient& http, jose::Signer& signer, std::string directory_url,
               ClientOptions options)
    : http_(http),
      signer_(&signer),
      directory_url_(std::move(directory_url)),
      origin_(UrlOrigin(directory_url_)),
      options_(options) {}

Client::Client(HttpClient& http, std::string directory_url, ClientOptions options)
    : http_(http),
      signer_(nullptr),
      directory_url_(std::move(directory_url)),
      origin_(UrlOrigin(directory_url_)),
      options_(options) {}

Status Client::CheckSameOrigin(const std::string& url, std::string_view what) const {
  if (UrlOrigin(url) != origin_) {
    return Err("the CA sent a {} URL outside its own origin {} (got \"{}\"); refusing to follow it",
               what, origin_, url.substr(0, 200));
  }
  return OkStatus();
}

Status Client::CheckOrderOrigins(const Order& order) const {
  for (const std::string& a : order.authorizations) {
    BH_TRY(CheckSameOrigin(a, "authorization"));
  }
  BH_TRY(CheckSameOrigin(order.finalize, "finalize"));
  if (!order.certificate.empty()) {
    BH_TRY(CheckSameOrigin(order.certificate, "certificate"));
  }
  return OkStatus();
}

Status Client::CheckJson(const HttpResponse& resp, const std::string& url) const {
  std::string ct = resp.Header("content-type");
  if (ct.find("json") == std::string::npos) {
    return Err("the CA answered {} with content type \"{}\" where JSON was expected", url,
               ct.substr(0, 80));
  }
  return OkStatus();
}

std::function<Result<Order>(const HttpResponse&)> Client::OrderParser(
    const std::string& url) const {
  return [this, url](const HttpResponse& resp) -> Result<Order> {
    BH_TRY(CheckJson(resp, url));
    return ParseOrder(resp.body, url);
  };
}

std::function<Result<Authorization>(const HttpResponse&)> Client::AuthorizationParser(
    const std::string& url) const {
  return [this, url](const HttpResponse& resp) -> Result<Authorization> {
    BH_TRY(CheckJson(resp, url));
    return ParseAuthorization(resp.body, url);
  };
}

Status Client::Init() {
  if (directory_url_.rfind("https://", 0) != 0) {
    return ErrCode(ErrorCode::kUsage, "the ACME directory URL must use https: {}", directory_url_);
  }
  std::optional<Directory> parsed;
  auto parse = [&](const HttpResponse& resp) -> Status {
    if (resp.status != 200) {
      return OkStatus();  // A problem document, judged below.
    }
    BH_TRY(CheckJson(resp, directory_url_));
    auto dir = ParseDirectory(resp.body);
    if (!dir.ok()) {
      return dir.error().Wrap(directory_url_);
    }
    parsed = std::move(dir).value();
    return OkStatus();
  };
  BH_ASSIGN(HttpResponse resp,
            Fetch(directory_url_, /*head=*/false, "fetching the ACME directory", parse));
  if (resp.status != 200 || !parsed) {
    Problem p = ParseProblem(resp.body, static_cast<int>(resp.status));
    return ProblemError(p, fmt::format("fetching the ACME directory {}", directory_url_));
  }
  dir_ = std::move(*parsed);
  for (const std::string* u : {&dir_.new_nonce, &dir_.new_account, &dir_.new_order}) {
    BH_TRY(CheckSameOrigin(*u, "directory"));
  }
  return OkStatus();
}

void Client::RememberNonce(const HttpResponse& resp) {
  std::string n = resp.Header("replay-nonce");
  if (IsBase64UrlToken(n) && n.size() <= 256) {
    nonce_ = std::move(n);
  }
}

Result<std::string> Client::TakeNonce() {
  if (!nonce_.empty()) {
    std::string n = std::move(nonce_);
    nonce_.clear();
    return n;
  }
  for (int attempt = 0; nonce_.empty(); ++attempt) {
    BH_ASSIGN(HttpResponse resp, Fetch(dir_.new_nonce, /*head=*/true, "getting a nonce"));
    if (resp.status != 200 && resp.status != 204) {
      return Err("getting a nonce from {}: HTTP status {}", dir_.new_nonce, resp.status);
    }
    RememberNonce(resp);
    if (nonce_.empty() &&
        !BackOff(attempt, /*retry_after_seconds=*/-1, "getting a nonce", "the CA sent no valid Replay-Nonce")) {
      return ErrCode(ErrorCode::kTransient, "the CA sent no valid Replay-Nonce from {}",
                     dir_.new_nonce);
    }
  }
  std::string n = std::move(nonce_);
  nonce_.clear();
  return n;
}

bool Client::BackOff(int attempt, long retry_after_seconds, std::string_view context,
                     std::string_view why) {
  using std::chrono::milliseconds;
  if (attempt >= options_.max_transient_retries || Interrupted()) {
    return false;
  }
  milliseconds wait;
  if (retry_after_seconds >= 0) {
    wait = milliseconds(retry_after_seconds * 1000);
    if (wait > options_.max_retry_after) {
      return false;
    }
  } else {
    // Exponential backoff with jitter in [0.5, 1.5) so that many clients
    // failing together do not come back together.
    milliseconds base = options_.retry_first_backoff * (1 << std::min(attempt, 10));
    base = std::min(base, options_.retry_max_backoff);
    thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    wait = milliseconds(static_cast<long>(static_cast<double>(base.count()) * jitter(rng)));
  }
  if (std::chrono::steady_clock::now() + wait > deadline_) {
    return false;
  }
  LogInfo("{}: {}; retrying in {} ms (retry {} of {})", context, why, wait.count(), attempt + 1,
          options_.max_transient_retries);
  return SleepInterruptible(wait);
}

std::optional<Error> Client::Unusable(const Result<HttpResponse>& got, const ReadCheck& check) {
  if (!check) {
    return std::nullopt;
  }
  if (!got.ok()) {
    // Only the size cap: the CA did answer, and a read may be repeated.
    // Other transport failures follow the transient rule of the caller.
    return IsResponseTooLarge(got.error()) ? std::optional<Error>(got.error()) : std::nullopt;
  }
  if (got->status >= 400) {
    return std::nullopt;  // A problem document: the caller's rules apply.
  }
  Status verdict = check(*got);
  return verdict.ok() ? std::nullopt : std::optional<Error>(verdict.error());
}

Result<HttpResponse> Client::Fetch(const std::string& url, bool head, std::string_view context,
                                   const ReadCheck& check) {
  for (int attempt = 0;; ++attempt) {
    auto resp = head ? http_.Head(url) : http_.Get(url);
    if (std::optional<Error> why = Unusable(resp, check)) {
      if (BackOff(attempt, /*retry_after_seconds=*/-1, context, why->message)) {
        continue;
      }
      // The last reason; a transport error gets the context like below.
      return resp.ok() ? *why : why->Wrap(context);
    }
    if (resp.ok() && resp->status < 500 && resp->status != 429) {
      return resp;
    }
    if (resp.ok()) {
      long retry_after = resp->RetryAfterSeconds(NowUnix());
      std::string why = fmt::format("HTTP status {}", resp->status);
      if (!BackOff(attempt, retry_after, context, why)) {
        return resp;  // The caller turns the status into an error.
      }
      continue;
    }
    if (resp.error().code != ErrorCode::kTransient ||
        !BackOff(attempt, /*retry_after_seconds=*/-1, context, resp.error().message)) {
      return resp.error().Wrap(context);
    }
  }
}

Result<HttpResponse> Client::Post(const std::string& url, const std::string& payload,
                                  std::string_view context, bool use_jwk, jose::Signer* signer,
                                  bool retry_lost, const ReadCheck& check) {
  jose::Signer* s = signer != nullptr ? signer : signer_;
  if (s == nullptr) {
    return Err("{}: this client is unauthenticated and cannot sign", context);
  }
  if (!use_jwk && account_url_.empty()) {
    return Err("{}: no account URL known; run `bulkhead account register` first", context);
  }
  int bad_nonces = 0;
  int transient = 0;
  for (;;) {
    BH_ASSIGN(std::string nonce, TakeNonce());
    jose::SignRequest req{url, nonce, use_jwk ? std::string() : account_url_, payload};
    BH_ASSIGN(json jws, s->Sign(req));
    auto sent = http_.Post(url, jws.dump(), kJoseContentType);
    if (sent.ok()) {
      RememberNonce(*sent);
    }
    if (std::optional<Error> why = Unusable(sent, check)) {
      if (BackOff(transient++, /*retry_after_seconds=*/-1, context, why->message)) {
        continue;
      }
      return sent.ok() ? *why : why->Wrap(context);
    }
    if (!sent.ok()) {
      if (sent.error().code == ErrorCode::kTransient && retry_lost &&
          BackOff(transient++, /*retry_after_seconds=*/-1, context, sent.error().message)) {
        continue;
      }
      return sent.error().Wrap(context);
    }
    HttpResponse resp = std::move(sent).value();
    if (resp.status < 400) {
      return resp;
    }
    Problem p = ParseProblem(resp.body, static_cast<int>(resp.status));
    if (p.Is("badNonce") && bad_nonces < options_.max_bad_nonce_retries) {
      ++bad_nonces;
      LogInfo("{}: the CA rejected the nonce; retrying with a fresh one", context);
      continue;
    }
    long retry_after = resp.RetryAfterSeconds(NowUnix());
    Error e = ProblemError(p, context, retry_after);
    if (e.code == ErrorCode::kTransient &&
        BackOff(transient++, retry_after, context, p.ShortType().empty()
                                                       ? fmt::format("HTTP status {}", resp.status)
                                                       : p.ShortType())) {
      continue;
    }
    return e;
  }
}

Result<HttpResponse> Client::Read(const std::string& url, std::string_view context,
                                  const ReadCheck& check) {
  return Post(url, "", context, /*use_jwk=*/false, /*signer=*/nullptr, /*retry_lost=*/true, check);
}

template <typename T>
Result<T> Client::ReadParsed(const std::string& url, std::string_view context,
                             const std::function<Result<T>(const HttpResponse&)>& parse,
                             HttpResponse* resp) {
  std::optional<T> parsed;
  auto check = [&](const HttpResponse& r) -> Status {
    BH_ASSIGN(T value, parse(r));
    parsed = std::move(value);
    return OkStatus();
  };
  BH_ASSIGN(HttpResponse got, Read(url, context, check));
  if (resp != nullptr) {
    *resp = std::move(got);
  }
  return std::move(*parsed);
}

Result<Account> Client::NewAccount(const std::vector<std::string>& contact, bool agree_tos,
                                   const json& eab, bool* out_created) {
  json payload = json::object();
  payload["contact"] = contact;
  if (agree_tos) {
    payload["termsOfServiceAgreed"] = true;
  }
  if (!eab.is_null()) {
    payload["externalAccountBinding"] = eab;
  }
  BH_ASSIGN(HttpResponse resp,
            Post(dir_.new_account, payload.dump(), "registering the account", /*use_jwk=*/true));
  std::string location = resp.Header("location");
  if (location.empty()) {
    return Err("the CA registered the account but sent no Location header");
  }
  location = ResolveUrl(dir_.new_account, location);
  BH_TRY(CheckSameOrigin(location, "account"));
  BH_TRY(CheckJson(resp, dir_.new_account));
  BH_ASSIGN(Account acct, ParseAccount(resp.body, location));
  account_url_ = location;
  if (out_created != nullptr) {
    *out_created = resp.status == 201;
  }
  return acct;
}

Result<Account> Client::FindAccount() {
  json payload = {{"onlyReturnExisting", true}};
  auto resp = Post(dir_.new_account, payload.dump(), "looking up the account", /*use_jwk=*/true);
  if (!resp.ok()) {
    if (resp.error().message.find("accountDoesNotExist") != std::string::npos) {
      return ErrCode(ErrorCode::kNotFound, "the CA has no account for this key");
    }
    return resp.error();
  }
  std::string location = resp->Header("location");
  if (location.empty()) {
    // Resolved, "" would become the newAccount URL itself, and that would
    // then be sent as the "kid" of every request.
    return Err("the CA found the account but sent no Location header");
  }
  location = ResolveUrl(dir_.new_account, location);
  BH_TRY(CheckSameOrigin(location, "account"));
  BH_ASSIGN(Account acct, ParseAccount(resp->body, location));
  account_url_ = location;
  return acct;
}

Result<Account> Client::FetchAccount() {
  BH_ASSIGN(HttpResponse resp, Post(account_url_, "", "reading the account"));
  BH_TRY(CheckJson(resp, account_url_));
  return ParseAccount(resp.body, account_url_);
}

Result<Account> Client::UpdateAccount(const std::vector<std::string>& contact) {
  json payload = {{"contact", contact}};
  BH_ASSIGN(HttpResponse resp, Post(account_url_, payload.dump(), "updating the account contact"));
  BH_TRY(CheckJson(resp, account_url_));
  return ParseAccount(resp.body, account_url_);
}

Result<Account> Client::DeactivateAccount() {
  json payload = {{"status", "deactivated"}};
  BH_ASSIGN(HttpResponse resp, Post(account_url_, payload.dump(), "deactivating the account"));
  BH_TRY(CheckJson(resp, account_url_));
  return ParseAccount(resp.body, account_url_);
}

Status Client::ChangeKey(const InnerSigner& sign_with_new_key) {
  if (dir_.key_change.empty()) {
    return Err("the CA does not offer key rollover (no keyChange in its directory)");
  }
  if (signer_ == nullptr) {
    return Err("rolling over the account key: this client is unauthenticated");
  }
  json inner_payload = {{"account", account_url_}, {"oldKey", signer_->Jwk()}};
  jose::SignRequest inner{dir_.key_change, /*nonce=*/"", /*kid=*/"", inner_payload.dump()};
  BH_ASSIGN(json inner_jws, sign_with_new_key(inner));
  BH_ASSIGN(HttpResponse resp, Post(dir_.key_change, inner_jws.dump(), "rolling over the account key"));
  (void)resp;
  return OkStatus();
}

Result<Order> Client::NewOrder(const std::vector<Identifier>& identifiers,
                               const NewOrderOptions& options) {
  json payload = {{"identifiers", IdentifiersJson(identifiers)}};
  if (!options.profile.empty()) {
    payload["profile"] = options.profile;
  }
  if (!options.replaces.empty()) {
    payload["replaces"] = options.replaces;
  }
  BH_ASSIGN(HttpResponse resp, Post(dir_.new_order, payload.dump(), "creating the order"));
  std::string location = resp.Header("location");
  if (location.empty()) {
    return Err("the CA created an order but sent no Location header");
  }
  location = ResolveUrl(dir_.new_order, location);
  BH_TRY(CheckSameOrigin(location, "order"));
  BH_TRY(CheckJson(resp, dir_.new_order));
  BH_ASSIGN(Order order, ParseOrder(resp.body, location));
  auto key = [](const Identifier& i) { return i.ToString(); };
  std::set<std::string> want;
  std::set<std::string> got;
  std::transform(identifiers.begin(), identifiers.end(), std::inserter(want, want.end()), key);
  std::transform(order.identifiers.begin(), order.identifiers.end(),
                 std::inserter(got, got.end()), key);
  if (want != got) {
    return Err("the CA returned order {} for other identifiers than requested", location);
  }
  BH_TRY(CheckOrderOrigins(order));
  return order;
}

Result<HttpResponse> Client::FetchRenewalInfo(const std::string& cert_id, const ReadCheck& check) {
  if (dir_.renewal_info.empty()) {
    return ErrCode(ErrorCode::kNotFound, "the CA does not offer renewal information (ARI)");
  }
  // The certID is ours (base64url "." base64url), so it is safe in a path.
  std::string url = dir_.renewal_info;
  if (url.empty() || url.back() != '/') {
    url += '/';
  }
  url += cert_id;
  BH_TRY(CheckSameOrigin(url, "renewalInfo"));
  std::string context = fmt::format("fetching renewal information {}", url);
  auto judge = [&](const HttpResponse& resp) -> Status {
    if (resp.status != 200) {
      return OkStatus();  // A problem document, judged below.
    }
    BH_TRY(CheckJson(resp, url));
    if (Status parsed = check ? check(resp) : OkStatus(); !parsed.ok()) {
      return parsed.error().Wrap(context);  // Name what was fetched.
    }
    return OkStatus();
  };
  BH_ASSIGN(HttpResponse resp, Fetch(url, /*head=*/false, context, judge));
  if (resp.status != 200) {
    Problem p = ParseProblem(resp.body, static_cast<int>(resp.status));
    return ProblemError(p, context, resp.RetryAfterSeconds(NowUnix()));
  }
  return resp;
}

Result<Order> Client::FetchOrder(const std::string& url) {
  BH_TRY(CheckSameOrigin(url, "order"));
  BH_ASSIGN(Order order, ReadParsed(url, fmt::format("reading order {}", url), OrderParser(url)));
  BH_TRY(CheckOrderOrigins(order));
  return order;
}

Result<Authorization> Client::FetchAuthorization(const std::string& url) {
  BH_TRY(CheckSameOrigin(url, "authorization"));
  return ReadParsed(url, fmt::format("reading authorization {}", url), AuthorizationParser(url));
}

Status Client::RespondToChallenge(const Challenge& challenge) {
  BH_TRY(CheckSameOrigin(challenge.url, "challenge"));
  BH_ASSIGN(HttpResponse resp,
            Post(challenge.url, "{}", fmt::format("answering challenge {}", challenge.url)));
  (void)resp;
  return OkStatus();
}

bool Client::WaitToPoll(const HttpResponse& resp, std::chrono::milliseconds* interval,
                        std::chrono::steady_clock::time_point deadline, std::string_view what) {
  using std::chrono::milliseconds;
  milliseconds wait = *interval;
  long retry_after = resp.RetryAfterSeconds(NowUnix());
  if (retry_after >= 0) {
    wait = std::min<milliseconds>(milliseconds(retry_after * 1000), options_.max_retry_after);
    LogInfo("{}: the CA asked to wait {} s before asking again", what, retry_after);
  }
  *interval = std::min(*interval * 2, options_.poll_max_interval);
  auto now = std::chrono::steady_clock::now();
  if (now + wait > deadline) {
    return false;
  }
  return SleepInterruptible(wait);
}

Result<Authorization> Client::PollAuthorization(const std::string& url) {
  // The poll timeout bounds this one wait; the client's deadline bounds the
  // whole run, so a wait never outlasts it either.
  auto deadline = std::min(std::chrono::steady_clock::now() + options_.poll_timeout, deadline_);
  std::chrono::milliseconds interval = options_.poll_first_interval;
  std::string context = fmt::format("waiting for authorization {}", url);
  // The challenge has just been answered: asked at once, the CA would
  // almost always say "pending", so the first look waits one interval.
  if (!SleepInterruptible(interval)) {
    return ErrCode(ErrorCode::kTransient, "{}: interrupted", context);
  }
  interval = std::min(interval * 2, options_.poll_max_interval);
  for (;;) {
    HttpResponse resp;
    BH_ASSIGN(Authorization authz, ReadParsed(url, context, AuthorizationParser(url), &resp));
    if (authz.status != "pending") {
      return authz;
    }
    if (!WaitToPoll(resp, &interval, deadline, context)) {
      return ErrCode(ErrorCode::kTransient, "{}: {}", context,
                     Interrupted() ? "interrupted"
                                   : "gave up at the polling timeout or the deadline");
    }
  }
}

Result<Order> Client::Finalize(const Order& order, const std::string& csr_der) {
  BH_TRY(CheckOrderOrigins(order));
  json payload = {{"csr", Base64UrlEncode(csr_der)}};
  BH_ASSIGN(HttpResponse resp,
            Post(order.finalize, payload.dump(), fmt::format("finalizing order {}", order.url),
                 /*use_jwk=*/false, /*signer=*/nullptr, /*retry_lost=*/false));
  BH_TRY(CheckJson(resp, order.finalize));
  BH_ASSIGN(Order finalized, ParseOrder(resp.body, order.url));
  BH_TRY(CheckOrderOrigins(finalized));
  return finalized;
}

Result<Order> Client::PollOrder(const std::string& url, bool wait_pending) {
  // The poll timeout bounds this one wait; the client's deadline bounds the
  // whole run, so a wait never outlasts it either.
  auto deadline = std::min(std::chrono::steady_clock::now() + options_.poll_timeout, deadline_);
  std::chrono::milliseconds interval = options_.poll_first_interval;
  std::string context = fmt::format("waiting for order {}", url);
  for (;;) {
    HttpResponse resp;
    BH_ASSIGN(Order order, ReadParsed(url, context, OrderParser(url), &resp));
    BH_TRY(CheckOrderOrigins(order));
    if (order.status != "processing" && !(wait_pending && order.status == "pending")) {
      return order;
    }
    if (!WaitToPoll(resp, &interval, deadline, context)) {
      return ErrCode(ErrorCode::kTransient, "{}: {}", context,
                     Interrupted() ? "interrupted"
                                   : "gave up at the polling timeout or the deadline");
    }
  }
}

Result<std::vector<std::string>> Client::DownloadChains(const std::string& cert_url,
                                                        bool with_alternates) {
  BH_TRY(CheckSameOrigin(cert_url, "certificate"));
  std::string context = fmt::format("downloading certificate {}", cert_url);
  // Only the default chain must parse: an alternate that does not is
  // ignored by the caller, so for alternates only the size cap is retried.
  auto parses = [&cert_url](const HttpResponse& r) -> Status {
    auto chain = crypto::ParsePemChain(r.body);
    if (!chain.ok()) {
      return chain.error().Wrap(fmt::format("certificate from {}", cert_url));
    }
    return OkStatus();
  };
  BH_ASSIGN(HttpResponse resp, Read(cert_url, context, parses));
  std::vector<std::string> chains{resp.body};
  if (!with_alternates) {
    return chains;
  }
  std::vector<std::string> alternates = resp.Links("alternate", cert_url);
  if (alternates.size() > kMaxAlternates) {
    LogWarn("the CA offers {} alternate chains; considering the first {}", alternates.size(),
            kMaxAlternates);
    alternates.resize(kMaxAlternates);
  }
  for (const std::string& alt : alternates) {
    BH_TRY(CheckSameOrigin(alt, "alternate chain"));
    auto any = [](const HttpResponse&) { return OkStatus(); };
    BH_ASSIGN(HttpResponse alt_resp,
              Read(alt, fmt::format("downloading alternate chain {}", alt), any));
    chains.push_back(std::move(alt_resp.body));
  }
  return chains;
}

Status Client::Revoke(const std::string& cert_der, int reason, jose::Signer* cert_key_signer) {
  if (dir_.revoke_cert.empty()) {
    return Err("the CA does not offer revocation (no revokeCert in its directory)");
  }
  json payload = {{"certificate", Base64UrlEncode(cert_der)}, {"reason", reason}};
  BH_ASSIGN(HttpResponse resp, Post(dir_.revoke_cert, payload.dump(), "revoking the certificate",
                                    /*use_jwk=*/cert_key_signer != nullptr, cert_key_signer));
  (void)resp;
  return OkStatus();
}

std::string Client::KeyAuthorization(const std::string& token) const {
  return signer_ != nullptr ? token + "." + signer_->Thumbprint() : std::string();
}

Result<int> RevocationReason(std::string_view name) {
  static const std::pair<std::string_view, int> kReasons[] = {
      {"unspecified", 0},        {"keyCompromise", 1},        {"affiliationChanged", 3},
      {"superseded", 4},         {"cessationOfOperation", 5},
  };
  for (const auto& [n, code] : kReasons) {
    if (n == name) {
      return code;
    }
  }
  return ErrCode(ErrorCode::kUsage,
                 "unknown revocation reason \"{}\" (use unspecified, keyCompromise, "
                 "affiliationChanged, superseded or cessationOfOperation)",
                 std::string(name.substr(0, 40)));
}

}  // namespace bulkhead::acme
