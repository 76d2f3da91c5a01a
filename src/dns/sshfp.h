// SSHFP records (RFC 4255, RFC 6594, RFC 7479, RFC 8709): reading an
// OpenSSH public key file and computing the fingerprints a zone publishes
// for it. The key files are collected from the hosts, so they are parsed as
// hostile input: one line, one key, a bounded size, the key's wire form
// checked field by field and its type held against the text before it.
#ifndef BULKHEAD_DNS_SSHFP_H_
#define BULKHEAD_DNS_SSHFP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bulkhead::dns {

// kMaxSshKeyFileBytes bounds one public key file. An RSA key of 16384 bits
// (the largest ssh-keygen makes) with a long comment stays under 3 KiB.
inline constexpr size_t kMaxSshKeyFileBytes = 16 * 1024;

// kDefaultSshfpTtl is the TTL the zone compiler gives SSHFP records unless
// told otherwise: host keys change rarely, like the TLSA default.
inline constexpr uint32_t kDefaultSshfpTtl = 3600;

// SshfpAlgorithm is the SSHFP algorithm number (IANA "SSHFP RR Types for
// public key algorithms"). DSA (2) is missing on purpose: OpenSSH no longer
// offers ssh-dss host keys, so ParseSshPublicKey refuses them.
enum class SshfpAlgorithm : uint8_t {
  kRsa = 1,
  kEcdsa = 3,
  kEd25519 = 4,
  kEd448 = 6,
};

// SshfpHash is the SSHFP fingerprint type.
enum class SshfpHash : uint8_t {
  kSha1 = 1,
  kSha256 = 2,
};

// SshHostKey is one parsed public key.
struct SshHostKey {
  std::string key_type;  // "ssh-ed25519", "ecdsa-sha2-nistp256", ...
  SshfpAlgorithm algorithm = SshfpAlgorithm::kEd25519;
  std::string blob;  // The decoded key in SSH wire form: what is hashed.
};

// ParseSshPublicKey checks the complete contents of one OpenSSH public key
// file of at most kMaxSshKeyFileBytes: exactly one line `<keytype> <base64>
// [comment]` (one trailing newline allowed; fields separated by spaces or
// tabs; the comment is ignored), no control bytes, a key type of ssh-rsa,
// ecdsa-sha2-nistp256,
// -nistp384, -nistp521, ssh-ed25519 or ssh-ed448, strict padded base64
// (decoded by OpenSSL), and a blob whose own type string equals the text's
// and whose fields have the shape of that type with nothing left over.
// Fails with a one-line reason (without the file name, which the caller
// adds).
Result<SshHostKey> ParseSshPublicKey(std::string_view contents);

// SshfpFingerprint returns the raw digest of key.blob for `hash`. Fails only
// if OpenSSL's hashing fails.
Result<std::string> SshfpFingerprint(const SshHostKey& key, SshfpHash hash);

// ParseSshfpHashes maps a --sshfp-hash value to the fingerprint types to
// publish: "sha256", "sha1" or "both" (SHA-1 first, as type 1 sorts before
// type 2). Fails (kUsage) on anything else.
Result<std::vector<SshfpHash>> ParseSshfpHashes(std::string_view text);

// FormatSshfp returns one zone-file line, `<owner> <ttl> IN SSHFP <alg>
// <type> <hex>` with the fingerprint in lower-case hex (as ssh-keygen -r
// prints it), ending in a newline.
std::string FormatSshfp(std::string_view owner, uint32_t ttl, SshfpAlgorithm algorithm,
                        SshfpHash hash, std::string_view fingerprint);

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_SSHFP_H_
