// dns-01 challenge publishers (RFC 8555 section 8.4): a TXT record
// "_acme-challenge.<name>" holding base64url(SHA-256(key authorization)),
// put in place by one of three record updaters (a drop directory, RFC 2136
// dynamic update with TSIG, an operator's hook program), and a propagation
// check that waits until every authoritative server serves it.
#ifndef BULKHEAD_CHALLENGE_DNS01_H_
#define BULKHEAD_CHALLENGE_DNS01_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "challenge/publisher.h"
#include "dns/query.h"
#include "util/fs.h"
#include "util/result.h"
#include "util/secret.h"

namespace bulkhead::challenge {

// kDefaultTxtTtl is the TTL of the records we create: short, so a stale
// value disappears from caches soon after the next attempt.
inline constexpr uint32_t kDefaultTxtTtl = 60;

// Dns01TxtValue returns base64url(SHA-256(key_authorization)), 43 chars.
std::string Dns01TxtValue(std::string_view key_authorization);

// ChallengeRecordName returns "_acme-challenge.<name>." (lower-case,
// absolute) for the identifier `name`, with a leading "*." removed. Returns
// an error for anything that is not an LDH DNS name (IP addresses cannot use
// dns-01).
Result<std::string> ChallengeRecordName(std::string_view name);

// IsSafeRecordName reports whether `name` is an absolute DNS name of LDH
// labels and underscores, at most 254 characters: safe as a file name part,
// a program argument and zone-file text.
bool IsSafeRecordName(std::string_view name);

// DropFileContent returns the one line a drop file holds:
// `<record_name> <ttl> IN TXT "<value>"` and a newline.
std::string DropFileContent(std::string_view record_name, uint32_t ttl, std::string_view value);

// TsigKey is a TSIG key for RFC 2136 updates.
struct TsigKey {
  std::string name;                      // Canonical, e.g. "acme-update.".
  std::string algorithm = "hmac-sha256";  // The only one accepted.
  Secret secret;                         // Base64 text, as in the key file.
};

// ParseTsigKey accepts either the BIND/Knot format that `tsig-keygen`,
// `keymgr -t` and `knotc` use:
//     key "acme-update" { algorithm hmac-sha256; secret "BASE64"; };
// (the first key block; `#` and `//` comments allowed), or one line
// `[hmac-sha256:]NAME:BASE64SECRET` (knsupdate -y style). Returns an error
// (never echoing the secret) for any other algorithm or malformed text.
Result<TsigKey> ParseTsigKey(std::string_view text);

// LoadTsigKey reads and parses a key file of at most 16 KiB.
Result<TsigKey> LoadTsigKey(const std::string& path);

// RecordUpdater adds and deletes one TXT record value at a name. Contract:
// `record_name` passed IsSafeRecordName and `value` is a 43-char base64url
// value; Add of a value already present and Delete of one absent are not
// errors; other values at the same name are left alone (an order for
// "example.org" and "*.example.org" needs two values at one name).
class RecordUpdater {
 public:
  virtual ~RecordUpdater() = default;
  virtual Status Add(const std::string& record_name, const std::string& value) = 0;
  virtual Status Delete(const std::string& record_name, const std::string& value) = 0;
  // Describe names the mechanism for messages ("drop directory /x").
  virtual std::string Describe() const = 0;
};

// NewDropUpdater writes one file per value into `dir` (which must exist),
// named "<record_name><value>" with the record name's trailing dot kept,
// e.g. "_acme-challenge.example.org.<value>", mode 0644, atomically (temp
// file + rename; temp names start with "."), holding DropFileContent.
// Delete removes it.
Result<std::unique_ptr<RecordUpdater>> NewDropUpdater(const std::string& dir, uint32_t ttl);

// NewRfc2136Updater sends RFC 2136 updates signed with `key` (TSIG
// hmac-sha256) to `server`. The zone of each record is found by asking
// `server` for its SOA (dns::FindZone). Add is "add RR", Delete is "delete
// this RR" (only our value). A response that is not NOERROR, or whose TSIG
// does not verify, is an error naming the server and the rcode.
Result<std::unique_ptr<RecordUpdater>> NewRfc2136Updater(const dns::Server& server, TsigKey key,
                                                         uint32_t ttl,
                                                         std::chrono::milliseconds timeout);

// HookRequestLine returns the line the challenge role sends to the hook
// runner: "add NAME VALUE\n" / "del NAME VALUE\n". ParseHookRequest checks a
// line (without the newline) strictly and splits it: the runner trusts no
// more than that.
std::string HookRequestLine(bool add, std::string_view record_name, std::string_view value);
Status ParseHookRequest(std::string_view line, bool* out_add, std::string* out_name,
                        std::string* out_value);

// RunHook runs `prog` (exec, no shell) with arguments `add|del NAME VALUE`
// (NAME without the trailing dot), stdin from /dev/null and stdout sent to
// our stderr, in its own process group, with the caller's environment plus
// BULKHEAD_DNS_ACTION, BULKHEAD_DNS_NAME, BULKHEAD_DNS_VALUE and
// BULKHEAD_DNS_TTL. The whole group is killed after `timeout`. Returns an
// error naming the program, and the exit status or signal, unless it exits 0.
Status RunHook(const std::string& prog, bool add, const std::string& record_name,
               const std::string& value, uint32_t ttl, std::chrono::milliseconds timeout);

// HookRunner is a process, forked before the challenge role enters its
// sandbox, that runs the hook program for it: the sandboxed role cannot
// exec, so it sends validated request lines over a socket and the runner,
// which accepts nothing else, runs the hook outside the sandbox.
class HookRunner {
 public:
  // Start forks the runner (call while single-threaded). Returns an error if
  // `prog` is not an executable file.
  static Result<HookRunner> Start(const std::string& prog, uint32_t ttl,
                                  std::chrono::milliseconds timeout);
  HookRunner(HookRunner&&) = default;
  HookRunner& operator=(HookRunner&&) = default;
  // The destructor closes the socket (the runner then exits) and reaps it.
  ~HookRunner();
  int fd() const { return fd_.get(); }
  // NewUpdater returns an updater that forwards to the runner; the runner
  // must outlive it.
  std::unique_ptr<RecordUpdater> NewUpdater(std::chrono::milliseconds timeout);

