// The zone compiler: turns the files that the dns-01 drop method leaves in a
// directory into zone data, accepting nothing but the one record shape the
// drop method writes. It runs as its own unprivileged step between the
// client (which may only write the drop directory) and the zone build, so
// a compromised client can publish challenge TXT records for allowed names
// and nothing else. See docs/DNS.md.
#ifndef BULKHEAD_DNS_ZONE_COMPILE_H_
#define BULKHEAD_DNS_ZONE_COMPILE_H_

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dns/sshfp.h"
#include "util/result.h"

namespace bulkhead::dns {

// kMaxDropFileBytes bounds one drop file. The longest legal line is about
// 340 bytes (a 253-character name, "_acme-challenge.", a TTL and 43
// characters of value), so anything much larger is not a drop file.
inline constexpr size_t kMaxDropFileBytes = 1024;

// kMaxDropFiles bounds the directory listing so that a flood of files cannot
// exhaust memory; past it the compiler gives up instead of guessing.
inline constexpr size_t kMaxDropFiles = 10000;

// DropRecord is one accepted challenge record.
struct DropRecord {
  std::string owner;  // "_acme-challenge.<name>.", lower case.
  uint32_t ttl = 0;
  std::string value;  // 43 base64url characters.

  bool operator==(const DropRecord&) const = default;
  auto operator<=>(const DropRecord&) const = default;
};

// DropRejection says why one directory entry was refused.
struct DropRejection {
  std::string file;    // Entry name, with control and non-ASCII bytes escaped.
  std::string reason;  // One line.
};

// DropPolicy is what a drop file may contain.
struct DropPolicy {
  std::set<std::string> owners;  // Allowed owner names, from ChallengeOwners.
  uint32_t min_ttl = 0;
  uint32_t max_ttl = 3600;
};

// ChallengeOwners maps --allow names to the owner names their challenges
// use: "example.test" and "*.example.test" both give
// "_acme-challenge.example.test.". Names are lower-cased; a trailing dot is
// accepted. Fails (kUsage) naming the first name that is not a valid host
// name.
Result<std::set<std::string>> ChallengeOwners(const std::vector<std::string>& allow);

// ParseDropFile checks the complete contents of one drop file against
// `policy`: exactly one line `<owner> <ttl> IN TXT "<value>"` (one trailing
// newline allowed), parsed with libldns, with no directives, comments,
// escapes, extra quotes or control characters, the owner in
// policy.owners, the TTL within bounds and the value 43 base64url
// characters. Fails with a one-line reason.
Result<DropRecord> ParseDropFile(std::string_view contents, const DropPolicy& policy);

// DropCompilation is the outcome of reading a drop directory.
struct DropCompilation {
  std::vector<DropRecord> records;        // Accepted, in directory order.
  std::vector<DropRejection> rejections;  // Sorted by file name.
  size_t skipped_hidden = 0;              // Names starting with '.', not read.
};

// CompileDropDir reads every entry of `dir` (read-only; nothing is ever
// created there). Entries whose name starts with '.' are skipped (writers
// use them for files in progress). Each other entry must be a regular file,
// not a symlink (opened with O_NOFOLLOW), of at most kMaxDropFileBytes, that
// ParseDropFile accepts; otherwise it becomes a rejection. Fails only if
// the directory cannot be read or has more than kMaxDropFiles entries.
Result<DropCompilation> CompileDropDir(const std::string& dir, const DropPolicy& policy);

// FormatDropRecords returns the zone text for `records`: sorted by owner
// and value, duplicates removed, one `<owner> <ttl> IN TXT "<value>"` line
// each. Records sharing an owner form one RRset and so must share a TTL
// (RFC 2181 section 5.2): the smallest of them is used for all.
std::string FormatDropRecords(std::vector<DropRecord> records);

// TlsaMapEntry is one line of a --tlsa-map file: `CERTFILE NAME PORT`.
struct TlsaMapEntry {
  std::string cert_file;
  std::string host;
  int port = 0;
};

// ParseTlsaMap parses a TLSA map: one entry per line, fields separated by
// whitespace; blank lines and lines starting with '#' are ignored. Fails
// (kUsage) naming the line number of the first malformed line.
Result<std::vector<TlsaMapEntry>> ParseTlsaMap(std::string_view text);

// TlsaMapRecords reads each mapped certificate (leaf first; a fullchain file
// is fine) or PEM public key (a pre-generated next key, see
// dane_rollover.h) and returns the sorted, de-duplicated 3 1 1 TLSA records
// for all of them, one line each, with `ttl`. A mapped directory is a
// bulkhead certificate directory: its live/cert.pem and, when present, its
// next/pubkey.pem (so the zone carries the current and the next key through
// every rollover without editing the map). Fails naming the first file
// that cannot be read or parsed.
Result<std::string> TlsaMapRecords(const std::vector<TlsaMapEntry>& entries, uint32_t ttl);

// AllowedHostOwners returns the names an SSHFP record may be published
// at: every --allow name given literally, lower-cased, with a final dot.
// A "*.NAME" entry adds nothing: it allows the wildcard certificate's
// challenge, not SSHFP records for every host under NAME. Fails (kUsage) as
// ChallengeOwners does.
Result<std::set<std::string>> AllowedHostOwners(const std::vector<std::string>& allow);

// SshfpMapEntry is one line of a --sshfp-map file: `KEYFILE NAME`.
struct SshfpMapEntry {
  size_t line = 0;       // Line number in the map, for messages.
  std::string key_file;  // An OpenSSH public key file.
  std::string owner;     // Lower case, with a final dot.
};

// ParseSshfpMap parses an SSHFP map: one entry per line, fields separated
// by whitespace; blank lines and lines starting with '#' are ignored. Fails
// (kUsage) naming the line number of the first malformed line or invalid
// host name.
Result<std::vector<SshfpMapEntry>> ParseSshfpMap(std::string_view text);

// SshfpMapRecords checks that every entry's owner is in `allowed` (from
// AllowedHostOwners) before it opens any key file, then reads each key file
// (without following a symlink at its last component, refusing a FIFO or
// anything but a regular file, at most kMaxSshKeyFileBytes) and parses it
// with ParseSshPublicKey. Returns the sorted, de-duplicated SSHFP records,
// one line per key and hash in `hashes`, with `ttl`. Fails (kUsage) naming
// the map line, the file and the owner when an owner is not allowed; fails
// naming the file and what is wrong with it (kNotFound when it is missing,
// else kFailure) when a key cannot be read or parsed. Nothing is returned
// on failure.
Result<std::string> SshfpMapRecords(const std::vector<SshfpMapEntry>& entries,
                                    const std::set<std::string>& allowed,
                                    const std::vector<SshfpHash>& hashes, uint32_t ttl);

// EscapeFileName renders a directory entry name for a one-line message:
// bytes outside printable ASCII and backslashes become \xNN.
std::string EscapeFileName(std::string_view name);

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_ZONE_COMPILE_H_
