// Fuzz target for the parsers of the CA's JSON resources: directory, order,
// authorization and account bodies come straight from the network (RFC 8555
// section 7.1), so every one of them must turn any byte string into either a
// value or an Error, never a crash, an exception or a hang. Each input is fed
// to all four parsers, since one JSON text can look like any of them.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "acme/problem.h"
#include "acme/types.h"

namespace {

// kUrl is the URL the resource was fetched from; parsers only record it.
const std::string kUrl = "https://ca.test/acme/resource/1";

// Touch handles a problem member the way the issuance code does: dumped
// and read back as a problem document, then rendered for the operator.
void Touch(const nlohmann::json& j) {
  if (j.is_null()) {
    return;
  }
  std::string text = j.dump();
  if (text.empty()) {
    std::abort();
  }
  (void)bulkhead::acme::ParseProblem(text, 0).Message();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  using namespace bulkhead::acme;

  auto dir = ParseDirectory(body);
  if (dir.ok()) {
    // The parser promises https URLs for the mandatory resources.
    if (dir->new_nonce.rfind("https://", 0) != 0 || dir->new_account.rfind("https://", 0) != 0 ||
        dir->new_order.rfind("https://", 0) != 0) {
      std::abort();
    }
    if (!dir->profiles.is_null() && !dir->profiles.is_object()) {
      std::abort();  // Only an object is kept.
    }
  } else if (dir.error().message.empty()) {
    std::abort();  // Every rejection must say why.
  }

  auto order = ParseOrder(body, kUrl);
  if (order.ok()) {
    Touch(order->error);
    for (const Identifier& id : order->identifiers) {
      (void)id.ToString();
    }
  } else if (order.error().message.empty()) {
    std::abort();
  }

  auto authz = ParseAuthorization(body, kUrl);
  if (authz.ok()) {
    (void)authz->identifier.ToString();
    for (const Challenge& c : authz->challenges) {
      Touch(c.error);
    }
  } else if (authz.error().message.empty()) {
    std::abort();
  }

  auto account = ParseAccount(body, kUrl);
  if (!account.ok() && account.error().message.empty()) {
    std::abort();
  }
  return 0;
}
