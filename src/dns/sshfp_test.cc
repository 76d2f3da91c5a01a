#include "dns/sshfp.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <string>

#include "util/text.h"

namespace bulkhead::dns {
namespace {

// Keys made with ssh-keygen; the fingerprints are what `ssh-keygen -r`
// printed for them.
constexpr char kRsa[] =
    "ssh-rsa "
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQCzYX9Lm7ZNIw0Wdkrd96MzEX0R68kHnNOZzg9yS2SqnBC8lJZKkgKHazALxn5H5+"
    "v7f7DvnsYlQAW0KSp5leI4O/wVrwZqChuzzsmXsUq0zm2vjCXgd1c8dN2SQLafdCzJojJozhRt4p4o09oC5+yNW0f3RBwj"
    "ZImqDpYTe4aQOQ== root@host one\n";
constexpr char kEcdsa256[] =
    "ecdsa-sha2-nistp256 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGruD4MZgWXnUyvU6iMBOcveLBIEsVcBZZUav2JrTk"
    "vC2BpXvk1dj2YVi1zudn9idzyhhslFXuF/XHdFHhgYzt0= root@h\n";
// ssh-keygen -C '' leaves a trailing space.
constexpr char kEcdsa384[] =
    "ecdsa-sha2-nistp384 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBCpnHdjP8agz7zxjAU/7QPp78DP9znEkotXqBhHg6t"
    "TCzBmvVJ9eRwR7eFGSSY4EWWvUdIP/DKRZuZhbX6fr2qVjHLJA4SlYiywtbPra8mJei31c0hHS73uMJfcSE6MiBA== \n";
constexpr char kEd25519[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKelLVKa3i2WsniHTob8HqZDz88N5/EEjxmMVExFXakZ root@h\n";
constexpr char kEd25519Base64[] =
    "AAAAC3NzaC1lZDI1NTE5AAAAIKelLVKa3i2WsniHTob8HqZDz88N5/EEjxmMVExFXakZ";

// Wire returns an RFC 4251 string field.
std::string Wire(std::string_view s) {
  std::string out;
  uint32_t n = static_cast<uint32_t>(s.size());
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  return out + std::string(s);
}

std::string Base64(std::string_view blob) {
  std::string out(4 * ((blob.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(blob.data()),
                          static_cast<int>(blob.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// KeyLine returns a key file line for `type` with `blob`.
std::string KeyLine(std::string_view type, std::string_view blob) {
  return fmt::format("{} {} comment\n", type, Base64(blob));
}

std::string Ed25519Blob() { return Wire("ssh-ed25519") + Wire(std::string(32, '\x07')); }

// Rejects returns the reason ParseSshPublicKey gives, or "" if it accepts.
std::string Rejects(std::string_view contents) {
  auto r = ParseSshPublicKey(contents);
  return r.ok() ? "" : r.error().message;
}

std::string Hex(const SshHostKey& key, SshfpHash hash) {
  auto fp = SshfpFingerprint(key, hash);
  EXPECT_TRUE(fp.ok());
  return fp.ok() ? HexEncode(*fp) : "";
}

TEST(ParseSshPublicKeyTest, FingerprintsMatchSshKeygen) {
  struct Case {
    const char* file;
    SshfpAlgorithm algorithm;
    const char* sha1;
    const char* sha256;
  };
  const Case cases[] = {
      {kRsa, SshfpAlgorithm::kRsa, "eeaecf1cdb424e5b9aeb4580636fb677658f2e45",
       "c2d57ad3bc424cbcc8393f750e01f17b4916a181d39aadcf7c81598079042e9a"},
      {kEcdsa256, SshfpAlgorithm::kEcdsa, "c373293afae12873b6ee27c73039965e91335dd6",
       "94bd991ef74fefb562c2a78d5427db22b36be7a85cb5ec61ca3fec213a4539fd"},
      {kEcdsa384, SshfpAlgorithm::kEcdsa, "5165a73e1c06e73d217c89afd8ccb98aa978aaea",
       "68806b1ae1a8108c167321cefacad79d8d9d427e1512bdaf756b35066883f232"},
      {kEd25519, SshfpAlgorithm::kEd25519, "c6c8be5577661c26b69f3d8a62f80268688eeb13",
       "faf271ee42fddbfa03631d3202e85f9785648094e4694b2fb03d1d15d43e4983"},
  };
  for (const Case& c : cases) {
    auto key = ParseSshPublicKey(c.file);
    ASSERT_TRUE(key.ok()) << c.file << ": " << key.error().message;
    EXPECT_EQ(key->algorithm, c.algorithm) << c.file;
    EXPECT_EQ(Hex(*key, SshfpHash::kSha1), c.sha1) << c.file;
    EXPECT_EQ(Hex(*key, SshfpHash::kSha256), c.sha256) << c.file;
  }
}

TEST(ParseSshPublicKeyTest, Ed448AndNistP521) {
  // OpenSSH makes no Ed448 keys; the blob follows RFC 8709 section 4.
  std::string ed448 = Wire("ssh-ed448") + Wire(std::string(57, '\x01'));
  auto key = ParseSshPublicKey(KeyLine("ssh-ed448", ed448));
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->algorithm, SshfpAlgorithm::kEd448);
  EXPECT_EQ(key->blob, ed448);
  std::string p521 =
      Wire("ecdsa-sha2-nistp521") + Wire("nistp521") + Wire("\x04" + std::string(132, '\x02'));
  auto ec = ParseSshPublicKey(KeyLine("ecdsa-sha2-nistp521", p521));
  ASSERT_TRUE(ec.ok()) << ec.error().message;
  EXPECT_EQ(ec->algorithm, SshfpAlgorithm::kEcdsa);
}

TEST(ParseSshPublicKeyTest, CommentHandling) {
  std::string b64 = kEd25519Base64;
  EXPECT_EQ(Rejects("ssh-ed25519 " + b64), "");                       // No comment, no newline.
  EXPECT_EQ(Rejects("ssh-ed25519 " + b64 + "\n"), "");                // No comment.
  EXPECT_EQ(Rejects("ssh-ed25519\t" + b64 + "\ta b  c\n"), "");       // Tabs, spaces in it.
  EXPECT_EQ(Rejects("ssh-ed25519 " + b64 + " r\xc3\xa9mi@h\n"), "");  // UTF-8 comment.
  EXPECT_EQ(Rejects("ssh-ed25519 " + b64 + " # not special\n"), "");
  EXPECT_NE(Rejects("ssh-ed25519 " + b64 + " root@h\r\n").find("control byte 0x0d"),
            std::string::npos);
  EXPECT_NE(Rejects("ssh-ed25519 " + b64 + " a\x1b[2Jb\n").find("control byte 0x1b"),
            std::string::npos);
  EXPECT_NE(Rejects("ssh-ed25519 " + b64 + std::string(" a\0b\n", 5)).find("control byte 0x00"),
            std::string::npos);
}

TEST(ParseSshPublicKeyTest, OneLineOneKey) {
  EXPECT_EQ(Rejects(""), "empty file");
  EXPECT_NE(
      Rejects(std::string(kEd25519).insert(20, kMaxSshKeyFileBytes, ' ')).find("limit of 16384"),
      std::string::npos);
  EXPECT_NE(Rejects(std::string(kEd25519) + kEcdsa256).find("more than one line"),
            std::string::npos);
  EXPECT_NE(Rejects(std::string(kEd25519) + "\n").find("more than one line"), std::string::npos);
  EXPECT_NE(Rejects("\n").find("not of the form"), std::string::npos);
  EXPECT_NE(Rejects("ssh-ed25519\n").find("not of the form"), std::string::npos);
  EXPECT_NE(Rejects(std::string(" ") + kEd25519).find("not of the form"), std::string::npos);
  // authorized_keys options are not a host key file.
  EXPECT_NE(Rejects(std::string("from=\"*\" ") + kEd25519).find("not supported"),
            std::string::npos);
  EXPECT_NE(Rejects("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE "
                    "KEY-----\n")
                .find("private key"),
            std::string::npos);
}

TEST(ParseSshPublicKeyTest, KeyTypes) {
  EXPECT_NE(Rejects(KeyLine("ssh-dss", Wire("ssh-dss") + Wire("x"))).find("ssh-dss (DSA)"),
            std::string::npos);
  EXPECT_NE(
      Rejects(KeyLine("ssh-ed25519-cert-v01@openssh.com", Ed25519Blob())).find("is not supported"),
      std::string::npos);
  EXPECT_NE(Rejects(KeyLine("sk-ssh-ed25519@openssh.com", Ed25519Blob())).find("not supported"),
            std::string::npos);
  EXPECT_NE(Rejects(KeyLine("SSH-ED25519", Ed25519Blob())).find("not supported"),
            std::string::npos);
  // A hostile type name is cut and rendered printable.
  std::string reason = Rejects(KeyLine(std::string(500, 'x'), Ed25519Blob()));
  EXPECT_LT(reason.size(), 200u) << reason;
}

TEST(ParseSshPublicKeyTest, TypeInBlobMustMatchText) {
  // The text says Ed25519, the data is an RSA key, and the other way round.
  std::string rsa_line = kRsa;
  std::string rsa_b64 = rsa_line.substr(8, rsa_line.find(' ', 8) - 8);
  EXPECT_NE(Rejects("ssh-ed25519 " + rsa_b64 + "\n").find("of type 'ssh-rsa', the text says"),
            std::string::npos)
      << Rejects("ssh-ed25519 " + rsa_b64 + "\n");
  EXPECT_NE(Rejects(KeyLine("ssh-rsa", Ed25519Blob())).find("of type 'ssh-ed25519'"),
            std::string::npos);
  // Same family, other curve: the name and the curve inside must agree.
  std::string p384 =
      Wire("ecdsa-sha2-nistp384") + Wire("nistp384") + Wire("\x04" + std::string(96, '\x02'));
  EXPECT_NE(Rejects(KeyLine("ecdsa-sha2-nistp256", p384)).find("of type 'ecdsa-sha2-nistp384'"),
            std::string::npos);
  std::string wrong_curve =
      Wire("ecdsa-sha2-nistp256") + Wire("nistp384") + Wire("\x04" + std::string(64, '\x02'));
  EXPECT_NE(Rejects(KeyLine("ecdsa-sha2-nistp256", wrong_curve)).find("names curve 'nistp384'"),
            std::string::npos);
}

TEST(ParseSshPublicKeyTest, BlobShape) {
  auto rejects_blob = [](std::string_view type, const std::string& blob) {
    return Rejects(KeyLine(type, blob));
  };
  EXPECT_NE(rejects_blob("ssh-ed25519", Ed25519Blob() + "x").find("bytes after the key"),
            std::string::npos);
  EXPECT_NE(rejects_blob("ssh-ed25519", Ed25519Blob().substr(0, 30)).find("truncated"),
            std::string::npos);
  EXPECT_NE(rejects_blob("ssh-ed25519", std::string("\x00\x00", 2)).find("ends before"),
            std::string::npos);
  EXPECT_NE(rejects_blob("ssh-ed25519", "\xff\xff\xff\xffssh-ed25519").find("truncated"),
            std::string::npos);
  EXPECT_NE(rejects_blob("ssh-ed25519", Wire("ssh-ed25519") + Wire(std::string(31, 'k')))
                .find("is 31 bytes"),
            std::string::npos);
  EXPECT_NE(rejects_blob("ssh-rsa", Wire("ssh-rsa") + Wire(std::string_view("\x01\x00\x01", 3)))
                .find("RSA modulus"),
            std::string::npos);
  EXPECT_NE(rejects_blob("ssh-rsa", Wire("ssh-rsa") + Wire(std::string_view("\x01\x00\x01", 3)) +
                                        Wire("\x80\x01"))
                .find("negative RSA modulus"),
            std::string::npos);
  EXPECT_NE(rejects_blob("ssh-rsa", Wire("ssh-rsa") + Wire("") + Wire("\x01"))
                .find("empty or negative RSA exponent"),
            std::string::npos);
  std::string compressed =
      Wire("ecdsa-sha2-nistp256") + Wire("nistp256") + Wire("\x02" + std::string(64, '\x02'));
  EXPECT_NE(rejects_blob("ecdsa-sha2-nistp256", compressed).find("uncompressed"),
            std::string::npos);
}

TEST(ParseSshPublicKeyTest, StrictBase64) {
  std::string b64 = kEd25519Base64;
  auto with = [](const std::string& data) { return Rejects("ssh-ed25519 " + data + " c\n"); };
  EXPECT_EQ(with(b64), "");
  EXPECT_NE(with(b64.substr(0, b64.size() - 1)).find("not a multiple of 4"), std::string::npos);
  std::string bad_char = b64;
  bad_char[10] = '-';  // base64url, not base64.
  EXPECT_NE(with(bad_char).find("byte 0x2d at offset 10"), std::string::npos);
  std::string inner_pad = b64;
  inner_pad[8] = '=';
  EXPECT_NE(with(inner_pad).find("not base64"), std::string::npos);
  EXPECT_NE(with(b64.substr(0, b64.size() - 4) + "A===").find("not base64"), std::string::npos);
  EXPECT_NE(with("====").find("not base64"), std::string::npos);
  // Padding is required where the length needs it.
  std::string padded = Base64(Ed25519Blob() + "xy");
  ASSERT_TRUE(padded.ends_with("="));
  EXPECT_NE(with(padded).find("bytes after the key"), std::string::npos);
  EXPECT_NE(with(padded.substr(0, padded.size() - 1)).find("not base64"), std::string::npos);
}

TEST(SshfpTest, HashesAndFormat) {
  EXPECT_EQ(*ParseSshfpHashes("sha256"), std::vector<SshfpHash>{SshfpHash::kSha256});
  EXPECT_EQ(*ParseSshfpHashes("sha1"), std::vector<SshfpHash>{SshfpHash::kSha1});
  EXPECT_EQ(*ParseSshfpHashes("both"),
            (std::vector<SshfpHash>{SshfpHash::kSha1, SshfpHash::kSha256}));
  EXPECT_EQ(ParseSshfpHashes("SHA256").error().code, ErrorCode::kUsage);
  EXPECT_EQ(ParseSshfpHashes("md5").error().code, ErrorCode::kUsage);
  EXPECT_EQ(FormatSshfp("h.test.", 60, SshfpAlgorithm::kEd448, SshfpHash::kSha1, "\x01\xab"),
            "h.test. 60 IN SSHFP 6 1 01ab\n");
}

}  // namespace
}  // namespace bulkhead::dns
