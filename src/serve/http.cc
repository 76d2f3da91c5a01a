#include "serve/http.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "util/text.h"

namespace bulkhead::serve {
namespace {

bool IsTokenChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

std::string HttpRequest::Header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? "" : it->second;
}

RequestParser::State RequestParser::Fail(int status, std::string reason) {
  error_status_ = status;
  error_reason_ = std::move(reason);
  state_ = State::kError;
  return state_;
}

RequestParser::State RequestParser::Feed(std::string_view data) {
  if (state_ != State::kNeedMore) {
    return state_;
  }
  buf_.append(data);
  if (!head_done_) {
    size_t line_end = buf_.find("\r\n");
    if (line_end == std::string::npos) {
      if (buf_.size() > limits_.max_request_line) {
        return Fail(414, "request line too long");
      }
      return State::kNeedMore;
    }
    if (line_end > limits_.max_request_line) {
      return Fail(414, "request line too long");
    }
    size_t head_end = buf_.find("\r\n\r\n");
    size_t cap = line_end + 2 + limits_.max_header_bytes;
    if (head_end == std::string::npos) {
      if (buf_.size() > cap + 2) {
        return Fail(431, "header fields too large");
      }
      return State::kNeedMore;
    }
    if (head_end + 2 > cap) {
      return Fail(431, "header fields too large");
    }
    if (ParseHead(head_end) == State::kError) {
      return state_;
    }
  }
  if (buf_.size() - body_start_ >= content_length_) {
    request_.body = buf_.substr(body_start_, content_length_);
    buf_.clear();
    state_ = State::kDone;
  }
  return state_;
}

RequestParser::State RequestParser::ParseHead(size_t head_end) {
  std::string_view head(buf_.data(), head_end);
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Fail(400, "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), IsTokenChar)) {
    return Fail(400, "malformed method");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return Fail(505, "only HTTP/1.0 and HTTP/1.1");
  }
  if (target.empty() || target.front() != '/') {
    return Fail(400, "target must be an absolute path");
  }
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return Fail(400, "bad character in target");
    }
  }
  request_.method = std::string(method);
  request_.target = std::string(target);
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  if (q != std::string_view::npos) {
    request_.query = std::string(target.substr(q + 1));
  }
  if (!PercentDecode(raw_path, &request_.path)) {
    return Fail(400, "bad percent-encoding in path");
  }

  size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) {
      end = head.size();
    }
    std::string_view h = head.substr(pos, end - pos);
    pos = end + 2;
    if (!h.empty() && (h.front() == ' ' || h.front() == '\t')) {
      return Fail(400, "obsolete header folding");
    }
    size_t colon = h.find(':');
    if (colon == 0 || colon == std::string_view::npos) {
      return Fail(400, "malformed header line");
    }
    std::string_view name = h.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return Fail(400, "malformed header name");
    }
    std::string_view value = TrimBlanks(h.substr(colon + 1));
    for (char c : value) {
      unsigned char u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return Fail(400, "control character in header value");
      }
    }
    if (request_.headers.size() >= limits_.max_headers) {
      return Fail(431, "too many header fields");
    }
    std::string key = AsciiLower(name);
    if ((key == "content-length" || key == "host") && request_.headers.count(key) != 0) {
      return Fail(400, "repeated " + key);
    }
    request_.headers.emplace(std::move(key), std::string(value));
  }

  if (request_.headers.count("transfer-encoding") != 0) {
    return Fail(501, "transfer-encoding not supported");
  }
  std::string cl = request_.Header("content-length");
  if (!cl.empty()) {
    size_t n = 0;
    auto [ptr, ec] = std::from_chars(cl.data(), cl.data() + cl.size(), n);
    if (ec == std::errc::result_out_of_range) {
      return Fail(413, "body too large");
    }
    if (ec != std::errc() || ptr != cl.data() + cl.size()) {
      return Fail(400, "malformed content-length");
    }
    if (n > limits_.max_body) {
      return Fail(413, "body too large");
    }
    content_length_ = n;
  } else if (request_.method == "POST" || request_.method == "PUT") {
    return Fail(411, "content-length required");
  }
  head_done_ = true;
  body_start_ = head_end + 4;
  return State::kNeedMore;
}

std::string_view StatusText(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string SerializeResponse(const HttpResponse& response, bool head_only) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", response.status, StatusText(response.status));
  if (!response.content_type.empty()) {
    out += fmt::format("Content-Type: {}\r\n", response.content_type);
  }
  out += fmt::format("Content-Length: {}\r\n", response.body.size());
  // Nothing we serve is meant to be framed or to load foreign content.
  out +=
      "Connection: close\r\n"
      "Cache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\n"
      "X-Frame-Options: DENY\r\n"
      "Referrer-Policy: no-referrer\r\n"
      "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
      "frame-ancestors 'none'\r\n";
  for (const auto& [name, value] : response.headers) {
    out += fmt::format("{}: {}\r\n", name, value);
  }
  out += "\r\n";
  if (!head_only) {
    out += response.body;
  }
  return out;
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return false;
    }
    int hi = HexDigitValue(in[i + 1]);
    int lo = HexDigitValue(in[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      return false;
    }
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::string QueryParam(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view part = query.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
    size_t eq = part.find('=');
    if (part.substr(0, eq) == name) {
      std::string raw(eq == std::string_view::npos ? "" : part.substr(eq + 1));
      std::replace(raw.begin(), raw.end(), '+', ' ');
      std::string out;
      return PercentDecode(raw, &out) ? out : "";
    }
    if (amp == std::string_view::npos) {
      break;
    }
    pos = amp + 1;
  }
  return "";
}

}  // namespace bulkhead::serve