 private:
  HookRunner(ScopedFd fd, pid_t pid, std::string prog)
      : fd_(std::move(fd)), pid_(pid), prog_(std::move(prog)) {}
  ScopedFd fd_;
  pid_t pid_ = -1;
  std::string prog_;
};

// Dns01Options tunes the dns-01 publisher.
struct Dns01Options {
  // Ask only this server for CNAMEs and for propagation (--dns-resolver);
  // otherwise CNAMEs are followed through the system resolvers and every
  // authoritative server of the record's zone is polled.
  std::optional<dns::Server> resolver;
  std::string resolv_conf = "/etc/resolv.conf";
  // Bound on the propagation check (--dns-timeout).
  std::chrono::seconds timeout{300};
  // If non-zero (--dns-wait), WaitReady sleeps this long instead of
  // checking propagation.
  std::chrono::seconds fixed_wait{0};
  std::chrono::milliseconds poll_interval{500};
  dns::QueryOptions query;  // Per query.
  bool follow_cnames = true;
};

// NewDns01Publisher returns a Publisher answering "dns-01" through
// `updater`. Publish computes the record name from the challenge's
// identifier (following an `_acme-challenge` CNAME, so the record is written
// where it points) and the TXT value and adds it. WaitReady
// polls the servers (see Dns01Options) until each serves every value
// published at each name, failing after the timeout with a message naming
// the lagging server and what it serves. Remove deletes the token's value;
// the destructor deletes every value still published.
std::unique_ptr<Publisher> NewDns01Publisher(std::unique_ptr<RecordUpdater> updater,
                                             Dns01Options options);

}  // namespace bulkhead::challenge

#endif  // BULKHEAD_CHALLENGE_DNS01_H_
