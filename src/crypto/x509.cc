#include "crypto/x509.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "crypto/ossl.h"

namespace bulkhead::crypto {
namespace {

constexpr std::string_view kBeginPrefix = "-----BEGIN ";
constexpr std::string_view kCertBegin = "-----BEGIN CERTIFICATE-----";
constexpr std::string_view kCertEnd = "-----END CERTIFICATE-----";

// PemParts owns what PEM_read_bio hands back.
struct PemParts {
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  ~PemParts() {
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
  }
};

size_t SkipSpace(std::string_view text, size_t pos) {
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) {
    ++pos;
  }
  return pos;
}

// NextBlock returns the CERTIFICATE block starting at `*pos` and moves
// `*pos` past it. Anything else at that position is an error: stray text
// is refused so that a confused or hostile peer cannot smuggle it along.
Result<std::string_view> NextBlock(std::string_view text, size_t* pos) {
  std::string_view rest = text.substr(*pos);
  if (!rest.starts_with(kBeginPrefix)) {
    return Err("unexpected text at byte {} (expected a PEM block)", *pos);
  }
  if (!rest.starts_with(kCertBegin)) {
    std::string_view label = rest.substr(kBeginPrefix.size());
    label = label.substr(0, std::min(label.find("-----"), size_t{40}));
    return Err("PEM block \"{}\" is not a CERTIFICATE", label);
  }
  size_t end = rest.find(kCertEnd);
  if (end == std::string_view::npos) {
    return Err("PEM certificate at byte {} has no END line", *pos);
  }
  std::string_view block = rest.substr(0, end + kCertEnd.size());
  *pos += block.size();
  return block;
}

// DecodeBlock returns the DER inside one PEM CERTIFICATE block.
Result<std::string> DecodeBlock(std::string_view block) {
  BioPtr bio = MemBio(block);
  PemParts parts;
  if (!bio || PEM_read_bio(bio.get(), &parts.name, &parts.header, &parts.data, &parts.len) != 1) {
    return OsslErr("decoding PEM certificate");
  }
  if (std::string_view(parts.name) != "CERTIFICATE" || parts.header[0] != '\0') {
    return Err("PEM certificate has an unexpected label or headers");
  }
  return std::string(reinterpret_cast<char*>(parts.data), static_cast<size_t>(parts.len));
}

// DecodeDer parses a DER certificate, refusing trailing bytes.
Result<X509Ptr> DecodeDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const auto* end = p + der.size();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) {
    return OsslErr("parsing certificate DER");
  }
  if (p != end) {
    return Err("certificate DER has trailing bytes");
  }
  return cert;
}

// NameOneLine renders a name in RFC 2253 form, keeping UTF-8 readable.
std::string NameOneLine(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    ERR_clear_error();
    return std::string();
  }
  return BioContents(bio.get());
}

// DaysFromCivil counts days from 1970-01-01 to a proleptic Gregorian date,
// independent of the process's time zone (unlike mktime).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2 ? 1 : 0;
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  int64_t year_of_era = year - era * 400;
  int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

Result<int64_t> TimeToUnix(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return OsslErr("certificate validity time");
  }
  int64_t days = DaysFromCivil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

// FillSerial sets the hex and magnitude forms of the serial number.
Status FillSerial(X509* cert, CertInfo* info) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) {
    return OsslErr("certificate serial number");
  }
  info->serial_der.assign(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(info->serial_der.data()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : info->serial_der) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  size_t first = hex.find_first_not_of('0');
  info->serial_hex = first == std::string::npos ? "0" : hex.substr(first);
  return OkStatus();
}

