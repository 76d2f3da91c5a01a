// The Inventory implementation, written once over inventory/db.h so both
// backends run the very same queries.
#include "inventory/inventory.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <mutex>

#include "inventory/db.h"
#include "inventory/migrations.h"
#include "util/text.h"

namespace bulkhead::inventory {
namespace {

constexpr size_t kMaxHostLen = 253;

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

Value Text(std::string_view s) { return Value(std::string(s)); }
Value Int(int64_t n) { return Value(n); }
Value Tri(const std::optional<bool>& b) {
  return b ? Value(int64_t{*b ? 1 : 0}) : Value(std::monostate{});
}
std::optional<bool> ReadTri(const std::optional<std::string>& col) {
  if (!col) {
    return std::nullopt;
  }
  return ParseInt64(col) != 0;
}
std::string Str(const std::optional<std::string>& col) { return col.value_or(""); }

std::string JoinLines(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    out += (out.empty() ? "" : "\n") + s;
  }
  return out;
}
std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (!s.empty()) {
    size_t nl = s.find('\n', pos);
    out.push_back(s.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    if (nl == std::string::npos) {
      break;
    }
    pos = nl + 1;
  }
  return out;
}

constexpr std::string_view kEndpointColumns = "id, host, port, sni, starttls, created_at";

Endpoint EndpointFromRow(const Row& r) {
  Endpoint e;
  e.id = ParseInt64(r[0]);
  e.host = Str(r[1]);
  e.port = static_cast<uint16_t>(ParseInt64(r[2]));
  e.sni = Str(r[3]);
  e.starttls = Str(r[4]);
  e.created_at = ParseInt64(r[5]);
  return e;
}

constexpr std::string_view kCheckColumns =
    "c.id, c.endpoint_id, c.address, c.checked_at, c.state, c.error, c.tls_version, c.cipher, "
    "c.subject, c.issuer, c.serial_hex, c.sans, c.not_before, c.not_after, "
    "c.sha256_fingerprint, c.key_type, c.key_bits, c.signature_algorithm, c.chain_valid, "
    "c.hostname_match, c.managed_match, c.tlsa_match, c.details_json";

CheckRecord CheckFromRow(const Row& r) {
  CheckRecord c;
  c.id = ParseInt64(r[0]);
  c.endpoint_id = ParseInt64(r[1]);
  c.address = Str(r[2]);
  c.checked_at = ParseInt64(r[3]);
  auto state = ParseCheckState(Str(r[4]));
  c.state = state.ok() ? *state : CheckState::kUnknown;
  c.error = Str(r[5]);
  c.tls_version = Str(r[6]);
  c.cipher = Str(r[7]);
  c.subject = Str(r[8]);
  c.issuer = Str(r[9]);
  c.serial_hex = Str(r[10]);
  c.sans = SplitLines(Str(r[11]));
  c.not_before = ParseInt64(r[12]);
  c.not_after = ParseInt64(r[13]);
  c.sha256_fingerprint = Str(r[14]);
  c.key_type = Str(r[15]);
  c.key_bits = static_cast<int>(ParseInt64(r[16]));
  c.signature_algorithm = Str(r[17]);
  c.chain_valid = ReadTri(r[18]);
  c.hostname_match = ReadTri(r[19]);
  c.managed_match = ReadTri(r[20]);
  c.tlsa_match = ReadTri(r[21]);
  c.details_json = Str(r[22]);
  return c;
}

Result<ChangeKind> ParseChangeKind(std::string_view s) {
  for (ChangeKind k : {ChangeKind::kFirstSeen, ChangeKind::kNewCertificate,
                       ChangeKind::kIssuerChanged}) {
    if (ChangeKindName(k) == s) {
      return k;
    }
  }
  return Err("unknown change kind {}", s);
}

class SqlInventory final : public Inventory {
 public:
  explicit SqlInventory(std::unique_ptr<Db> db) : db_(std::move(db)) {}

