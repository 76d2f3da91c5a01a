// Owning pointers for libcurl handles, shared by every file that talks
// HTTP through libcurl (the ACME transport, the http-01 pre-flight check).
// Below both acme/ and challenge/, so neither has to include the other.
#ifndef BULKHEAD_UTIL_CURL_PTR_H_
#define BULKHEAD_UTIL_CURL_PTR_H_

#include <curl/curl.h>

#include <memory>

namespace bulkhead {

// CurlPtr owns an easy handle; it cannot fail.
struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

// SlistPtr owns a header/resolve list; it cannot fail.
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_CURL_PTR_H_
