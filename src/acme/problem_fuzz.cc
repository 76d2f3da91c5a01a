// Fuzz target for problem documents (RFC 8555 section 6.7): a CA's error
// body is parsed leniently and printed to the operator, so besides memory
// safety the rendered message must stay free of control bytes other than the
// newlines that separate subproblems (a hostile CA must not be able to move
// the terminal cursor or forge log lines).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "acme/problem.h"

namespace {

// CheckPrintable aborts if `s` holds a control byte other than '\n'.
void CheckPrintable(const std::string& s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n') || c == 0x7f) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bulkhead::acme;
  // The first byte picks the HTTP status the body came with, so both the
  // 4xx and 5xx paths (transient or not) are reached.
  int http_status = 400;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  if (!body.empty()) {
    http_status = 400 + static_cast<unsigned char>(body.front()) % 200;
    body.remove_prefix(1);
  }
  Problem p = ParseProblem(body, http_status);
  std::string message = p.Message();
  if (message.empty()) {
    std::abort();  // Message promises one line even for an empty problem.
  }
  CheckPrintable(message);
  (void)p.ShortType();
  for (const Problem& sub : p.subproblems) {
    (void)sub.Message();
  }
  bulkhead::Error e = ProblemError(p, "fuzzing", /*retry_after_seconds=*/-1);
  bulkhead::Error with_retry = ProblemError(p, "", /*retry_after_seconds=*/86400);
  if (e.message.empty() || with_retry.message.empty()) {
    std::abort();
  }
  return 0;
}
