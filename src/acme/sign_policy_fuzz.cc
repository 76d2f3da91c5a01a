// Fuzz target for the signer's request policy (acme/sign_policy.h): the
// signer parses every payload a possibly hostile net role sends. Besides
// memory safety, the policy must never allow a request that is not one of
// the shapes its operation permits: an allowed request must carry a nonce,
// a URL on the CA's origin, and (for an issuing run) an empty payload, "{}",
// or a JSON object whose members are those of newOrder or finalize.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "acme/http.h"
#include "acme/sign_policy.h"
#include "util/json.h"

namespace {

// Split cuts `data` at the first NUL into a URL and a payload; the first
// byte picks the operation.
struct Input {
  bulkhead::acme::SignOperation op;
  std::string url;
  std::string payload;
};

Input Parse(std::string_view data) {
  Input in{bulkhead::acme::SignOperation::kIssue, "", ""};
  if (!data.empty()) {
    in.op = static_cast<bulkhead::acme::SignOperation>(static_cast<unsigned char>(data[0]) % 6);
    data.remove_prefix(1);
  }
  size_t nul = data.find('\0');
  in.url = std::string(data.substr(0, nul));
  in.payload = nul == std::string_view::npos ? "" : std::string(data.substr(nul + 1));
  return in;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bulkhead::acme;
  Input in = Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  SignPolicy p;
  p.operation = in.op;
  p.origin = "https://ca.test:14000";
  p.account_url = "https://ca.test:14000/acct/1";
  p.names = {"a.example.org", "192.0.2.1"};
  p.csr_der = "csr";
  p.contact = {"mailto:a@example.org"};
  p.revoke_cert_der = "cert";
  bulkhead::jose::SignRequest req{in.url, "nonce", p.account_url, in.payload};
  bulkhead::Status st = CheckSignRequest(p, req);
  if (st.ok()) {
    if (UrlOrigin(in.url) != p.origin) {
      std::abort();
    }
    if (in.op == SignOperation::kIssue && !in.payload.empty() && in.payload != "{}") {
      nlohmann::json j = bulkhead::ParseUntrustedJson(in.payload);
      if (!j.is_object() || !(j.contains("identifiers") || j.contains("csr"))) {
        std::abort();
      }
    }
  } else if (st.error().message.empty()) {
    std::abort();
  }
  (void)CheckKeyChangeInner(p, in.url, in.payload);
  return 0;
}
