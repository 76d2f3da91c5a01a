// SSHFP fingerprints. Base64 decoding and hashing are OpenSSL's; this file
// only checks the text around them and the SSH wire form of the key
// (RFC 4253 section 6.6, RFC 5656 section 3.1, RFC 8709 section 4).
#include "dns/sshfp.h"

#include <openssl/evp.h>

#include <array>

#include "crypto/ossl.h"
#include "util/text.h"

namespace bulkhead::dns {
namespace {

// KeyShape is what the blob of one key type holds after its type string.
enum class KeyShape { kRsa, kEcdsa, kEd25519, kEd448 };

struct KeyTypeInfo {
  std::string_view name;
  SshfpAlgorithm algorithm;
  KeyShape shape;
  std::string_view curve;  // ECDSA: the curve identifier the blob repeats.
  size_t point_len;        // ECDSA: uncompressed point; EdDSA: public key.
};

constexpr std::array<KeyTypeInfo, 6> kKeyTypes = {{
    {"ssh-rsa", SshfpAlgorithm::kRsa, KeyShape::kRsa, "", 0},
    {"ecdsa-sha2-nistp256", SshfpAlgorithm::kEcdsa, KeyShape::kEcdsa, "nistp256", 65},
    {"ecdsa-sha2-nistp384", SshfpAlgorithm::kEcdsa, KeyShape::kEcdsa, "nistp384", 97},
    {"ecdsa-sha2-nistp521", SshfpAlgorithm::kEcdsa, KeyShape::kEcdsa, "nistp521", 133},
    {"ssh-ed25519", SshfpAlgorithm::kEd25519, KeyShape::kEd25519, "", 32},
    {"ssh-ed448", SshfpAlgorithm::kEd448, KeyShape::kEd448, "", 57},
}};

// WireReader reads RFC 4251 `string` fields from a key blob.
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  // String returns the next length-prefixed field, or fails if the length
  // runs past the end of the blob.
  Result<std::string_view> String(std::string_view what) {
    if (data_.size() < 4) {
      return Err("key data ends before its {}", what);
    }
    size_t len = 0;
    for (int i = 0; i < 4; ++i) {
      len = (len << 8) | static_cast<unsigned char>(data_[i]);
    }
    data_.remove_prefix(4);
    if (len > data_.size()) {
      return Err("key data is truncated in its {}", what);
    }
    std::string_view out = data_.substr(0, len);
    data_.remove_prefix(len);
    return out;
  }

  // Mpint returns the next field, which must be a positive RFC 4251 mpint.
  Result<std::string_view> Mpint(std::string_view what) {
    BH_ASSIGN(std::string_view value, String(what));
    if (value.empty() || (static_cast<unsigned char>(value[0]) & 0x80) != 0) {
      return Err("key data has an empty or negative {}", what);
    }
    return value;
  }

  bool AtEnd() const { return data_.empty(); }

 private:
  std::string_view data_;
};

// CheckBlob holds the decoded blob against the type named in the text.
Status CheckBlob(std::string_view blob, const KeyTypeInfo& type) {
  WireReader reader(blob);
  BH_ASSIGN(std::string_view blob_type, reader.String("key type"));
  if (blob_type != type.name) {
    return Err("the key data is of type '{}', the text says '{}'", PrintableExcerpt(blob_type, 40),
               type.name);
  }
  switch (type.shape) {
    case KeyShape::kRsa: {
      BH_TRY(reader.Mpint("RSA exponent"));
      BH_TRY(reader.Mpint("RSA modulus"));
      break;
    }
    case KeyShape::kEcdsa: {
      BH_ASSIGN(std::string_view curve, reader.String("curve name"));
      if (curve != type.curve) {
        return Err("the key data names curve '{}', the key type needs '{}'",
                   PrintableExcerpt(curve, 40), type.curve);
      }
      BH_ASSIGN(std::string_view point, reader.String("public point"));
      if (point.size() != type.point_len || point[0] != '\x04') {
        return Err("the public point is not an uncompressed {} point", type.curve);
      }
      break;
    }
    case KeyShape::kEd25519:
    case KeyShape::kEd448: {
      BH_ASSIGN(std::string_view key, reader.String("public key"));
      if (key.size() != type.point_len) {
        return Err("the public key is {} bytes, {} needs {}", key.size(), type.name,
                   type.point_len);
      }
      break;
    }
  }
  if (!reader.AtEnd()) {
    return Err("the key data has bytes after the key");
  }
  return OkStatus();
}

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// DecodeBase64 decodes padded standard base64 (RFC 4648 section 4). The text
// is checked first because EVP_DecodeBlock skips whitespace and does not
// report padding: only complete, canonical groups reach it.
Result<std::string> DecodeBase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) {
    return Err("the key data is not base64: its length {} is not a multiple of 4", text.size());
  }
  size_t padding = 0;
  if (text.ends_with("==")) {
    padding = 2;
  } else if (text.ends_with('=')) {
    padding = 1;
  }
  for (size_t i = 0; i + padding < text.size(); ++i) {
    if (!IsBase64Char(text[i])) {
      return Err("the key data is not base64: byte {:#04x} at offset {}",
                 static_cast<unsigned char>(text[i]), i);
    }
  }
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0 || static_cast<size_t>(n) != out.size()) {
    return Err("the key data is not base64 (OpenSSL refused it)");
  }
  out.resize(out.size() - padding);
  return out;
}