  std::string_view Backend() const override {
    return db_->dialect() == Dialect::kSqlite ? "sqlite" : "postgresql";
  }

  Result<int> SchemaVersion() override {
    std::lock_guard lock(mu_);
    return CurrentSchemaVersion(*db_);
  }

  Result<Endpoint> AddEndpoint(const Endpoint& endpoint, bool* out_created) override {
    if (out_created != nullptr) {
      *out_created = false;
    }
    if (endpoint.host.empty() || endpoint.host.size() > kMaxHostLen || endpoint.port == 0) {
      return ErrCode(ErrorCode::kUsage, "endpoint needs a host (1..253 chars) and a port");
    }
    std::string host = AsciiLower(endpoint.host);
    std::lock_guard lock(mu_);
    // ON CONFLICT keeps enrolment idempotent even when two hosts of a fleet
    // enrol the same endpoint at once.
    BH_ASSIGN(auto ins, db_->Query(fmt::format("INSERT INTO endpoints (host, port, sni, starttls, "
                                               "created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
                                               "(host, port) DO NOTHING RETURNING {}",
                                               kEndpointColumns),
                                   {Text(host), Int(endpoint.port), Text(endpoint.sni),
                                    Text(endpoint.starttls),
                                    Int(endpoint.created_at != 0 ? endpoint.created_at : Now())}));
    if (!ins.empty()) {
      if (out_created != nullptr) {
        *out_created = true;
      }
      return EndpointFromRow(ins[0]);
    }
    return FindLocked(host, endpoint.port);
  }

  Result<Endpoint> FindEndpoint(std::string_view host, uint16_t port) override {
    std::lock_guard lock(mu_);
    return FindLocked(AsciiLower(host), port);
  }

  Status RemoveEndpoint(int64_t id) override {
    std::lock_guard lock(mu_);
    BH_ASSIGN(auto rows, db_->Query("DELETE FROM endpoints WHERE id = $1 RETURNING id", {Int(id)}));
    if (rows.empty()) {
      return ErrCode(ErrorCode::kNotFound, "no endpoint with id {}", id);
    }
    return OkStatus();
  }

  Result<std::vector<Endpoint>> ListEndpoints() override {
    std::lock_guard lock(mu_);
    BH_ASSIGN(auto rows,
              db_->Query(fmt::format("SELECT {} FROM endpoints ORDER BY host, port", kEndpointColumns),
                         {}));
    std::vector<Endpoint> out;
    for (const Row& r : rows) {
      out.push_back(EndpointFromRow(r));
    }
    return out;
  }

