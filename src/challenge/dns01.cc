// The dns-01 publisher (record names, TXT values, the propagation check) and
// the pure helpers the updaters share.
#include "challenge/dns01.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "crypto/key.h"
#include "dns/name.h"
#include "util/base64url.h"
#include "util/log.h"
#include "util/text.h"

namespace bulkhead::challenge {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxTsigKeyFile = 16 * 1024;
constexpr size_t kMaxShown = 64;

bool IsBase64Text(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '=';
  });
}

// Tokens splits BIND-style configuration text into words, quoted strings
// (quotes removed, flagged) and the punctuation { } ;, dropping comments.
struct Token {
  std::string text;
  bool quoted = false;
};

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '#' || s.substr(i, 2) == "//") {
      size_t nl = s.find('\n', i);
      i = nl == std::string_view::npos ? s.size() : nl;
    } else if (s.substr(i, 2) == "/*") {
      size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) {
        return Err("unterminated comment");
      }
      i = end + 2;
    } else if (c == '{' || c == '}' || c == ';') {
      out.push_back(Token{std::string(1, c), false});
      ++i;
    } else if (c == '"') {
      size_t end = s.find('"', i + 1);
      if (end == std::string_view::npos) {
        return Err("unterminated string");
      }
      out.push_back(Token{std::string(s.substr(i + 1, end - i - 1)), true});
      i = end + 1;
    } else {
      size_t start = i;
      while (i < s.size() && std::string_view(" \t\r\n{};\"#").find(s[i]) == std::string_view::npos) {
        ++i;
      }
      out.push_back(Token{std::string(s.substr(start, i - start)), false});
    }
  }
  return out;
}

Status CheckKeyParts(const std::string& name, const std::string& algorithm,
                     std::string_view secret) {
  if (!dns::IsDnsName(name, /*allow_underscore=*/true)) {
    return Err("TSIG key: the key name \"{}\" is not a DNS name", PrintableExcerpt(name, kMaxShown));
  }
  std::string alg = AsciiLower(algorithm);
  if (alg != "hmac-sha256" && alg != "hmac-sha256.") {
    return Err("TSIG key: algorithm \"{}\" is not supported (use hmac-sha256)",
               PrintableExcerpt(algorithm, kMaxShown));
  }
  if (!IsBase64Text(secret)) {
    return Err("TSIG key: the secret is missing or not base64");
  }
  return OkStatus();
}

// ParseBindKey parses the first `key "name" { ... };` block.
Result<TsigKey> ParseBindKey(std::string_view text) {
  auto tokens_or = Tokenize(text);
  if (!tokens_or.ok()) {
    return tokens_or.error().Wrap("TSIG key");
  }
  const std::vector<Token>& t = *tokens_or;
  auto bad = [] { return Err("TSIG key: expected key \"NAME\" {{ algorithm hmac-sha256; secret \"BASE64\"; }};"); };
  size_t i = 0;
  if (t.size() < 4 || t[0].quoted || t[0].text != "key" || t[2].text != "{" || t[2].quoted) {
    return bad();
  }
  std::string name = t[1].text;
  std::string algorithm;
  std::string secret;
  for (i = 3; i < t.size() && !(t[i].text == "}" && !t[i].quoted); i += 3) {
    if (i + 2 >= t.size() || t[i + 2].text != ";" || t[i + 2].quoted) {
      return bad();
    }
    if (t[i].text == "algorithm" && !t[i].quoted) {
      algorithm = t[i + 1].text;
    } else if (t[i].text == "secret" && !t[i].quoted) {
      secret = t[i + 1].text;
    } else {
      return Err("TSIG key: unexpected statement \"{}\"", PrintableExcerpt(t[i].text, kMaxShown));
    }
  }
  if (i >= t.size()) {
    return bad();
  }
  BH_TRY(CheckKeyParts(name, algorithm, secret));
  TsigKey key;
  key.name = dns::Canonical(name);
  key.secret = Secret(std::move(secret));
  return key;
}

}  // namespace

std::string Dns01TxtValue(std::string_view key_authorization) {
  return Base64UrlEncode(crypto::Sha256(key_authorization));
}

bool IsSafeRecordName(std::string_view name) {
  return name.size() <= 254 && !name.empty() && name.back() == '.' &&
         dns::IsDnsName(name, /*allow_underscore=*/true);
}