// SplitKeyLine splits at runs of spaces and tabs into the key type, the
// base64 text and whatever follows (the comment, ignored).
std::vector<std::string_view> SplitKeyLine(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (out.size() < 2) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    if (i == line.size()) {
      break;
    }
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

Result<SshHostKey> ParseSshPublicKey(std::string_view contents) {
  if (contents.empty()) {
    return Err("empty file");
  }
  // The reader caps the file already; this keeps the int lengths OpenSSL
  // takes in range whoever calls.
  if (contents.size() > kMaxSshKeyFileBytes) {
    return Err("{} bytes, more than the limit of {}", contents.size(), kMaxSshKeyFileBytes);
  }
  if (contents.starts_with("-----BEGIN")) {
    // Most likely the private key next to the .pub file: say so rather
    // than report its second line.
    return Err("a PEM file (a private key?), not an OpenSSH public key");
  }
  std::string_view line = contents;
  if (line.back() == '\n') {
    line.remove_suffix(1);
  }
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c == '\n') {
      return Err("more than one line: a key file holds exactly one key");
    }
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return Err("control byte {:#04x} at offset {}", c, i);
    }
  }
  std::vector<std::string_view> fields = SplitKeyLine(line);
  if (fields.size() != 2 || line.front() == ' ' || line.front() == '\t') {
    return Err("not of the form '<keytype> <base64> [comment]'");
  }
  const KeyTypeInfo* type = nullptr;
  for (const KeyTypeInfo& t : kKeyTypes) {
    if (fields[0] == t.name) {
      type = &t;
    }
  }
  if (type == nullptr) {
    if (fields[0] == "ssh-dss") {
      return Err("ssh-dss (DSA) keys are not supported; OpenSSH no longer offers them");
    }
    return Err(
        "key type '{}' is not supported (ssh-rsa, ecdsa-sha2-nistp256/384/521, "
        "ssh-ed25519, ssh-ed448)",
        PrintableExcerpt(fields[0], 40));
  }
  BH_ASSIGN(std::string blob, DecodeBase64(fields[1]));
  BH_TRY(CheckBlob(blob, *type));
  return SshHostKey{std::string(type->name), type->algorithm, std::move(blob)};
}

Result<std::string> SshfpFingerprint(const SshHostKey& key, SshfpHash hash) {
  const EVP_MD* md = hash == SshfpHash::kSha1 ? EVP_sha1() : EVP_sha256();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (EVP_Digest(key.blob.data(), key.blob.size(), out, &out_len, md, nullptr) != 1) {
    return crypto::OsslErr("hashing an SSH host key");
  }
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

Result<std::vector<SshfpHash>> ParseSshfpHashes(std::string_view text) {
  if (text == "sha256") {
    return std::vector<SshfpHash>{SshfpHash::kSha256};
  }
  if (text == "sha1") {
    return std::vector<SshfpHash>{SshfpHash::kSha1};
  }
  if (text == "both") {
    return std::vector<SshfpHash>{SshfpHash::kSha1, SshfpHash::kSha256};
  }
  return ErrCode(ErrorCode::kUsage, "--sshfp-hash '{}' is not sha256, sha1 or both",
                 PrintableExcerpt(text, 40));
}

std::string FormatSshfp(std::string_view owner, uint32_t ttl, SshfpAlgorithm algorithm,
                        SshfpHash hash, std::string_view fingerprint) {
  return fmt::format("{} {} IN SSHFP {} {} {}\n", owner, ttl, static_cast<int>(algorithm),
                     static_cast<int>(hash), HexEncode(fingerprint));
}

}  // namespace bulkhead::dns
