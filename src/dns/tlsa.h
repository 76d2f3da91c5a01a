// DANE TLSA records (RFC 6698, RFC 7671): computing the certificate
// association data for a certificate chain, printing records in
// presentation format and matching records against a served chain.
#ifndef BULKHEAD_DNS_TLSA_H_
#define BULKHEAD_DNS_TLSA_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/x509.h"
#include "util/result.h"

namespace bulkhead::dns {

// The three TLSA parameter fields (RFC 6698 section 2.1 and RFC 7218
// mnemonics). Values outside these enums are rejected by ParseTlsaParams.
enum class TlsaUsage : uint8_t {
  kPkixTa = 0,  // CA constraint: a CA in the PKIX-valid chain.
  kPkixEe = 1,  // Service certificate constraint: the PKIX-valid leaf.
  kDaneTa = 2,  // Trust anchor assertion: a CA the chain must lead to.
  kDaneEe = 3,  // Domain-issued certificate: the leaf, no PKIX.
};
enum class TlsaSelector : uint8_t {
  kCert = 0,  // The whole certificate, DER.
  kSpki = 1,  // The SubjectPublicKeyInfo, DER (survives re-issuance with the same key).
};
enum class TlsaMatching : uint8_t {
  kFull = 0,    // The selected bytes themselves.
  kSha256 = 1,  // Their SHA-256.
  kSha512 = 2,  // Their SHA-512.
};

// TlsaRecord is the RDATA of one TLSA record.
struct TlsaRecord {
  TlsaUsage usage = TlsaUsage::kDaneEe;
  TlsaSelector selector = TlsaSelector::kSpki;
  TlsaMatching mtype = TlsaMatching::kSha256;
  std::string data;  // Certificate association data, raw bytes.

  bool operator==(const TlsaRecord&) const = default;
};

// kDefaultTlsaTtl is what `tlsa create` and the zone compiler print unless
// told otherwise; it equals what ldns-dane prints.
inline constexpr uint32_t kDefaultTlsaTtl = 3600;

// ParseTlsaParams checks three numeric fields and fills *out_record's
// parameters (not its data). Fails (kUsage) naming the field that is out of
// range.
Status ParseTlsaParams(int usage, int selector, int mtype, TlsaRecord* out_record);

// UsesCaCert reports whether `usage` associates a CA certificate (0, 2)
// rather than the end-entity certificate (1, 3).
bool UsesCaCert(TlsaUsage usage);

// AssociationData returns the bytes a TLSA record with `selector` and
// `mtype` carries for `cert`. Fails only if hashing fails.
Result<std::string> AssociationData(const crypto::CertInfo& cert, TlsaSelector selector,
                                    TlsaMatching mtype);

// SelectCertificate picks the certificate of `chain` (leaf first, as in a
// fullchain file) that a record with `usage` describes: the leaf for usages
// 1 and 3; for 0 and 2 the last certificate of the chain, i.e. the topmost
// CA given. A chain of one certificate may serve as its own CA only if it is
// self-signed. The pointer is into `chain`, which must outlive it. Fails on
// an empty chain or a lone leaf with usage 0 or 2.
Result<const crypto::CertInfo*> SelectCertificate(const std::vector<crypto::CertInfo>& chain,
                                                  TlsaUsage usage);

// ComputeTlsa fills in record->data for `chain` using the record's
// parameters and SelectCertificate. Fails as SelectCertificate does.
Status ComputeTlsa(const std::vector<crypto::CertInfo>& chain, TlsaRecord* record);

// TlsaOwner returns "_<port>._tcp.<host>." (host may end with a dot). Fails
// (kUsage) if `host` is not a syntactically valid DNS name or the port is 0.
Result<std::string> TlsaOwner(std::string_view host, int port);

// FormatTlsa renders one record in presentation format, tab-separated and
// with lower-case hex, exactly as ldns prints it: "owner\tttl\tIN\tTLSA\tU S M hex".
std::string FormatTlsa(std::string_view owner, uint32_t ttl, const TlsaRecord& record);

// ParseTlsaRdata parses presentation-format RDATA "U S M hex" (hex may be
// split by whitespace). Fails naming what is malformed.
Result<TlsaRecord> ParseTlsaRdata(std::string_view text);

// TlsaMatch is what MatchTlsa found for one record against a served chain.
struct TlsaMatch {
  bool matched = false;
  int depth = -1;      // Chain position of the matching certificate (0 = leaf), or -1.
  std::string detail;  // One line for humans: what matched or why not.
};

// MatchTlsa checks `record` against `served` (leaf first, as a server
// sends it). Usages 1 and 3 compare the leaf. Usages 0 and 2 compare each
// CA certificate of the chain and, on a hit, require that the certificates
// from the leaf up to the matched one each be signed by the next, so that
// an unrelated certificate appended to the chain cannot satisfy the record.
// It does not perform PKIX validation against a root store (detail says
// so for usages 0 and 1). Never fails; unknown parameters simply do not
// match.
TlsaMatch MatchTlsa(const TlsaRecord& record, const std::vector<crypto::CertInfo>& served);

// ChainLinks are the facts about a served chain that matching needs beyond
// its bytes: whether the leaf is self-signed and whether each certificate
// is signed by the next one. Knowing them lets a process match TLSA records
// against a chain it has not parsed itself (the probe role parses it).
struct ChainLinks {
  bool leaf_self_signed = false;
  std::vector<bool> issued_by_next;  // [i]: served[i] signed by served[i + 1].
};

// LinksOf works out the ChainLinks of `served` by verifying signatures.
ChainLinks LinksOf(const std::vector<crypto::CertInfo>& served);

// MatchTlsa as above, taking the signature facts from `links` instead of
// parsing the certificates.
TlsaMatch MatchTlsa(const TlsaRecord& record, const std::vector<crypto::CertInfo>& served,
                    const ChainLinks& links);

// TlsaUsageName returns the RFC 7218 mnemonic ("DANE-EE", ...).
std::string_view TlsaUsageName(TlsaUsage usage);

}  // namespace bulkhead::dns

#endif  // BULKHEAD_DNS_TLSA_H_
