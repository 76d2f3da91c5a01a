// The zone compiler. The checks run in two layers: a byte-level screen
// that refuses anything a zone-file parser would treat specially
// (directives, comments, escapes, parentheses, extra quotes, control
// characters), then libldns parses the line and the parsed fields are held
// against the policy. The output is rebuilt from the checked fields, never
// copied from the input.
#include "dns/zone_compile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>

#include "crypto/key.h"
#include "crypto/x509.h"
#include "dns/dane_rollover.h"
#include "dns/name.h"
#include "dns/tlsa.h"
#include "util/fs.h"
#include "util/nofollow.h"
#include "util/text.h"

namespace bulkhead::dns {
namespace {

constexpr std::string_view kChallengeLabel = "_acme-challenge.";
constexpr size_t kChallengeValueLen = 43;  // base64url(SHA-256), RFC 8555 section 8.4.

struct LdnsRrFree {
  void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
};
using LdnsRrPtr = std::unique_ptr<ldns_rr, LdnsRrFree>;

struct MallocFree {
  void operator()(char* p) const { std::free(p); }
};
using MallocString = std::unique_ptr<char, MallocFree>;

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

std::string ErrnoString(int err) {
  char buf[256];
  return std::string(strerror_r(err, buf, sizeof(buf)));
}

bool IsBase64UrlChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

// ScreenBytes refuses what must never reach a zone-file parser. Returns an
// empty string if the line is acceptable, else the reason.
std::string ScreenBytes(std::string_view line) {
  if (!line.empty() && line.front() == '$') {
    size_t end = line.find_first_of(" \t");
    return fmt::format("zone file directive {} is not allowed",
                       EscapeFileName(line.substr(0, std::min<size_t>(end, 16))));
  }
  int quotes = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c == '\n') {
      return "more than one line";
    }
    if (c == '\r') {
      return "carriage return in the line";
    }
    if (c == 0) {
      return "NUL byte in the file";
    }
    if (c == '\t') {
      continue;
    }
    if (c < 0x20 || c >= 0x7f) {
      return fmt::format("control or non-ASCII byte 0x{:02x} at offset {}", c, i);
    }
    switch (c) {
      case '\\':
        return "escape sequence (backslash) is not allowed";
      case '$':
        return "'$' is not allowed (zone file directive)";
      case ';':
        return "';' is not allowed (zone file comment)";
      case '(':
      case ')':
        return "parentheses are not allowed (multi-line record)";
      case '@':
        return "'@' is not allowed (origin reference)";
      case '"':
        if (++quotes > 2) {
          return "embedded quotes: more than one quoted string";
        }
        break;
      default:
        break;
    }
  }
  return "";
}

// Fields splits on spaces and tabs.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    if (i > start) {
      out.push_back(line.substr(start, i - start));
    }
  }
  return out;
}

