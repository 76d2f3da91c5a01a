// ACME problem documents (RFC 8555 section 6.7, RFC 7807).
#ifndef BULKHEAD_ACME_PROBLEM_H_
#define BULKHEAD_ACME_PROBLEM_H_

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "util/result.h"

namespace bulkhead::acme {

// Problem is one parsed problem document.
struct Problem {
  std::string type;        // Full URN, e.g. "urn:ietf:params:acme:error:badNonce".
  std::string detail;      // The CA's text (may be empty).
  std::string identifier;  // "dns:example.com" when the CA names one, else "".
  int status = 0;          // HTTP status in the document, or 0.
  std::vector<Problem> subproblems;

  // ShortType returns the part after "urn:ietf:params:acme:error:" (or the
  // whole type for non-ACME types).
  std::string ShortType() const;
  bool Is(std::string_view short_type) const { return ShortType() == short_type; }

  // Message renders one clear line: "<identifier>: <type>: <detail>" and,
  // indented on following lines, each subproblem the same way.
  std::string Message() const;
};

// ParseProblem reads a problem document. Never fails on odd input: missing or
// ill-typed members become empty, and a body that is not JSON becomes a
// problem whose detail says so (with at most 200 bytes of the body, printable
// characters only).
Problem ParseProblem(std::string_view body, int http_status);

// ProblemError turns a problem into an Error: ErrorCode::kTransient for
// rateLimited, serverInternal and 5xx statuses, kFailure otherwise.
// `context` names the step ("finalizing order ...").
Error ProblemError(const Problem& p, std::string_view context, long retry_after_seconds = -1);

}  // namespace bulkhead::acme

#endif  // BULKHEAD_ACME_PROBLEM_H_