Result<std::string> ChallengeRecordName(std::string_view name) {
  if (name.substr(0, 2) == "*.") {
    name.remove_prefix(2);
  }
  if (!dns::IsDnsName(name, /*allow_underscore=*/false) || name.find_first_not_of("0123456789.") ==
                                                    std::string_view::npos) {
    return ErrCode(ErrorCode::kUsage, "\"{}\" is not a DNS name; dns-01 needs one",
                   PrintableExcerpt(name, kMaxShown));
  }
  std::string record = dns::Canonical(std::string("_acme-challenge.") + std::string(name));
  if (!IsSafeRecordName(record)) {
    return ErrCode(ErrorCode::kUsage, "\"{}\" is too long for a dns-01 record", PrintableExcerpt(name, kMaxShown));
  }
  return record;
}

std::string DropFileContent(std::string_view record_name, uint32_t ttl, std::string_view value) {
  return fmt::format("{} {} IN TXT \"{}\"\n", record_name, ttl, value);
}

Result<TsigKey> ParseTsigKey(std::string_view text) {
  std::string_view trimmed = text;
  while (!trimmed.empty() && std::string_view(" \t\r\n").find(trimmed.front()) != std::string_view::npos) {
    trimmed.remove_prefix(1);
  }
  while (!trimmed.empty() && std::string_view(" \t\r\n").find(trimmed.back()) != std::string_view::npos) {
    trimmed.remove_suffix(1);
  }
  bool one_line = trimmed.find_first_of("\n{\" ") == std::string_view::npos &&
                  trimmed.find(':') != std::string_view::npos;
  if (!one_line) {
    return ParseBindKey(text);
  }
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t colon = trimmed.find(':', pos);
    parts.emplace_back(trimmed.substr(pos, colon == std::string_view::npos ? colon : colon - pos));
    if (colon == std::string_view::npos) {
      break;
    }
    pos = colon + 1;
  }
  std::string algorithm = "hmac-sha256";
  if (parts.size() == 3) {
    algorithm = parts[0];
    parts.erase(parts.begin());
  }
  if (parts.size() != 2) {
    return Err("TSIG key: expected [hmac-sha256:]NAME:SECRET");
  }
  BH_TRY(CheckKeyParts(parts[0], algorithm, parts[1]));
  TsigKey key;
  key.name = dns::Canonical(parts[0]);
  key.secret = Secret(std::move(parts[1]));
  return key;
}

Result<TsigKey> LoadTsigKey(const std::string& path) {
  auto text = ReadSecretFileCapped(path, kMaxTsigKeyFile);
  if (!text.ok()) {
    return text.error();
  }
  auto key = ParseTsigKey(text->view());
  if (!key.ok()) {
    return key.error().Wrap(path);
  }
  return key;
}

namespace {

struct Published {
  std::string record;
  std::string value;
};

class Dns01Publisher : public Publisher {
 public:
  Dns01Publisher(std::unique_ptr<RecordUpdater> updater, Dns01Options options)
      : updater_(std::move(updater)), options_(std::move(options)) {}

  ~Dns01Publisher() override {
    for (const auto& [token, p] : published_) {
      Status st = updater_->Delete(p.record, p.value);
      if (!st.ok()) {
        LogWarn("removing the dns-01 record {}: {}", p.record, st.error().message);
      }
    }
  }

  std::string_view ChallengeType() const override { return kDns01; }

  Status Publish(const Challenge& challenge) override {
    const std::string& token = challenge.token;
    if (!IsBase64UrlToken(token)) {
      return Err("refusing challenge token \"{}\": not base64url", PrintableExcerpt(token, kMaxShown));
    }
    BH_ASSIGN(std::string record, ChallengeRecordName(challenge.identifier));
    if (options_.follow_cnames) {
      BH_ASSIGN(dns::Server server, LookupServer());
      auto target = dns::FollowCnames(server, record, LookupOptions());
      if (!target.ok()) {
        // The record is still written at the usual place; a CNAME we could
        // not see shows up as a validation failure naming the name.
        LogWarn("dns-01: looking for a CNAME at {}: {}", record, target.error().message);
      } else if (*target != record) {
        if (!IsSafeRecordName(*target)) {
          return Err("dns-01: {} is a CNAME to \"{}\", which is not a name we write", record,
                     PrintableExcerpt(*target, kMaxShown));
        }
        LogInfo("dns-01: {} is delegated to {} by CNAME; writing there", record, *target);
        record = *target;
      }
    }
    std::string value = Dns01TxtValue(challenge.key_authorization);
    BH_TRY(updater_->Add(record, value));
    published_[token] = Published{record, value};
    LogDebug("dns-01: added TXT {} \"{}\" via {}", record, value, updater_->Describe());
    return OkStatus();
  }

  Status Remove(const Challenge& challenge) override {
    auto it = published_.find(challenge.token);
    if (it == published_.end()) {
      return OkStatus();
    }
    Published p = it->second;
    published_.erase(it);
    return updater_->Delete(p.record, p.value);
  }

