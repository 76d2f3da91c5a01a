// The inventory: which endpoints and domains we watch, and the history of
// every check of every address behind them. One interface, two backends
// (SQLite file by default, PostgreSQL for a fleet sharing one inventory),
// one schema and one numbered list of migrations (inventory/migrations.h).
//
// Contract for every implementation:
//  - Every method is safe to call from several threads; calls are
//    serialised internally. Several processes may share one inventory
//    (SQLite waits up to kBusyTimeoutMs for a lock; PostgreSQL is concurrent).
//  - Writes that touch several rows (RecordCheck and its derived changes,
//    RemoveEndpoint and its history) are atomic: all or nothing.
//  - "Not found" is always ErrorCode::kNotFound; a bad argument (empty host,
//    port 0, unknown state) is ErrorCode::kUsage; a database failure is
//    kFailure (kTransient when the PostgreSQL connection was lost).
//  - Times are Unix seconds. Ids are assigned by the inventory and never
//    reused while the row exists.
//  - Nothing here performs a check: the monitor engine probes, then calls
//    RecordCheck.
#ifndef BULKHEAD_INVENTORY_INVENTORY_H_
#define BULKHEAD_INVENTORY_INVENTORY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bulkhead::inventory {

// kBusyTimeoutMs bounds how long SQLite waits for another process's lock.
inline constexpr int kBusyTimeoutMs = 5000;
// kPgConnectTimeoutSeconds and kPgStatementTimeoutMs bound every PostgreSQL
// round trip, so a dead database server cannot hang a monitor run forever.
inline constexpr int kPgConnectTimeoutSeconds = 10;
inline constexpr int kPgStatementTimeoutMs = 15000;

// Endpoint is one TLS service to check, unique by (host, port).
struct Endpoint {
  int64_t id = 0;         // Assigned by AddEndpoint.
  std::string host;       // DNS name or IP literal (IPv6 without brackets).
  uint16_t port = 443;
  std::string sni;        // Server name to send; empty means `host`.
  std::string starttls;   // "", "smtp", "imap", "pop3", "ldap", "postgres".
  int64_t created_at = 0;
};

// EndpointKey renders "host:port", or "[v6]:port" for IPv6 literals.
std::string EndpointKey(std::string_view host, uint16_t port);

// ParseEndpointKey splits "host", "host:port", "[v6]" or "[v6]:port"
// (default port `default_port`); kUsage error on a malformed key.
Result<Endpoint> ParseEndpointKey(std::string_view key, uint16_t default_port = 443);

// CheckState is the overall verdict of one check (see the issue text: OK more
// than 28 days left, PLAN 2-28 days, WARNING under 48 hours, ERROR expired,
// invalid, mismatched or unreachable). kUnknown: never checked.
enum class CheckState { kOk, kPlan, kWarning, kError, kUnknown };

// CheckStateName returns "OK", "PLAN", "WARNING", "ERROR" or "UNKNOWN".
std::string_view CheckStateName(CheckState state);

// ParseCheckState is the inverse of CheckStateName (case-sensitive); kUsage
// error otherwise.
Result<CheckState> ParseCheckState(std::string_view name);

// StateUrgency orders states for display: ERROR (0) first, then WARNING,
// UNKNOWN, PLAN, OK.
int StateUrgency(CheckState state);

// CheckRecord is one check of one resolved address of an endpoint. Fields
// describing the leaf are empty / zero when no certificate was received
// (connection refused, timeout); an expired certificate still has its dates.
struct CheckRecord {
  int64_t id = 0;            // Assigned by RecordCheck.
  int64_t endpoint_id = 0;   // Must name an existing endpoint.
  std::string address;       // The IP address checked ("192.0.2.1", "::1").
  int64_t checked_at = 0;
  CheckState state = CheckState::kUnknown;
  std::string error;         // Why the state is ERROR; empty otherwise.
  std::string tls_version;   // "TLSv1.3".
  std::string cipher;
  std::string subject;       // Leaf subject, one line.
  std::string issuer;        // Leaf issuer, one line.
  std::string serial_hex;    // Lower-case hex.
  std::vector<std::string> sans;
  int64_t not_before = 0;
  int64_t not_after = 0;
  std::string sha256_fingerprint;  // Lower-case hex of the leaf DER's SHA-256.
  std::string key_type;      // "RSA", "EC", "Ed25519", ...
  int key_bits = 0;
  std::string signature_algorithm;
  // Tri-state results: nullopt when not determined (no certificate, no
  // managed certificate for the name, no TLSA records, not HTTPS...).
  std::optional<bool> chain_valid;
  std::optional<bool> hostname_match;
  std::optional<bool> managed_match;  // Leaf equals the one bulkhead manages.
  std::optional<bool> tlsa_match;
  std::string details_json;  // Free-form extra (HTTP headers...), a JSON
                             // object or empty; stored verbatim.
};

