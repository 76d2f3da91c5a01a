// Base64url without padding (RFC 4648 section 5), as JOSE and ACME use it.
#ifndef BULKHEAD_UTIL_BASE64URL_H_
#define BULKHEAD_UTIL_BASE64URL_H_

#include <string>
#include <string_view>

#include "util/result.h"

namespace bulkhead {

// Base64UrlEncode returns the unpadded base64url encoding of `data`.
std::string Base64UrlEncode(std::string_view data);

// Base64UrlDecode decodes unpadded (or padded) base64url. It fails on any
// character outside the alphabet and on an impossible length.
Result<std::string> Base64UrlDecode(std::string_view text);

// IsBase64UrlToken reports whether `s` is non-empty and uses only the
// base64url alphabet, so that it is safe to use as a file name.
bool IsBase64UrlToken(std::string_view s);

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_BASE64URL_H_