  Status WaitReady() override {
    if (published_.empty()) {
      return OkStatus();
    }
    if (options_.fixed_wait.count() > 0) {
      LogInfo("dns-01: waiting {} s (--dns-wait) instead of checking propagation",
              options_.fixed_wait.count());
      std::this_thread::sleep_for(options_.fixed_wait);
      return OkStatus();
    }
    return CheckPropagation();
  }

  std::string Describe() const override { return updater_->Describe(); }

 private:
  // A target to poll: one server for one record name.
  struct Target {
    std::string record;
    std::set<std::string> values;
    dns::NamedServer server;
    bool done = false;
    std::string last;  // What it served at the last poll, for the error.
  };

  dns::QueryOptions LookupOptions() const {
    dns::QueryOptions q = options_.query;
    q.recursion_desired = true;
    return q;
  }

  Result<dns::Server> LookupServer() const {
    if (options_.resolver) {
      return *options_.resolver;
    }
    BH_ASSIGN(std::vector<dns::Server> servers, dns::SystemResolvers(options_.resolv_conf));
    return servers.front();
  }

  Result<std::vector<Target>> Targets() const {
    std::map<std::string, std::set<std::string>> by_record;
    for (const auto& [token, p] : published_) {
      by_record[p.record].insert(p.value);
    }
    std::vector<Target> out;
    for (const auto& [record, values] : by_record) {
      std::vector<dns::NamedServer> servers;
      if (options_.resolver) {
        servers.push_back(dns::NamedServer{options_.resolver->ToString(), *options_.resolver});
      } else {
        BH_ASSIGN(dns::Server resolver, LookupServer());
        auto found = dns::FindAuthoritative(resolver, record, LookupOptions());
        if (!found.ok()) {
          return found.error().Wrap(
              fmt::format("dns-01: finding the authoritative servers of {}", record));
        }
        servers = std::move(found).value();
      }
      for (const dns::NamedServer& s : servers) {
        out.push_back(Target{record, values, s, false, "nothing yet"});
      }
    }
    return out;
  }

  void Poll(Target& t) const {
    dns::QueryOptions q = options_.query;
    // An authoritative server must have it itself; an explicit resolver
    // may be recursive.
    q.recursion_desired = options_.resolver.has_value();
    auto r = dns::Query(t.server.server, t.record, dns::kTypeTxt, q);
    if (!r.ok()) {
      t.last = r.error().message;
      return;
    }
    if (r->rcode != dns::kRcodeNoError) {
      t.last = fmt::format("rcode {}", r->rcode);
      return;
    }
    std::set<std::string> served;
    for (const dns::Record& rec : r->answer) {
      if (rec.type == dns::kTypeTxt && rec.owner == t.record) {
        auto s = dns::TxtStrings(rec);
        if (s.ok()) {
          served.insert(*s);
        }
      }
    }
    std::string listed;
    for (const std::string& s : served) {
      listed += (listed.empty() ? "" : ", ") + fmt::format("\"{}\"", PrintableExcerpt(s, kMaxShown));
    }
    t.last = served.empty() ? "no TXT record" : "TXT " + listed;
    t.done = std::includes(served.begin(), served.end(), t.values.begin(), t.values.end());
  }

  Status CheckPropagation() {
    BH_ASSIGN(std::vector<Target> targets, Targets());
    Clock::time_point deadline = Clock::now() + options_.timeout;
    for (;;) {
      bool all = true;
      for (Target& t : targets) {
        if (!t.done) {
          Poll(t);
        }
        all = all && t.done;
      }
      if (all) {
        LogInfo("dns-01: every server serves the challenge records");
        return OkStatus();
      }
      if (Clock::now() + options_.poll_interval >= deadline) {
        break;
      }
      std::this_thread::sleep_for(options_.poll_interval);
    }
    std::string lagging;
    for (const Target& t : targets) {
      if (!t.done) {
        std::string who = t.server.name == t.server.server.ToString()
                              ? t.server.name
                              : fmt::format("{} ({})", t.server.name, t.server.server.ToString());
        lagging += fmt::format("\n  server {} does not serve the TXT record at {} (it answers: {})",
                               who, t.record, t.last);
      }
    }
    return Err("dns-01: the challenge records did not propagate within {} s via {}:{}",
               options_.timeout.count(), updater_->Describe(), lagging);
  }

  std::unique_ptr<RecordUpdater> updater_;
  Dns01Options options_;
  std::map<std::string, Published> published_;
};

}  // namespace

std::unique_ptr<Publisher> NewDns01Publisher(std::unique_ptr<RecordUpdater> updater,
                                             Dns01Options options) {
  return std::make_unique<Dns01Publisher>(std::move(updater), std::move(options));
}

}  // namespace bulkhead::challenge