// ChangeKind is what RecordCheck noticed compared with the previous check of
// the same (endpoint, address) that received a certificate.
enum class ChangeKind {
  kFirstSeen,       // First certificate ever seen there.
  kNewCertificate,  // Different leaf fingerprint (renewal or replacement).
  kIssuerChanged,   // Different issuer (recorded besides kNewCertificate).
};

// ChangeKindName returns "first_seen", "new_certificate", "issuer_changed".
std::string_view ChangeKindName(ChangeKind kind);

// Change is one derived event, kept for the dashboard and the API.
struct Change {
  int64_t id = 0;
  int64_t endpoint_id = 0;
  int64_t check_id = 0;      // The check that noticed it.
  std::string address;
  int64_t changed_at = 0;    // checked_at of that check.
  ChangeKind kind = ChangeKind::kNewCertificate;
  std::string old_value;     // Fingerprint or issuer before (empty: none).
  std::string new_value;     // Fingerprint or issuer after.
};

// Domain is a name whose expiry we follow, whichever endpoint serves it.
struct Domain {
  int64_t id = 0;
  std::string name;  // Lower-case DNS name, may start with "*.".
  int64_t created_at = 0;
};

// Inventory is the storage interface; see the contract at the top.
class Inventory {
 public:
  virtual ~Inventory() = default;

  // Backend returns "sqlite" or "postgresql".
  virtual std::string_view Backend() const = 0;

  // SchemaVersion returns the highest applied migration, or an error.
  virtual Result<int> SchemaVersion() = 0;

  // AddEndpoint enrols `endpoint` (its id and created_at are ignored; a zero
  // created_at becomes now). Idempotent: if (host, port) already exists the
  // stored endpoint is returned unchanged and *out_created (if not null) is
  // false. Fails with kUsage on an empty host or port 0.
  virtual Result<Endpoint> AddEndpoint(const Endpoint& endpoint, bool* out_created) = 0;

  // FindEndpoint returns the endpoint at (host, port); kNotFound if none.
  virtual Result<Endpoint> FindEndpoint(std::string_view host, uint16_t port) = 0;

  // RemoveEndpoint deletes the endpoint with `id` together with its checks
  // and changes; kNotFound if there is none.
  virtual Status RemoveEndpoint(int64_t id) = 0;

  // ListEndpoints returns every endpoint ordered by host, then port.
  virtual Result<std::vector<Endpoint>> ListEndpoints() = 0;

  // RecordCheck stores `check` (its id is ignored) and, in the same
  // transaction, the changes it reveals against the previous check of the
  // same (endpoint, address) that had a certificate. Returns the new check's
  // id; kNotFound if the endpoint does not exist; kUsage if endpoint_id,
  // address or checked_at is missing.
  virtual Result<int64_t> RecordCheck(const CheckRecord& check) = 0;

  // LatestChecks returns the newest check of every (endpoint, address) ever
  // checked, ordered by endpoint id, then address.
  virtual Result<std::vector<CheckRecord>> LatestChecks() = 0;

  // History returns up to `limit` checks of endpoint `endpoint_id`, newest
  // first (an unknown endpoint simply has none).
  virtual Result<std::vector<CheckRecord>> History(int64_t endpoint_id, int limit) = 0;

  // Changes returns up to `limit` changes, newest first, for one endpoint or
  // for all when `endpoint_id` is 0.
  virtual Result<std::vector<Change>> Changes(int64_t endpoint_id, int limit) = 0;

  // AddDomain follows `name` (lower-cased; kUsage if empty or longer than
  // 253). Idempotent like AddEndpoint.
  virtual Result<Domain> AddDomain(std::string_view name, bool* out_created) = 0;

  // RemoveDomain stops following `name`; kNotFound if it was not followed.
  virtual Status RemoveDomain(std::string_view name) = 0;

  // ListDomains returns every domain ordered by name.
  virtual Result<std::vector<Domain>> ListDomains() = 0;
};

// DefaultInventorySpec returns <state_dir>/inventory.sqlite.
std::string DefaultInventorySpec(std::string_view state_dir);

// IsPostgresSpec reports whether `spec` is a PostgreSQL URI
// ("postgresql://..." or "postgres://...").
bool IsPostgresSpec(std::string_view spec);

// OpenInventory opens (creating if needed) the inventory named by `spec`: a
// PostgreSQL URI, or else a file path for SQLite (file created 0600; its
// directory must exist). Pending migrations are applied, each in its own
// transaction. Fails if the database cannot be opened, a migration fails, or
// its schema is newer than this program knows.
Result<std::unique_ptr<Inventory>> OpenInventory(std::string_view spec);

// MatchesName reports whether certificate name `pattern` (possibly
// "*.example.com") covers host `name`, case-insensitively, one label deep.
bool MatchesName(std::string_view pattern, std::string_view name);

}  // namespace bulkhead::inventory

#endif  // BULKHEAD_INVENTORY_INVENTORY_H_
