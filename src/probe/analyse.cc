#include "probe/analyse.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "util/text.h"

namespace bulkhead::probe {
namespace {

using StoreCtxPtr = crypto::OsslPtr<X509_STORE_CTX, X509_STORE_CTX_free>;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// ChainKey identifies a served chain for the verdict cache: the CA bundle
// and every certificate's DER, each length-prefixed.
Result<std::string> ChainKey(STACK_OF(X509) * chain, const std::string& ca_bundle,
                             std::vector<std::string>* out_ders) {
  std::string key = ca_bundle;
  key.push_back('\0');
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    BH_ASSIGN(std::string der, crypto::ToDer(sk_X509_value(chain, i), i2d_X509,
                                             "encoding served certificate"));
    key += fmt::format("{}:", der.size());
    key += der;
    out_ders->push_back(std::move(der));
  }
  return key;
}

}  // namespace

Status Verifier::AddStore(const std::string& ca_bundle) {
  if (stores_.contains(ca_bundle)) {
    return OkStatus();
  }
  StorePtr store(X509_STORE_new());
  if (!store) {
    return crypto::OsslErr("creating trust store");
  }
  if (ca_bundle.empty()) {
    if (X509_STORE_set_default_paths(store.get()) != 1) {
      return crypto::OsslErr("loading the system trust store");
    }
  } else if (X509_STORE_load_file(store.get(), ca_bundle.c_str()) != 1) {
    return crypto::OsslErr(fmt::format("loading CA bundle {}", ca_bundle));
  }
  ERR_clear_error();
  stores_.emplace(ca_bundle, std::move(store));
  return OkStatus();
}

Result<std::shared_ptr<const ChainVerdict>> Verifier::Judge(STACK_OF(X509) * chain,
                                                            const std::string& ca_bundle) {
  if (chain == nullptr || sk_X509_num(chain) == 0) {
    return Err("server sent no certificate");
  }
  std::vector<std::string> ders;
  BH_ASSIGN(std::string key, ChainKey(chain, ca_bundle, &ders));
  if (auto it = cache_.find(key); it != cache_.end()) {
    return it->second;
  }
  auto verdict = std::make_shared<ChainVerdict>();
  std::string pem;
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), sk_X509_value(chain, i)) != 1) {
      return crypto::OsslErr("encoding served certificate");
    }
    pem += crypto::BioContents(bio.get());
  }
  auto parsed = crypto::ParsePemChain(pem);
  if (!parsed.ok()) {
    return parsed.error().Wrap("served chain");
  }
  verdict->chain =
      std::make_shared<const std::vector<crypto::CertInfo>>(std::move(parsed).value());
  X509* leaf = sk_X509_value(chain, 0);
  DescribeKey(leaf, &verdict->leaf_key);

  auto store = stores_.find(ca_bundle);
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (store == stores_.end() || !ctx ||
      X509_STORE_CTX_init(ctx.get(), store->second.get(), leaf, chain) != 1) {
    return crypto::OsslErr("setting up chain verification");
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  if (X509_verify_cert(ctx.get()) == 1) {
    verdict->valid = true;
  } else {
    int err = X509_STORE_CTX_get_error(ctx.get());
    verdict->error = X509_verify_cert_error_string(err);
  }
  ERR_clear_error();
  cache_.emplace(std::move(key), verdict);
  return std::shared_ptr<const ChainVerdict>(verdict);
}

std::string EffectiveSni(const ProbeRequest& req) {
  if (!req.sni.empty()) {
    return req.sni;
  }
  return IsIpLiteral(req.host) ? std::string() : req.host;
}

std::string EffectiveName(const ProbeRequest& req) {
  return req.sni.empty() ? req.host : req.sni;
}

void DescribeKey(X509* cert, LeafKey* out) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key != nullptr) {
    const char* type = EVP_PKEY_get0_type_name(key);
    out->key_type = type != nullptr ? type : "unknown";
    out->key_bits = EVP_PKEY_get_bits(key);
    std::array<char, 64> group{};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(),
                                       group.size(), &len) == 1) {
      out->curve.assign(group.data(), len);
    }
  }
  int nid = X509_get_signature_nid(cert);
  const char* name = nid != NID_undef ? OBJ_nid2ln(nid) : nullptr;
  out->signature_algorithm = name != nullptr ? name : "unknown";
  ERR_clear_error();
}

Result<ProbeResult> Analyse(SSL* ssl, const ProbeRequest& req, Verifier& verifier) {
  ProbeResult out;
  out.address = req.address;
  out.port = req.port;
  out.sni = EffectiveSni(req);
  out.tls_version = SSL_get_version(ssl);
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  out.cipher = cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "";
  auto verdict = verifier.Judge(SSL_get_peer_cert_chain(ssl), req.ca_bundle);
  if (!verdict.ok()) {
    return verdict.error().Wrap(fmt::format("{}: handshake", req.address));
  }
  out.chain = (*verdict)->chain;
  out.leaf_key = (*verdict)->leaf_key;
  out.chain_valid = (*verdict)->valid;
  out.chain_error = (*verdict)->error;
  out.checked_name = EffectiveName(req);
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf != nullptr && !out.checked_name.empty()) {
    if (IsIpLiteral(out.checked_name)) {
      out.hostname_match = X509_check_ip_asc(leaf, out.checked_name.c_str(), 0) == 1;
    } else {
      out.hostname_match = X509_check_host(leaf, out.checked_name.data(), out.checked_name.size(),
                                           X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
    }
  }
  ERR_clear_error();
  return out;
}

void ParseHttpHead(std::string_view head, ProbeResult* out) {
  size_t end = head.find("\r\n\r\n");
  if (end != std::string_view::npos) {
    head = head.substr(0, end + 2);
  }
  size_t nl = head.find('\n');
  std::string_view status = head.substr(0, nl);
  // "HTTP/1.1 200 OK"
  if (!status.starts_with("HTTP/") || status.size() < 12 || status[8] != ' ' ||
      !std::isdigit(static_cast<unsigned char>(status[9])) ||
      !std::isdigit(static_cast<unsigned char>(status[10])) ||
      !std::isdigit(static_cast<unsigned char>(status[11]))) {
    out->http_error = "malformed HTTP status line";
    return;
  }
  out->http_status = (status[9] - '0') * 100 + (status[10] - '0') * 10 + (status[11] - '0');
  while (nl != std::string_view::npos) {
    size_t start = nl + 1;
    nl = head.find('\n', start);
    std::string_view line =
        head.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      continue;
    }
    out->http_headers[AsciiLower(Trim(line.substr(0, colon)))] = std::string(Trim(line.substr(colon + 1)));
  }
}

}  // namespace bulkhead::probe