// ReadDropEntry opens `name` in `dir_fd` without following symlinks and
// without blocking (a FIFO must not hang the compiler), checks that it is a
// small regular file and reads it. Fails with the reason to report.
Result<std::string> ReadDropEntry(int dir_fd, const char* name) {
  struct stat st;
  if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Err("cannot stat: {}", ErrnoString(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    return Err("is a symbolic link");
  }
  if (S_ISDIR(st.st_mode)) {
    return Err("is a directory");
  }
  if (!S_ISREG(st.st_mode)) {
    return Err("is not a regular file (FIFO, socket or device)");
  }
  ScopedFd fd(::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) {
    int err = errno;
    if (err == ELOOP) {
      return Err("is a symbolic link");
    }
    return Err("cannot open: {}", ErrnoString(err));
  }
  // The entry may have been swapped since fstatat; trust only the fd.
  if (::fstat(fd.get(), &st) != 0) {
    return Err("cannot stat: {}", ErrnoString(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Err("is not a regular file");
  }
  if (static_cast<size_t>(st.st_size) > kMaxDropFileBytes) {
    return Err("file is {} bytes, more than the limit of {}", st.st_size, kMaxDropFileBytes);
  }
  std::string out(kMaxDropFileBytes + 1, '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Err("cannot read: {}", ErrnoString(errno));
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  if (got > kMaxDropFileBytes) {
    return Err("file grew beyond the limit of {} bytes", kMaxDropFileBytes);
  }
  out.resize(got);
  return out;
}

}  // namespace

std::string EscapeFileName(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

Result<std::set<std::string>> ChallengeOwners(const std::vector<std::string>& allow) {
  std::set<std::string> owners;
  for (const std::string& given : allow) {
    std::string name = AsciiLower(given);
    if (!name.empty() && name.back() == '.') {
      name.pop_back();
    }
    if (name.starts_with("*.")) {
      name.erase(0, 2);
    }
    if (!IsDnsName(name, /*allow_underscore=*/false)) {
      return ErrCode(ErrorCode::kUsage, "--allow '{}' is not a valid host name",
                     EscapeFileName(given));
    }
    owners.insert(fmt::format("{}{}.", kChallengeLabel, name));
  }
  return owners;
}

Result<std::set<std::string>> AllowedHostOwners(const std::vector<std::string>& allow) {
  // The same checks and messages as for the challenge owners.
  BH_TRY(ChallengeOwners(allow));
  std::set<std::string> owners;
  for (const std::string& given : allow) {
    std::string name = AsciiLower(given);
    if (!name.empty() && name.back() == '.') {
      name.pop_back();
    }
    if (!name.starts_with("*.")) {
      owners.insert(name + ".");
    }
  }
  return owners;
}

Result<DropRecord> ParseDropFile(std::string_view contents, const DropPolicy& policy) {
  if (contents.empty()) {
    return Err("empty file");
  }
  std::string_view line = contents;
  if (line.back() == '\n') {
    line.remove_suffix(1);
  }
  if (std::string reason = ScreenBytes(line); !reason.empty()) {
    return Err("{}", reason);
  }
  std::string line_z(line);
  ldns_rr* raw = nullptr;
  // No origin and no previous owner: a relative or omitted owner cannot be
  // completed and so cannot match an allowed absolute name.
  ldns_status status = ldns_rr_new_frm_str(&raw, line_z.c_str(), 0, nullptr, nullptr);
  LdnsRrPtr rr(raw);
  if (status != LDNS_STATUS_OK || !rr) {
    return Err("not a valid resource record: {}", ldns_get_errorstr_by_id(status));
  }
  if (ldns_rr_get_type(rr.get()) != LDNS_RR_TYPE_TXT) {
    MallocString type(ldns_rr_type2str(ldns_rr_get_type(rr.get())));
    return Err("record type {} is not allowed, only TXT", type ? type.get() : "?");
  }
  if (ldns_rr_get_class(rr.get()) != LDNS_RR_CLASS_IN) {
    MallocString cls(ldns_rr_class2str(ldns_rr_get_class(rr.get())));
    return Err("class {} is not allowed, only IN", cls ? cls.get() : "?");
  }
  MallocString owner_c(ldns_rdf2str(ldns_rr_owner(rr.get())));
  if (!owner_c) {
    return Err("cannot render the owner name");
  }
  std::string owner = AsciiLower(owner_c.get());
  if (policy.owners.count(owner) == 0) {
    return Err("owner {} is not _acme-challenge under an allowed name", EscapeFileName(owner));
  }
  if (ldns_rr_rd_count(rr.get()) != 1) {
    return Err("TXT record has {} strings, exactly one allowed", ldns_rr_rd_count(rr.get()));
  }
  const ldns_rdf* rdf = ldns_rr_rdf(rr.get(), 0);
  if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR || ldns_rdf_size(rdf) < 1) {
    return Err("TXT data is not a character string");
  }
  const uint8_t* bytes = ldns_rdf_data(rdf);
  std::string value(reinterpret_cast<const char*>(bytes + 1), ldns_rdf_size(rdf) - 1);
  if (value.size() != bytes[0]) {
    return Err("TXT data is malformed");
  }
  if (value.size() != kChallengeValueLen) {
    return Err("value is {} characters, a challenge value is exactly {}", value.size(),
               kChallengeValueLen);
  }
  if (!std::all_of(value.begin(), value.end(), IsBase64UrlChar)) {
    return Err("value has characters outside the base64url alphabet");
  }
  // The parser is lenient about what may be left out (TTL, class); the drop
  // format is not: exactly owner, TTL, IN, TXT, one quoted string.
  std::vector<std::string_view> fields = Fields(line);
  if (fields.size() != 5 || !fields[0].ends_with('.') || AsciiLower(fields[2]) != "in" ||
      AsciiLower(fields[3]) != "txt" || fields[4].size() != kChallengeValueLen + 2 ||
      fields[4].front() != '"' || fields[4].back() != '"' ||
      !std::all_of(fields[1].begin(), fields[1].end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    return Err("not of the form '<owner> <ttl> IN TXT \"<value>\"'");
  }
  uint32_t ttl = ldns_rr_ttl(rr.get());
  if (ttl < policy.min_ttl || ttl > policy.max_ttl) {
    return Err("TTL {} is outside {}..{}", ttl, policy.min_ttl, policy.max_ttl);
  }
  return DropRecord{owner, ttl, value};
}

Result<DropCompilation> CompileDropDir(const std::string& dir, const DropPolicy& policy) {
  ScopedFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) {
    return Err("opening drop directory {}: {}", dir, ErrnoString(errno));
  }
  // fdopendir takes over a descriptor of its own so that dir_fd stays
  // usable for openat.
  ScopedFd list_fd(::dup(dir_fd.get()));
  if (!list_fd.valid()) {
    return Err("opening drop directory {}: {}", dir, ErrnoString(errno));
  }
  DirPtr listing(::fdopendir(list_fd.get()));
  if (!listing) {
    return Err("listing drop directory {}: {}", dir, ErrnoString(errno));
  }
  list_fd.release();
  std::vector<std::string> names;
  DropCompilation out;
  for (;;) {
    errno = 0;
    struct dirent* entry = ::readdir(listing.get());
    if (entry == nullptr) {
      if (errno != 0) {
        return Err("listing drop directory {}: {}", dir, ErrnoString(errno));
      }
      break;
    }
    std::string_view name = entry->d_name;
    if (name.starts_with('.')) {
      if (name != "." && name != "..") {
        ++out.skipped_hidden;
      }
      continue;
    }
    if (names.size() >= kMaxDropFiles) {
      return Err("drop directory {} has more than {} entries; refusing to compile it", dir,
                 kMaxDropFiles);
    }
    names.emplace_back(name);
  }
  // Sorted names make the rejection report as reproducible as the output.
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    auto contents = ReadDropEntry(dir_fd.get(), name.c_str());
    if (!contents.ok()) {
      out.rejections.push_back({EscapeFileName(name), contents.error().message});
      continue;
    }
    auto record = ParseDropFile(*contents, policy);
    if (!record.ok()) {
      out.rejections.push_back({EscapeFileName(name), record.error().message});
      continue;
    }
    out.records.push_back(std::move(record).value());
  }
  return out;
}

std::string FormatDropRecords(std::vector<DropRecord> records) {
  std::map<std::string, uint32_t> rrset_ttl;
  for (const DropRecord& r : records) {
    auto [it, inserted] = rrset_ttl.emplace(r.owner, r.ttl);
    if (!inserted) {
      it->second = std::min(it->second, r.ttl);
    }
  }
  for (DropRecord& r : records) {
    r.ttl = rrset_ttl[r.owner];
  }
  std::sort(records.begin(), records.end());
  records.erase(std::unique(records.begin(), records.end()), records.end());
  std::string text;
  for (const DropRecord& r : records) {
    text += fmt::format("{} {} IN TXT \"{}\"\n", r.owner, r.ttl, r.value);
  }
  return text;
}

Result<std::vector<TlsaMapEntry>> ParseTlsaMap(std::string_view text) {
  std::vector<TlsaMapEntry> entries;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    std::vector<std::string_view> fields = Fields(line);
    if (fields.empty() || fields[0].starts_with('#')) {
      continue;
    }
    if (fields.size() != 3) {
      return ErrCode(ErrorCode::kUsage, "TLSA map line {}: expected 'CERTFILE NAME PORT'", line_no);
    }
    TlsaMapEntry entry;
    entry.cert_file = std::string(fields[0]);
    entry.host = std::string(fields[1]);
    int port = 0;
    for (char c : fields[2]) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || port > 65535) {
        port = -1;
        break;
      }
      port = port * 10 + (c - '0');
    }
    auto owner = TlsaOwner(entry.host, port);
    if (!owner.ok()) {
      return ErrCode(ErrorCode::kUsage, "TLSA map line {}: {}", line_no, owner.error().message);
    }
    entry.port = port;
    entries.push_back(std::move(entry));
  }
  return entries;
}