  Result<int64_t> RecordCheck(const CheckRecord& c) override {
    if (c.endpoint_id <= 0 || c.address.empty() || c.checked_at <= 0) {
      return ErrCode(ErrorCode::kUsage, "a check needs an endpoint, an address and a time");
    }
    std::lock_guard lock(mu_);
    Transaction tx(*db_);
    BH_TRY(tx.Begin());
    BH_ASSIGN(auto ep, db_->Query("SELECT id FROM endpoints WHERE id = $1", {Int(c.endpoint_id)}));
    if (ep.empty()) {
      return ErrCode(ErrorCode::kNotFound, "no endpoint with id {}", c.endpoint_id);
    }
    BH_ASSIGN(auto prev, db_->Query("SELECT sha256_fingerprint, issuer FROM checks WHERE "
                                    "endpoint_id = $1 AND address = $2 AND sha256_fingerprint <> '' "
                                    "ORDER BY id DESC LIMIT 1",
                                    {Int(c.endpoint_id), Text(c.address)}));
    BH_ASSIGN(
        auto ins,
        db_->Query(
            "INSERT INTO checks (endpoint_id, address, checked_at, state, error, tls_version, "
            "cipher, subject, issuer, serial_hex, sans, not_before, not_after, sha256_fingerprint, "
            "key_type, key_bits, signature_algorithm, chain_valid, hostname_match, managed_match, "
            "tlsa_match, details_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
            "$13, $14, $15, $16, $17, $18, $19, $20, $21, $22) RETURNING id",
            {Int(c.endpoint_id), Text(c.address), Int(c.checked_at),
             Text(CheckStateName(c.state)), Text(c.error), Text(c.tls_version), Text(c.cipher),
             Text(c.subject), Text(c.issuer), Text(AsciiLower(c.serial_hex)), Text(JoinLines(c.sans)),
             Int(c.not_before), Int(c.not_after), Text(AsciiLower(c.sha256_fingerprint)),
             Text(c.key_type), Int(c.key_bits), Text(c.signature_algorithm), Tri(c.chain_valid),
             Tri(c.hostname_match), Tri(c.managed_match), Tri(c.tlsa_match),
             Text(c.details_json)}));
    if (ins.empty()) {
      return Err("inserting a check returned no id");
    }
    int64_t id = ParseInt64(ins[0][0]);
    std::string fp = AsciiLower(c.sha256_fingerprint);
    if (!fp.empty()) {
      if (prev.empty()) {
        BH_TRY(AddChange(c, id, ChangeKind::kFirstSeen, "", fp));
      } else {
        std::string old_fp = Str(prev[0][0]);
        std::string old_issuer = Str(prev[0][1]);
        if (old_fp != fp) {
          BH_TRY(AddChange(c, id, ChangeKind::kNewCertificate, old_fp, fp));
        }
        if (old_issuer != c.issuer) {
          BH_TRY(AddChange(c, id, ChangeKind::kIssuerChanged, old_issuer, c.issuer));
        }
      }
    }
    BH_TRY(tx.Commit());
    return id;
  }

  Result<std::vector<CheckRecord>> LatestChecks() override {
    std::lock_guard lock(mu_);
    BH_ASSIGN(auto rows,
              db_->Query(fmt::format("SELECT {} FROM checks c JOIN (SELECT MAX(id) AS id FROM checks "
                                     "GROUP BY endpoint_id, address) m ON c.id = m.id "
                                     "ORDER BY c.endpoint_id, c.address",
                                     kCheckColumns),
                         {}));
    std::vector<CheckRecord> out;
    for (const Row& r : rows) {
      out.push_back(CheckFromRow(r));
    }
    return out;
  }

  Result<std::vector<CheckRecord>> History(int64_t endpoint_id, int limit) override {
    std::lock_guard lock(mu_);
    BH_ASSIGN(auto rows, db_->Query(fmt::format("SELECT {} FROM checks c WHERE c.endpoint_id = $1 "
                                                "ORDER BY c.id DESC LIMIT $2",
                                                kCheckColumns),
                                    {Int(endpoint_id), Int(std::max(limit, 0))}));
    std::vector<CheckRecord> out;
    for (const Row& r : rows) {
      out.push_back(CheckFromRow(r));
    }
    return out;
  }

  Result<std::vector<Change>> Changes(int64_t endpoint_id, int limit) override {
    std::lock_guard lock(mu_);
    BH_ASSIGN(auto rows,
              db_->Query("SELECT id, endpoint_id, check_id, address, changed_at, kind, old_value, "
                         "new_value FROM cert_changes WHERE ($1 = 0 OR endpoint_id = $1) "
                         "ORDER BY id DESC LIMIT $2",
                         {Int(endpoint_id), Int(std::max(limit, 0))}));
    std::vector<Change> out;
    for (const Row& r : rows) {
      Change ch;
      ch.id = ParseInt64(r[0]);
      ch.endpoint_id = ParseInt64(r[1]);
      ch.check_id = ParseInt64(r[2]);
      ch.address = Str(r[3]);
      ch.changed_at = ParseInt64(r[4]);
      BH_ASSIGN(ch.kind, ParseChangeKind(Str(r[5])));
      ch.old_value = Str(r[6]);
      ch.new_value = Str(r[7]);
      out.push_back(std::move(ch));
    }
    return out;
  }

