#include "crypto/csr.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cctype>

#include "crypto/ossl.h"

namespace bulkhead::crypto {
namespace {

// kMaxCnBytes is the ub-common-name limit of RFC 5280; longer names can
// only be carried in the subjectAltName.
constexpr size_t kMaxCnBytes = 64;

// IpAddressBytes returns the octets of a literal IPv4/IPv6 address, or null
// if `name` is not one.
OctetStringPtr IpAddressBytes(const std::string& name) {
  // a2i_IPADDRESS pushes an error when the text is not an address; that is
  // an expected outcome here, not a failure worth reporting later.
  OctetStringPtr ip(a2i_IPADDRESS(name.c_str()));
  if (!ip) {
    ERR_clear_error();
  }
  return ip;
}

// AddGeneralName appends `name` to `gens` as an iPAddress or dNSName.
Status AddGeneralName(const std::string& name, GENERAL_NAMES* gens) {
  if (name.empty() || name.find('\0') != std::string::npos) {
    return Err("CSR: invalid name \"{}\"", name);
  }
  GENERAL_NAME* gen = GENERAL_NAME_new();
  if (gen == nullptr) {
    return OsslErr("GENERAL_NAME_new");
  }
  if (OctetStringPtr ip = IpAddressBytes(name)) {
    GENERAL_NAME_set0_value(gen, GEN_IPADD, ip.release());
  } else {
    ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
    if (dns == nullptr || ASN1_STRING_set(dns, name.data(), static_cast<int>(name.size())) != 1) {
      ASN1_IA5STRING_free(dns);
      GENERAL_NAME_free(gen);
      return OsslErr("CSR: encoding dNSName");
    }
    GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
  }
  if (sk_GENERAL_NAME_push(gens, gen) == 0) {
    GENERAL_NAME_free(gen);
    return OsslErr("CSR: adding name");
  }
  return OkStatus();
}

// AddSubjectAltNames attaches a subjectAltName extension with `names`.
Status AddSubjectAltNames(X509_REQ* req, const std::vector<std::string>& names) {
  GeneralNamesPtr gens(GENERAL_NAMES_new());
  if (!gens) {
    return OsslErr("GENERAL_NAMES_new");
  }
  for (const std::string& name : names) {
    BH_TRY(AddGeneralName(name, gens.get()));
  }
  STACK_OF(X509_EXTENSION)* raw_exts = nullptr;
  if (X509V3_add1_i2d(&raw_exts, NID_subject_alt_name, gens.get(), /*crit=*/0,
                      X509V3_ADD_DEFAULT) != 1) {
    return OsslErr("CSR: encoding subjectAltName");
  }
  ExtensionStackPtr exts(raw_exts);
  if (X509_REQ_add_extensions(req, exts.get()) != 1) {
    return OsslErr("CSR: adding extensions");
  }
  return OkStatus();
}

// SetSubjectCn sets CN to the first DNS name that fits, if any. ACME CAs
// take names from the SAN; the CN only helps older software display it.
Status SetSubjectCn(X509_REQ* req, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (IpAddressBytes(name)) {
      continue;
    }
    if (name.size() > kMaxCnBytes) {
      return OkStatus();
    }
    X509_NAME* subject = X509_REQ_get_subject_name(req);
    if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(name.data()),
                                   static_cast<int>(name.size()), -1, 0) != 1) {
      return OsslErr("CSR: setting CN");
    }
    return OkStatus();
  }
  return OkStatus();
}

// ReadCsr decodes PEM (if the text looks like PEM) or DER.
Result<X509ReqPtr> ReadCsr(std::string_view pem_or_der) {
  BioPtr bio = MemBio(pem_or_der);
  if (!bio) {
    return Err("CSR is too large");
  }
  if (pem_or_der.find("-----BEGIN") != std::string_view::npos) {
    X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    if (!req) {
      return OsslErr("CSR: reading PEM");
    }
    return req;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(pem_or_der.data());
  const auto* end = p + pem_or_der.size();
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(pem_or_der.size())));
  if (!req) {
    return OsslErr("CSR: reading DER");
  }
  if (p != end) {
    return Err("CSR: trailing bytes after DER");
  }
  return req;
}

// CsrNames returns the SAN entries of `req` plus its CN if not among them.
Result<std::vector<std::string>> CsrNames(X509_REQ* req) {
  std::vector<std::string> names;
  ExtensionStackPtr exts(X509_REQ_get_extensions(req));
  if (exts) {
    GeneralNamesPtr gens(static_cast<GENERAL_NAMES*>(
        X509V3_get_d2i(exts.get(), NID_subject_alt_name, nullptr, nullptr)));
    if (gens) {
      BH_TRY(AppendGeneralNames(gens.get(), &names));
    }
  }
  BH_ASSIGN(std::string cn, NameEntryUtf8(X509_REQ_get_subject_name(req), NID_commonName));
  auto same = [&cn](const std::string& n) {
    return std::equal(n.begin(), n.end(), cn.begin(), cn.end(), [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a)) ==
             std::tolower(static_cast<unsigned char>(b));
    });
  };
  if (!cn.empty() && std::none_of(names.begin(), names.end(), same)) {
    names.push_back(cn);
  }
  return names;
}

}  // namespace

Result<std::string> MakeCsr(const PrivateKey& key, const std::vector<std::string>& names) {
  if (names.empty()) {
    return Err("CSR: no names");
  }
  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) {
    return OsslErr("X509_REQ_new");
  }
  BH_TRY(SetSubjectCn(req.get(), names));
  BH_TRY(AddSubjectAltNames(req.get(), names));
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1) {
    return OsslErr("CSR: setting public key");
  }
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) {
    return OsslErr("CSR: signing");
  }
  return ToDer(req.get(), i2d_X509_REQ, "CSR: encoding");
}

Result<CsrInfo> ParseCsr(std::string_view pem_or_der) {
  BH_ASSIGN(X509ReqPtr req, ReadCsr(pem_or_der));
  EVP_PKEY* pkey = X509_REQ_get0_pubkey(req.get());
  if (pkey == nullptr) {
    return OsslErr("CSR: no public key");
  }
  if (X509_REQ_verify(req.get(), pkey) != 1) {
    return OsslErr("CSR: self-signature does not verify");
  }
  CsrInfo info;
  BH_ASSIGN(info.names, CsrNames(req.get()));
  if (info.names.empty()) {
    return Err("CSR: no names (neither subjectAltName nor CN)");
  }
  BH_ASSIGN(info.der, ToDer(req.get(), i2d_X509_REQ, "CSR: encoding"));
  BH_ASSIGN(info.public_key_der, ToDer(pkey, i2d_PUBKEY, "CSR: encoding public key"));
  return info;
}

}  // namespace bulkhead::crypto
