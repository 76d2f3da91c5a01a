// Fuzz target for the header helpers that read CA responses: Link headers
// (RFC 8288, used for alternate chains and "up" links), URL resolution of
// what they point at, origins (used to refuse cross-origin URLs) and
// Retry-After (delta-seconds or HTTP-date). All take arbitrary bytes from
// the network and must never crash or hang.
//
// Input layout: the bytes up to the first '\n' are the base URL, the rest
// is the header value. Inputs without '\n' use a fixed https base.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "acme/http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bulkhead::acme;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view base = "https://ca.test:14000/acme/cert/abc";
  std::string_view value = input;
  size_t nl = input.find('\n');
  if (nl != std::string_view::npos) {
    base = input.substr(0, nl);
    value = input.substr(nl + 1);
  }

  for (const auto& [target, rel] : ParseLinkHeader(value)) {
    if (rel.empty()) {
      std::abort();  // Links without rel are documented to be dropped.
    }
    std::string resolved = ResolveUrl(base, target);
    (void)UrlOrigin(resolved);
  }
  (void)ResolveUrl(base, value);
  (void)ResolveUrl(value, base);
  (void)UrlOrigin(value);
  std::string origin = UrlOrigin(base);
  if (!origin.empty() && origin.find("://") == std::string::npos) {
    std::abort();
  }

  HttpResponse resp;
  resp.status = 200;
  resp.headers.emplace("link", std::string(value));
  resp.headers.emplace("retry-after", std::string(value));
  (void)resp.Links("alternate", base);
  (void)resp.Links("up", base);
  // Far-apart clocks exercise the subtraction in the HTTP-date form.
  for (long now : {0L, 1700000000L, -1L, 0x7fffffffffffffffL}) {
    long wait = resp.RetryAfterSeconds(now);
    if (wait < -1) {
      std::abort();  // -1 means absent/invalid; a wait is never negative.
    }
  }
  return 0;
}
