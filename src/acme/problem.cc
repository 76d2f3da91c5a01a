// ACME problem documents: parsed leniently (a CA's error must never turn into
// a second, confusing error) and rendered as one readable message.
#include "acme/problem.h"

#include "util/json.h"

#include <ctime>
#include <string_view>

namespace bulkhead::acme {
namespace {

constexpr std::string_view kAcmeErrorPrefix = "urn:ietf:params:acme:error:";

// kMaxExcerptBytes bounds how much of a non-JSON body is quoted in a message.
constexpr size_t kMaxExcerptBytes = 200;

// kMaxSubproblems bounds the message a hostile CA can make us print.
constexpr size_t kMaxSubproblems = 100;

// Printable keeps a peer's text safe for a terminal or log: control bytes
// (which could move the cursor or forge log lines) become spaces, runs of
// whitespace collapse, and at most `max_bytes` input bytes are used. With
// `ascii_only` (for bodies of unknown encoding, possibly cut mid-character)
// other bytes become '?'.
std::string Printable(std::string_view s, size_t max_bytes, bool ascii_only = false) {
  std::string out;
  bool truncated = s.size() > max_bytes;
  s = s.substr(0, max_bytes);
  bool space = false;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      space = true;
      continue;
    }
    if (c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) {
      out += ' ';
    }
    space = false;
    out += (ascii_only && c >= 0x80) ? '?' : ch;
  }
  if (truncated) {
    out += "...";
  }
  return out;
}

// StringMember returns obj[key] if it is a string, else "".
std::string StringMember(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return "";
  }
  return it->get<std::string>();
}

// kMaxTextBytes bounds each text member; CAs send a sentence, not a book.
constexpr size_t kMaxTextBytes = 4096;

// FromObject reads the members of one problem object; `depth` 0 is the top
// level, whose subproblems are read one level deep only (RFC 8555 does not
// nest them, so deeper ones are ignored rather than recursed into).
Problem FromObject(const nlohmann::json& obj, int http_status, int depth) {
  Problem p;
  p.type = Printable(StringMember(obj, "type"), kMaxTextBytes);
  p.detail = Printable(StringMember(obj, "detail"), kMaxTextBytes);
  p.status = http_status;
  auto status = obj.find("status");
  if (status != obj.end() && status->is_number_integer()) {
    auto v = status->get<long long>();
    if (v >= 100 && v <= 599) {
      p.status = static_cast<int>(v);
    }
  }
  auto id = obj.find("identifier");
  if (id != obj.end() && id->is_object()) {
    std::string type = StringMember(*id, "type");
    std::string value = StringMember(*id, "value");
    if (!value.empty()) {
      p.identifier = Printable((type.empty() ? "" : type + ":") + value, kMaxTextBytes);
    }
  }
  auto subs = obj.find("subproblems");
  if (depth == 0 && subs != obj.end() && subs->is_array()) {
    for (const auto& sub : *subs) {
      if (!sub.is_object()) {
        continue;
      }
      if (p.subproblems.size() == kMaxSubproblems) {
        break;
      }
      // A subproblem without its own status carries no HTTP status: it is
      // part of the response whose status the parent holds.
      p.subproblems.push_back(FromObject(sub, /*http_status=*/0, depth + 1));
    }
  }
  return p;
}

}  // namespace

std::string Problem::ShortType() const {
  std::string_view t = type;
  if (t.substr(0, kAcmeErrorPrefix.size()) == kAcmeErrorPrefix) {
    return std::string(t.substr(kAcmeErrorPrefix.size()));
  }
  return type;
}

std::string Problem::Message() const {
  std::string out;
  auto add = [&out](std::string_view part) {
    if (part.empty()) {
      return;
    }
    if (!out.empty()) {
      out += ": ";
    }
    out += part;
  };
  add(identifier);
  std::string short_type = ShortType();
  if (short_type.empty() && status != 0) {
    short_type = fmt::format("HTTP {}", status);
  }
  add(short_type);
  add(detail);
  if (out.empty()) {
    out = "unspecified problem";
  }
  for (const Problem& sub : subproblems) {
    out += "\n  ";
    out += sub.Message();
  }
  return out;
}

Problem ParseProblem(std::string_view body, int http_status) {
  try {
    nlohmann::json doc = ParseUntrustedJson(body);
    if (doc.is_object()) {
      return FromObject(doc, http_status, /*depth=*/0);
    }
  } catch (const std::exception&) {
    // Fall through: treated as not a problem document. (parse itself does
    // not throw with allow_exceptions=false; this guards member access.)
  }
  Problem p;
  p.status = http_status;
  std::string excerpt = Printable(body, kMaxExcerptBytes, /*ascii_only=*/true);
  if (excerpt.empty()) {
    p.detail = fmt::format("the CA answered HTTP {} without a problem document", http_status);
  } else {
    p.detail = fmt::format("the CA answered HTTP {} with a body that is not a problem document: {}",
                           http_status, excerpt);
  }
  return p;
}

Error ProblemError(const Problem& p, std::string_view context, long retry_after_seconds) {
  bool transient = p.Is("rateLimited") || p.Is("serverInternal") || p.status >= 500;
  std::string message = p.Message();
  if (retry_after_seconds >= 0) {
    // The hint goes on the first line, before any subproblem lines.
    time_t at = std::time(nullptr) + static_cast<time_t>(retry_after_seconds);
    std::tm tm{};
    gmtime_r(&at, &tm);
    char when[32];
    size_t len = std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::string hint = fmt::format(" (retry after {} seconds, at {})", retry_after_seconds,
                                   std::string_view(when, len));
    size_t eol = message.find('\n');
    message.insert(eol == std::string::npos ? message.size() : eol, hint);
  }
  Error e;
  e.message = context.empty() ? message : fmt::format("{}: {}", context, message);
  e.code = transient ? ErrorCode::kTransient : ErrorCode::kFailure;
  return e;
}

}  // namespace bulkhead::acme