Status FillNames(X509* cert, CertInfo* info) {
  int crit = 0;
  GeneralNamesPtr gens(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  if (!gens) {
    // crit == -1 means "absent"; anything else is a duplicate or garbled SAN.
    if (crit != -1) {
      return OsslErr("certificate subjectAltName is malformed");
    }
    return OkStatus();
  }
  return AppendGeneralNames(gens.get(), &info->names);
}

Status FillSubjectIssuer(X509* cert, CertInfo* info) {
  info->subject = NameOneLine(X509_get_subject_name(cert));
  info->issuer = NameOneLine(X509_get_issuer_name(cert));
  BH_ASSIGN(info->subject_cn, NameEntryUtf8(X509_get_subject_name(cert), NID_commonName));
  BH_ASSIGN(info->issuer_cn, NameEntryUtf8(X509_get_issuer_name(cert), NID_commonName));
  return OkStatus();
}

Status FillKeyIds(X509* cert, CertInfo* info) {
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert);
  if (aki != nullptr) {
    info->aki_keyid.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(aki)),
                           static_cast<size_t>(ASN1_STRING_length(aki)));
  }
  ERR_clear_error();  // Extension caching may leave entries for absent AKIs.
  BH_ASSIGN(info->public_key_der,
            ToDer(X509_get_X509_PUBKEY(cert), i2d_X509_PUBKEY, "encoding certificate public key"));
  return OkStatus();
}

// CertToPem renders one certificate in canonical PEM.
Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OsslErr("encoding certificate PEM");
  }
  return BioContents(bio.get());
}

Result<CertInfo> ParseDer(std::string der) {
  BH_ASSIGN(X509Ptr cert, DecodeDer(der));
  CertInfo info;
  info.der = std::move(der);
  BH_ASSIGN(info.pem, CertToPem(cert.get()));
  BH_TRY(FillSubjectIssuer(cert.get(), &info));
  BH_TRY(FillNames(cert.get(), &info));
  BH_TRY(FillSerial(cert.get(), &info));
  BH_TRY(FillKeyIds(cert.get(), &info));
  BH_ASSIGN(info.not_before, TimeToUnix(X509_get0_notBefore(cert.get())));
  BH_ASSIGN(info.not_after, TimeToUnix(X509_get0_notAfter(cert.get())));
  return info;
}

}  // namespace

Result<std::vector<CertInfo>> ParsePemChain(std::string_view pem, size_t max_bytes) {
  if (pem.size() > max_bytes) {
    return Err("certificate chain of {} bytes exceeds the limit of {}", pem.size(), max_bytes);
  }
  std::vector<CertInfo> certs;
  size_t pos = SkipSpace(pem, 0);
  while (pos < pem.size()) {
    BH_ASSIGN(std::string_view block, NextBlock(pem, &pos));
    BH_ASSIGN(std::string der, DecodeBlock(block));
    auto info = ParseDer(std::move(der));
    if (!info.ok()) {
      return info.error().Wrap(fmt::format("certificate {}", certs.size() + 1));
    }
    certs.push_back(std::move(info).value());
    pos = SkipSpace(pem, pos);
  }
  if (certs.empty()) {
    return Err("no certificate in PEM text");
  }
  return certs;
}

Result<CertInfo> ParseCertPem(std::string_view pem) {
  BH_ASSIGN(std::vector<CertInfo> certs, ParsePemChain(pem));
  if (certs.size() != 1) {
    return Err("expected one certificate, found {}", certs.size());
  }
  return std::move(certs[0]);
}

Result<bool> VerifyIssuedBy(const CertInfo& child, const CertInfo& issuer) {
  BH_ASSIGN(X509Ptr child_cert, DecodeDer(child.der));
  BH_ASSIGN(X509Ptr issuer_cert, DecodeDer(issuer.der));
  if (X509_NAME_cmp(X509_get_issuer_name(child_cert.get()),
                    X509_get_subject_name(issuer_cert.get())) != 0) {
    return false;
  }
  EVP_PKEY* issuer_key = X509_get0_pubkey(issuer_cert.get());
  if (issuer_key == nullptr) {
    return OsslErr("issuer public key");
  }
  bool ok = X509_verify(child_cert.get(), issuer_key) == 1;
  ERR_clear_error();
  return ok;
}

std::string FormatTime(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm = {};
  if (gmtime_r(&t, &tm) == nullptr) {
    return fmt::format("@{}", unix_seconds);  // Out of range for a calendar.
  }
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace bulkhead::crypto