namespace {

// MapFileRecord returns the 3 1 1 record of one certificate file (leaf
// first; a fullchain file is fine) or PEM public key file.
Result<TlsaRecord> MapFileRecord(const std::string& file) {
  BH_ASSIGN(std::string pem, ReadFileCapped(file, 1 << 20));
  TlsaRecord record;  // 3 1 1 by default.
  if (pem.find("-----BEGIN PUBLIC KEY-----") != std::string::npos &&
      pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    // A next key, published before any certificate for it exists.
    auto spki = crypto::SpkiFromPublicKeyPem(pem);
    if (!spki.ok()) {
      return spki.error().Wrap(file);
    }
    return SpkiRecord(*spki);
  }
  auto chain = crypto::ParsePemChain(pem);
  if (!chain.ok()) {
    return chain.error().Wrap(file);
  }
  BH_TRY(ComputeTlsa(*chain, &record));
  return record;
}

}  // namespace

Result<std::string> TlsaMapRecords(const std::vector<TlsaMapEntry>& entries, uint32_t ttl) {
  std::vector<std::string> lines;
  for (const TlsaMapEntry& entry : entries) {
    BH_ASSIGN(std::string owner, TlsaOwner(entry.host, entry.port));
    std::vector<std::string> files = {entry.cert_file};
    struct stat st;
    if (::stat(entry.cert_file.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      // A bulkhead certificate directory: the live certificate and, during
      // a DANE rollover, the next key (see manager/dane.h).
      files = {entry.cert_file + "/live/cert.pem"};
      std::string next = entry.cert_file + "/next/pubkey.pem";
      if (::stat(next.c_str(), &st) == 0) {
        files.push_back(next);
      }
    }
    for (const std::string& file : files) {
      BH_ASSIGN(TlsaRecord record, MapFileRecord(file));
      lines.push_back(FormatTlsa(owner, ttl, record));
    }
  }
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  std::string text;
  for (const std::string& line : lines) {
    text += line + "\n";
  }
  return text;
}

Result<std::vector<SshfpMapEntry>> ParseSshfpMap(std::string_view text) {
  std::vector<SshfpMapEntry> entries;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    std::vector<std::string_view> fields = Fields(line);
    if (fields.empty() || fields[0].starts_with('#')) {
      continue;
    }
    if (fields.size() != 2) {
      return ErrCode(ErrorCode::kUsage, "SSHFP map line {}: expected 'KEYFILE NAME'", line_no);
    }
    std::string owner = AsciiLower(fields[1]);
    if (!owner.empty() && owner.back() == '.') {
      owner.pop_back();
    }
    if (!IsDnsName(owner, /*allow_underscore=*/false)) {
      return ErrCode(ErrorCode::kUsage, "SSHFP map line {}: '{}' is not a valid host name", line_no,
                     EscapeFileName(fields[1]));
    }
    entries.push_back({line_no, std::string(fields[0]), owner + "."});
  }
  return entries;
}

