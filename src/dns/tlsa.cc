// TLSA association data and matching. Hashing is OpenSSL's; the DER forms
// come from crypto::ParsePemChain so that this file never touches PEM.
#include "dns/tlsa.h"

#include <openssl/evp.h>

#include <cctype>

#include "crypto/ossl.h"
#include "dns/name.h"
#include "util/text.h"

namespace bulkhead::dns {
namespace {

// Digest returns `md` of `data`.
Result<std::string> Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &out_len, md, nullptr) != 1) {
    return crypto::OsslErr("hashing TLSA association data");
  }
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

// IsSelfSigned reports whether `cert` names itself as issuer and its
// signature verifies with its own key.
bool IsSelfSigned(const crypto::CertInfo& cert) {
  if (cert.subject != cert.issuer) {
    return false;
  }
  auto verified = crypto::VerifyIssuedBy(cert, cert);
  return verified.ok() && *verified;
}

}  // namespace

Status ParseTlsaParams(int usage, int selector, int mtype, TlsaRecord* out_record) {
  if (usage < 0 || usage > 3) {
    return ErrCode(ErrorCode::kUsage, "TLSA usage {} is not one of 0, 1, 2, 3", usage);
  }
  if (selector < 0 || selector > 1) {
    return ErrCode(ErrorCode::kUsage, "TLSA selector {} is not 0 or 1", selector);
  }
  if (mtype < 0 || mtype > 2) {
    return ErrCode(ErrorCode::kUsage, "TLSA matching type {} is not one of 0, 1, 2", mtype);
  }
  out_record->usage = static_cast<TlsaUsage>(usage);
  out_record->selector = static_cast<TlsaSelector>(selector);
  out_record->mtype = static_cast<TlsaMatching>(mtype);
  return OkStatus();
}

bool UsesCaCert(TlsaUsage usage) {
  return usage == TlsaUsage::kPkixTa || usage == TlsaUsage::kDaneTa;
}

Result<std::string> AssociationData(const crypto::CertInfo& cert, TlsaSelector selector,
                                    TlsaMatching mtype) {
  const std::string& selected = selector == TlsaSelector::kCert ? cert.der : cert.public_key_der;
  switch (mtype) {
    case TlsaMatching::kFull:
      return selected;
    case TlsaMatching::kSha256:
      return Digest(EVP_sha256(), selected);
    case TlsaMatching::kSha512:
      return Digest(EVP_sha512(), selected);
  }
  return Err("unknown TLSA matching type {}", static_cast<int>(mtype));
}

Result<const crypto::CertInfo*> SelectCertificate(const std::vector<crypto::CertInfo>& chain,
                                                  TlsaUsage usage) {
  if (chain.empty()) {
    return Err("no certificate given");
  }
  if (!UsesCaCert(usage)) {
    return &chain.front();
  }
  if (chain.size() == 1 && !IsSelfSigned(chain.front())) {
    return Err(
        "TLSA usage {} ({}) describes a CA certificate, but the file holds only the leaf; "
        "give a chain file (leaf first, CA last)",
        static_cast<int>(usage), TlsaUsageName(usage));
  }
  return &chain.back();
}

Status ComputeTlsa(const std::vector<crypto::CertInfo>& chain, TlsaRecord* record) {
  BH_ASSIGN(const crypto::CertInfo* cert, SelectCertificate(chain, record->usage));
  BH_ASSIGN(record->data, AssociationData(*cert, record->selector, record->mtype));
  return OkStatus();
}

Result<std::string> TlsaOwner(std::string_view host, int port) {
  if (port < 1 || port > 65535) {
    return ErrCode(ErrorCode::kUsage, "port {} is not in 1..65535", port);
  }
  if (!IsDnsName(host, /*allow_underscore=*/true)) {
    return ErrCode(ErrorCode::kUsage, "'{}' is not a valid DNS host name", host);
  }
  std::string owner = fmt::format("_{}._tcp.{}", port, host);
  if (owner.back() != '.') {
    owner.push_back('.');
  }
  return owner;
}

std::string FormatTlsa(std::string_view owner, uint32_t ttl, const TlsaRecord& record) {
  return fmt::format("{}\t{}\tIN\tTLSA\t{} {} {} {}", owner, ttl, static_cast<int>(record.usage),
                     static_cast<int>(record.selector), static_cast<int>(record.mtype),
                     HexEncode(record.data));
}