  Result<Domain> AddDomain(std::string_view name, bool* out_created) override {
    if (out_created != nullptr) {
      *out_created = false;
    }
    if (name.empty() || name.size() > kMaxHostLen) {
      return ErrCode(ErrorCode::kUsage, "a domain needs 1..253 characters");
    }
    std::string lower = AsciiLower(name);
    std::lock_guard lock(mu_);
    BH_ASSIGN(auto ins, db_->Query("INSERT INTO domains (name, created_at) VALUES ($1, $2) "
                                   "ON CONFLICT (name) DO NOTHING RETURNING id, name, created_at",
                                   {Text(lower), Int(Now())}));
    if (ins.empty()) {
      BH_ASSIGN(ins, db_->Query("SELECT id, name, created_at FROM domains WHERE name = $1",
                                {Text(lower)}));
      if (ins.empty()) {
        return Err("domain {} vanished while being added", lower);
      }
    } else if (out_created != nullptr) {
      *out_created = true;
    }
    return Domain{ParseInt64(ins[0][0]), Str(ins[0][1]), ParseInt64(ins[0][2])};
  }

  Status RemoveDomain(std::string_view name) override {
    std::lock_guard lock(mu_);
    BH_ASSIGN(auto rows, db_->Query("DELETE FROM domains WHERE name = $1 RETURNING id",
                                    {Text(AsciiLower(name))}));
    if (rows.empty()) {
      return ErrCode(ErrorCode::kNotFound, "domain {} is not followed", name);
    }
    return OkStatus();
  }

  Result<std::vector<Domain>> ListDomains() override {
    std::lock_guard lock(mu_);
    BH_ASSIGN(auto rows, db_->Query("SELECT id, name, created_at FROM domains ORDER BY name", {}));
    std::vector<Domain> out;
    for (const Row& r : rows) {
      out.push_back(Domain{ParseInt64(r[0]), Str(r[1]), ParseInt64(r[2])});
    }
    return out;
  }

 private:
  Result<Endpoint> FindLocked(const std::string& host, uint16_t port) {
    BH_ASSIGN(auto rows, db_->Query(fmt::format("SELECT {} FROM endpoints WHERE host = $1 AND "
                                                "port = $2",
                                                kEndpointColumns),
                                    {Text(host), Int(port)}));
    if (rows.empty()) {
      return ErrCode(ErrorCode::kNotFound, "no endpoint {}", EndpointKey(host, port));
    }
    return EndpointFromRow(rows[0]);
  }

  Status AddChange(const CheckRecord& c, int64_t check_id, ChangeKind kind,
                   const std::string& old_value, const std::string& new_value) {
    BH_TRY(db_->Query("INSERT INTO cert_changes (endpoint_id, check_id, address, changed_at, kind, "
                      "old_value, new_value) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                      {Int(c.endpoint_id), Int(check_id), Text(c.address), Int(c.checked_at),
                       Text(ChangeKindName(kind)), Text(old_value), Text(new_value)}));
    return OkStatus();
  }

  std::mutex mu_;
  std::unique_ptr<Db> db_;
};

}  // namespace