Result<std::string> SshfpMapRecords(const std::vector<SshfpMapEntry>& entries,
                                    const std::set<std::string>& allowed,
                                    const std::vector<SshfpHash>& hashes, uint32_t ttl) {
  // Every owner is checked before any key file is opened, so a map that
  // names a host outside the whitelist fails the same way whatever the
  // key files hold.
  for (const SshfpMapEntry& entry : entries) {
    if (allowed.count(entry.owner) == 0) {
      return ErrCode(
          ErrorCode::kUsage,
          "SSHFP map line {}: {}: owner {} is not an allowed name (not given to --allow)",
          entry.line, EscapeFileName(entry.key_file), EscapeFileName(entry.owner));
    }
  }
  std::vector<std::string> lines;
  for (const SshfpMapEntry& entry : entries) {
    // The key file is collected from the host it describes: the last
    // component is not followed, and ParseSshPublicKey trusts nothing in it.
    auto contents = ReadFileNoFollow(entry.key_file, kMaxSshKeyFileBytes);
    if (!contents.ok()) {
      return contents.error();
    }
    auto key = ParseSshPublicKey(*contents);
    if (!key.ok()) {
      return key.error().Wrap(EscapeFileName(entry.key_file));
    }
    for (SshfpHash hash : hashes) {
      BH_ASSIGN(std::string fingerprint, SshfpFingerprint(*key, hash));
      lines.push_back(FormatSshfp(entry.owner, ttl, key->algorithm, hash, fingerprint));
    }
  }
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  std::string text;
  for (const std::string& line : lines) {
    text += line;
  }
  return text;
}

}  // namespace bulkhead::dns