Result<TlsaRecord> ParseTlsaRdata(std::string_view text) {
  int fields[3] = {-1, -1, -1};
  size_t pos = 0;
  auto skip_space = [&] {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) {
      ++pos;
    }
  };
  for (int& field : fields) {
    skip_space();
    size_t start = pos;
    int value = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) &&
           pos - start < 3) {
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == start ||
        (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos])))) {
      return Err("TLSA RDATA '{}': expected three numbers, then hex", text);
    }
    field = value;
  }
  TlsaRecord record;
  BH_TRY(ParseTlsaParams(fields[0], fields[1], fields[2], &record));
  int high = -1;
  for (; pos < text.size(); ++pos) {
    char c = text[pos];
    if (std::isspace(static_cast<unsigned char>(c))) {
      continue;
    }
    int v = HexDigitValue(c);
    if (v < 0) {
      return Err("TLSA RDATA: '{}' is not a hex digit", c);
    }
    if (high < 0) {
      high = v;
    } else {
      record.data.push_back(static_cast<char>((high << 4) | v));
      high = -1;
    }
  }
  if (high >= 0) {
    return Err("TLSA RDATA: odd number of hex digits");
  }
  if (record.data.empty()) {
    return Err("TLSA RDATA: no certificate association data");
  }
  return record;
}

ChainLinks LinksOf(const std::vector<crypto::CertInfo>& served) {
  ChainLinks links;
  links.leaf_self_signed = !served.empty() && IsSelfSigned(served.front());
  for (size_t i = 0; i + 1 < served.size(); ++i) {
    auto issued = crypto::VerifyIssuedBy(served[i], served[i + 1]);
    links.issued_by_next.push_back(issued.ok() && *issued);
  }
  return links;
}

TlsaMatch MatchTlsa(const TlsaRecord& record, const std::vector<crypto::CertInfo>& served) {
  return MatchTlsa(record, served, LinksOf(served));
}

TlsaMatch MatchTlsa(const TlsaRecord& record, const std::vector<crypto::CertInfo>& served,
                    const ChainLinks& links) {
  TlsaMatch match;
  if (served.empty()) {
    match.detail = "the server sent no certificate";
    return match;
  }
  const char* pkix_note = "";
  if (record.usage == TlsaUsage::kPkixTa || record.usage == TlsaUsage::kPkixEe) {
    pkix_note = " (PKIX path validation against a root store not checked)";
  }
  if (!UsesCaCert(record.usage)) {
    auto data = AssociationData(served.front(), record.selector, record.mtype);
    if (data.ok() && *data == record.data) {
      match.matched = true;
      match.depth = 0;
      match.detail = fmt::format("matches the leaf certificate{}", pkix_note);
    } else {
      match.detail = "does not match the leaf certificate";
    }
    return match;
  }
  // CA usages look at the certificates above the leaf; a lone
  // self-signed certificate may be its own trust anchor.
  std::vector<size_t> candidates;
  if (served.size() == 1) {
    candidates.push_back(0);
  }
  for (size_t i = 1; i < served.size(); ++i) {
    candidates.push_back(i);
  }
  for (size_t index : candidates) {
    auto data = AssociationData(served[index], record.selector, record.mtype);
    if (!data.ok() || *data != record.data) {
      continue;
    }
    if (index == 0 && !links.leaf_self_signed) {
      match.detail = "matches the lone certificate sent, but it is not self-signed";
      return match;
    }
    // The matched CA must really issue the chain below it.
    for (size_t i = 0; i < index; ++i) {
      if (i >= links.issued_by_next.size() || !links.issued_by_next[i]) {
        match.detail = fmt::format(
            "matches the certificate at depth {}, but the certificate at depth {} is not issued "
            "by the next one in the chain",
            index, i);
        return match;
      }
    }
    match.matched = true;
    match.depth = static_cast<int>(index);
    match.detail = fmt::format("matches the CA certificate at depth {} ({}){}", index,
                               served[index].subject, pkix_note);
    return match;
  }
  match.detail = "does not match any CA certificate in the served chain";
  return match;
}

std::string_view TlsaUsageName(TlsaUsage usage) {
  switch (usage) {
    case TlsaUsage::kPkixTa:
      return "PKIX-TA";
    case TlsaUsage::kPkixEe:
      return "PKIX-EE";
    case TlsaUsage::kDaneTa:
      return "DANE-TA";
    case TlsaUsage::kDaneEe:
      return "DANE-EE";
  }
  return "unknown";
}

}  // namespace bulkhead::dns