std::string EndpointKey(std::string_view host, uint16_t port) {
  if (host.find(':') != std::string_view::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

Result<Endpoint> ParseEndpointKey(std::string_view key, uint16_t default_port) {
  Endpoint e;
  e.port = default_port;
  std::string_view port_text;
  if (!key.empty() && key.front() == '[') {
    size_t close = key.find(']');
    if (close == std::string_view::npos) {
      return ErrCode(ErrorCode::kUsage, "endpoint {}: missing ']'", key);
    }
    e.host = std::string(key.substr(1, close - 1));
    std::string_view rest = key.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return ErrCode(ErrorCode::kUsage, "endpoint {}: junk after ']'", key);
      }
      port_text = rest.substr(1);
      if (port_text.empty()) {
        return ErrCode(ErrorCode::kUsage, "endpoint {}: empty port", key);
      }
    }
  } else {
    size_t colon = key.find(':');
    if (colon != std::string_view::npos && key.find(':', colon + 1) != std::string_view::npos) {
      e.host = std::string(key);  // A bare IPv6 literal.
    } else if (colon != std::string_view::npos) {
      e.host = std::string(key.substr(0, colon));
      port_text = key.substr(colon + 1);
      if (port_text.empty()) {
        return ErrCode(ErrorCode::kUsage, "endpoint {}: empty port", key);
      }
    } else {
      e.host = std::string(key);
    }
  }
  if (e.host.empty() || e.host.size() > kMaxHostLen) {
    return ErrCode(ErrorCode::kUsage, "endpoint {}: bad host", key);
  }
  for (char ch : e.host) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (!(std::isalnum(u) || ch == '.' || ch == '-' || ch == '_' || ch == ':' || ch == '*')) {
      return ErrCode(ErrorCode::kUsage, "endpoint {}: bad character in host", key);
    }
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return ErrCode(ErrorCode::kUsage, "endpoint {}: bad port", key);
    }
    e.port = static_cast<uint16_t>(port);
  }
  e.host = AsciiLower(e.host);
  return e;
}

std::string_view CheckStateName(CheckState state) {
  switch (state) {
    case CheckState::kOk:
      return "OK";
    case CheckState::kPlan:
      return "PLAN";
    case CheckState::kWarning:
      return "WARNING";
    case CheckState::kError:
      return "ERROR";
    case CheckState::kUnknown:
      break;
  }
  return "UNKNOWN";
}

Result<CheckState> ParseCheckState(std::string_view name) {
  for (CheckState s : {CheckState::kOk, CheckState::kPlan, CheckState::kWarning,
                       CheckState::kError, CheckState::kUnknown}) {
    if (CheckStateName(s) == name) {
      return s;
    }
  }
  return ErrCode(ErrorCode::kUsage, "unknown check state {}", name);
}

int StateUrgency(CheckState state) {
  switch (state) {
    case CheckState::kError:
      return 0;
    case CheckState::kWarning:
      return 1;
    case CheckState::kUnknown:
      return 2;
    case CheckState::kPlan:
      return 3;
    case CheckState::kOk:
      return 4;
  }
  return 2;
}

std::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kFirstSeen:
      return "first_seen";
    case ChangeKind::kNewCertificate:
      return "new_certificate";
    case ChangeKind::kIssuerChanged:
      return "issuer_changed";
  }
  return "unknown";
}

std::string DefaultInventorySpec(std::string_view state_dir) {
  return fmt::format("{}/inventory.sqlite", state_dir);
}

bool IsPostgresSpec(std::string_view spec) {
  return spec.starts_with("postgresql://") || spec.starts_with("postgres://");
}

bool MatchesName(std::string_view pattern, std::string_view name) {
  std::string p = AsciiLower(pattern);
  std::string n = AsciiLower(name);
  if (p == n) {
    return true;
  }
  if (p.starts_with("*.")) {
    size_t dot = n.find('.');
    return dot != std::string::npos && dot > 0 && n.substr(dot) == p.substr(1);
  }
  return false;
}

Result<std::unique_ptr<Inventory>> OpenInventory(std::string_view spec) {
  std::unique_ptr<Db> db;
  if (IsPostgresSpec(spec)) {
    BH_ASSIGN(db, OpenPostgresDb(std::string(spec)));
  } else {
    if (spec.empty()) {
      return ErrCode(ErrorCode::kUsage, "empty inventory path");
    }
    BH_ASSIGN(db, OpenSqliteDb(std::string(spec)));
  }
  BH_TRY(ApplyMigrations(*db, Migrations(), Now()));
  return std::unique_ptr<Inventory>(std::make_unique<SqlInventory>(std::move(db)));
}

}  // namespace bulkhead::inventory
