#include "crypto/ossl.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <sys/socket.h>

namespace bulkhead::crypto {
namespace {

// FormatIp renders a 4- or 16-byte iPAddress in its usual text form.
Result<std::string> FormatIp(const ASN1_OCTET_STRING* ip) {
  int len = ASN1_STRING_length(ip);
  int family = len == 4 ? AF_INET : (len == 16 ? AF_INET6 : -1);
  if (family < 0) {
    return Err("iPAddress of {} bytes", len);
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof(text)) == nullptr) {
    return Err("iPAddress cannot be formatted");
  }
  return std::string(text);
}

// Ia5ToString copies an IA5String, refusing embedded NULs which would let a
// name look different to C string code than to us.
Result<std::string> Ia5ToString(const ASN1_IA5STRING* s) {
  std::string out(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                  static_cast<size_t>(ASN1_STRING_length(s)));
  if (out.find('\0') != std::string::npos) {
    return Err("dNSName contains a NUL byte");
  }
  return out;
}

}  // namespace

Error OsslErr(std::string_view what) {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) {
    return Err("{} failed", what);
  }
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return Err("{}: {}", what, buf);
}

BioPtr MemBio(std::string_view data) {
  if (data.size() > INT_MAX) {
    return nullptr;
  }
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) {
    return std::string();
  }
  return std::string(data, static_cast<size_t>(len));
}

Status AppendGeneralNames(const GENERAL_NAMES* names, std::vector<std::string>* out) {
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gen = sk_GENERAL_NAME_value(names, i);
    if (gen->type == GEN_DNS) {
      BH_ASSIGN(std::string name, Ia5ToString(gen->d.dNSName));
      out->push_back(std::move(name));
    } else if (gen->type == GEN_IPADD) {
      BH_ASSIGN(std::string ip, FormatIp(gen->d.iPAddress));
      out->push_back(std::move(ip));
    }
  }
  return OkStatus();
}

Result<std::string> NameEntryUtf8(const X509_NAME* name, int nid) {
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) {
    return std::string();
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    return OsslErr("name entry to UTF-8");
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

Result<BignumPtr> BytesToBignum(std::string_view bytes) {
  if (bytes.size() > INT_MAX) {
    return Err("integer of {} bytes is too long", bytes.size());
  }
  BignumPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
  if (!bn) {
    return OsslErr("BN_bin2bn");
  }
  return bn;
}

}  // namespace bulkhead::crypto
