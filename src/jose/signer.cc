// The in-process JWS signer (jose/signer.h).
#include "jose/signer.h"

#include <utility>

#include "jose/jwk.h"
#include "jose/jws.h"

namespace bulkhead::jose {
namespace {

// LocalSigner keeps the account key in this process. The JWK and its
// thumbprint are computed once because every request needs one of them.
class LocalSigner final : public Signer {
 public:
  LocalSigner(crypto::PrivateKey key, nlohmann::json jwk, std::string thumbprint)
      : key_(std::move(key)), jwk_(std::move(jwk)), thumbprint_(std::move(thumbprint)) {}

  const nlohmann::json& Jwk() const override { return jwk_; }
  const std::string& Thumbprint() const override { return thumbprint_; }

  Result<nlohmann::json> Sign(const SignRequest& request) override {
    nlohmann::json header = {{"url", request.url}};
    if (!request.nonce.empty()) {
      header["nonce"] = request.nonce;
    }
    // RFC 8555 6.2: exactly one of "kid" (existing account) or "jwk".
    if (!request.kid.empty()) {
      header["kid"] = request.kid;
    } else {
      header["jwk"] = jwk_;
    }
    return SignFlattened(key_, std::move(header), request.payload);
  }

 private:
  crypto::PrivateKey key_;
  nlohmann::json jwk_;
  std::string thumbprint_;
};

}  // namespace

Result<std::unique_ptr<Signer>> NewSignerFromKey(crypto::PrivateKey key) {
  BH_ASSIGN(nlohmann::json jwk, PublicJwk(key));
  BH_ASSIGN(std::string thumbprint, Thumbprint(jwk));
  return std::unique_ptr<Signer>(
      std::make_unique<LocalSigner>(std::move(key), std::move(jwk), std::move(thumbprint)));
}

Result<std::unique_ptr<Signer>> NewLocalSigner(const Secret& key_pem) {
  auto key = crypto::PrivateKey::FromPem(key_pem.view());
  if (!key.ok()) {
    return key.error().Wrap("account key");
  }
  return NewSignerFromKey(std::move(key).value());
}

}  // namespace bulkhead::jose
