#include "probe/starttls.h"

#include <algorithm>

namespace bulkhead::probe {
namespace {

constexpr std::string_view kImapTag = "b1";

// The LDAP ExtendedRequest for StartTLS (RFC 4511 section 4.14.1):
// LDAPMessage { messageID 1, extendedReq { requestName
// "1.3.6.1.4.1.1466.20037" } }.
constexpr unsigned char kLdapStartTls[] = {
    0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16, '1', '.', '3', '.', '6', '.',
    '1',  '.',  '4',  '.',  '1',  '.',  '1',  '4',  '6',  '6', '.', '2', '0', '0', '3', '7'};

// The PostgreSQL SSLRequest message: length 8, code 80877103.
constexpr unsigned char kPostgresSslRequest[] = {0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f};

// TakeLine moves the first complete line (without its CR LF) out of `buf`.
bool TakeLine(std::string* buf, std::string* out_line) {
  size_t nl = buf->find('\n');
  if (nl == std::string::npos) {
    return false;
  }
  size_t end = nl > 0 && (*buf)[nl - 1] == '\r' ? nl - 1 : nl;
  out_line->assign(*buf, 0, end);
  buf->erase(0, nl + 1);
  return true;
}

// Quote keeps an error message short and printable whatever the peer sent.
std::string Quote(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return "\"" + out + "\"";
}

// SmtpReply takes one complete (possibly multi-line) SMTP reply from `buf`
// and returns its last line; false if it is not complete yet.
bool SmtpReply(std::string* buf, std::string* out_last) {
  // Look ahead without consuming until the final line ("ddd " or "ddd").
  size_t pos = 0;
  while (true) {
    size_t nl = buf->find('\n', pos);
    if (nl == std::string::npos) {
      return false;
    }
    std::string_view line(buf->data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.size() < 4 || line[3] != '-') {
      out_last->assign(line);
      buf->erase(0, nl + 1);
      return true;
    }
    pos = nl + 1;
  }
}

}  // namespace

StartTlsDialog::StartTlsDialog(StartTls mode) : mode_(mode) {
  if (mode_ == StartTls::kNone) {
    stage_ = kFinished;
  }
}

std::string StartTlsDialog::Start() {
  switch (mode_) {
    case StartTls::kLdap:
      stage_ = kUpgrade;
      return std::string(reinterpret_cast<const char*>(kLdapStartTls), sizeof(kLdapStartTls));
    case StartTls::kPostgres:
      stage_ = kUpgrade;
      return std::string(reinterpret_cast<const char*>(kPostgresSslRequest),
                         sizeof(kPostgresSslRequest));
    default:
      return std::string();
  }
}

StartTlsDialog::Step StartTlsDialog::Feed(std::string_view data, std::string* out_send,
                                          std::string* out_error) {
  if (stage_ == kFinished) {
    return Step::kDone;
  }
  if (buf_.size() + data.size() > kMaxStartTlsBytes) {
    *out_error = fmt::format("server sent more than {} bytes before TLS", kMaxStartTlsBytes);
    return Step::kFailed;
  }
  buf_.append(data);
  switch (mode_) {
    case StartTls::kLdap:
      return FeedLdap(out_error);
    case StartTls::kPostgres:
      return FeedPostgres(out_error);
    default:
      return FeedLineProtocol(out_send, out_error);
  }
}

StartTlsDialog::Step StartTlsDialog::FeedLineProtocol(std::string* out_send,
                                                      std::string* out_error) {
  std::string line;
  switch (mode_) {
    case StartTls::kSmtp: {
      if (!SmtpReply(&buf_, &line)) {
        return Step::kNeedMore;
      }
      static constexpr std::string_view kWant[] = {"220", "250", "220"};
      if (!line.starts_with(kWant[stage_])) {
        *out_error = fmt::format("SMTP: expected {}, got {}", kWant[stage_], Quote(line));
        return Step::kFailed;
      }
      if (stage_ == kGreeting) {
        stage_ = kCapabilities;
        *out_send = "EHLO bulkhead.invalid\r\n";
        return Step::kSend;
      }
      if (stage_ == kCapabilities) {
        stage_ = kUpgrade;
        *out_send = "STARTTLS\r\n";
        return Step::kSend;
      }
      stage_ = kFinished;
      return Step::kDone;
    }
    case StartTls::kImap: {
      while (TakeLine(&buf_, &line)) {
        if (stage_ == kGreeting) {
          if (!line.starts_with("* OK")) {
            *out_error = fmt::format("IMAP: unexpected greeting {}", Quote(line));
            return Step::kFailed;
          }
          stage_ = kUpgrade;
          *out_send = fmt::format("{} STARTTLS\r\n", kImapTag);
          return Step::kSend;
        }
        // Untagged lines ("* CAPABILITY ...") may precede the tagged answer.
        if (line.starts_with(kImapTag) && line.size() > kImapTag.size() &&
            line[kImapTag.size()] == ' ') {
          if (line.substr(kImapTag.size() + 1).starts_with("OK")) {
            stage_ = kFinished;
            return Step::kDone;
          }
          *out_error = fmt::format("IMAP: STARTTLS refused: {}", Quote(line));
          return Step::kFailed;
        }
      }
      return Step::kNeedMore;
    }
    case StartTls::kPop3: {
      if (!TakeLine(&buf_, &line)) {
        return Step::kNeedMore;
      }
      if (!line.starts_with("+OK")) {
        *out_error = fmt::format("POP3: expected +OK, got {}", Quote(line));
        return Step::kFailed;
      }
      if (stage_ == kGreeting) {
        stage_ = kUpgrade;
        *out_send = "STLS\r\n";
        return Step::kSend;
      }
      stage_ = kFinished;
      return Step::kDone;
    }
    default:
      *out_error = "internal: not a line protocol";
      return Step::kFailed;
  }
}

StartTlsDialog::Step StartTlsDialog::FeedLdap(std::string* out_error) {
  // LDAPMessage ::= SEQUENCE { messageID INTEGER, extendedResp [APPLICATION
  // 24] SEQUENCE { resultCode ENUMERATED, ... } }. Only short and one-
  // or two-byte long length forms occur in such a small reply.
  auto read_len = [this](size_t* pos, size_t* out_len) -> int {
    if (*pos >= buf_.size()) {
      return 0;
    }
    auto b = static_cast<unsigned char>(buf_[(*pos)++]);
    if (b < 0x80) {
      *out_len = b;
      return 1;
    }
    size_t n = b & 0x7f;
    if (n == 0 || n > 2) {
      return -1;
    }
    if (*pos + n > buf_.size()) {
      return 0;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; ++i) {
      len = (len << 8) | static_cast<unsigned char>(buf_[(*pos)++]);
    }
    *out_len = len;
    return 1;
  };
  size_t pos = 0;
  size_t len = 0;
  if (buf_.empty()) {
    return Step::kNeedMore;
  }
  if (static_cast<unsigned char>(buf_[pos++]) != 0x30) {
    *out_error = "LDAP: reply is not an LDAPMessage";
    return Step::kFailed;
  }
  int r = read_len(&pos, &len);
  if (r <= 0) {
    *out_error = "LDAP: bad length";
    return r == 0 ? Step::kNeedMore : Step::kFailed;
  }
  if (buf_.size() < pos + len) {
    return Step::kNeedMore;
  }
  // messageID
  if (pos + 2 > buf_.size() || buf_[pos] != 0x02) {
    *out_error = "LDAP: reply has no messageID";
    return Step::kFailed;
  }
  pos += 2 + static_cast<unsigned char>(buf_[pos + 1]);
  if (pos >= buf_.size() || static_cast<unsigned char>(buf_[pos]) != 0x78) {
    *out_error = "LDAP: reply is not an ExtendedResponse";
    return Step::kFailed;
  }
  ++pos;
  if (read_len(&pos, &len) != 1 || pos + 3 > buf_.size() || buf_[pos] != 0x0a ||
      buf_[pos + 1] != 0x01) {
    *out_error = "LDAP: malformed ExtendedResponse";
    return Step::kFailed;
  }
  int code = static_cast<unsigned char>(buf_[pos + 2]);
  if (code != 0) {
    *out_error = fmt::format("LDAP: StartTLS refused with resultCode {}", code);
    return Step::kFailed;
  }
  stage_ = kFinished;
  return Step::kDone;
}

StartTlsDialog::Step StartTlsDialog::FeedPostgres(std::string* out_error) {
  if (buf_.empty()) {
    return Step::kNeedMore;
  }
  if (buf_[0] != 'S') {
    *out_error = buf_[0] == 'N' ? "PostgreSQL: server does not accept SSL"
                                : "PostgreSQL: unexpected reply to SSLRequest";
    return Step::kFailed;
  }
  stage_ = kFinished;
  return Step::kDone;
}

Result<StartTls> ParseStartTls(std::string_view name) {
  static constexpr std::pair<std::string_view, StartTls> kModes[] = {
      {"none", StartTls::kNone}, {"smtp", StartTls::kSmtp},
      {"imap", StartTls::kImap}, {"pop3", StartTls::kPop3},
      {"ldap", StartTls::kLdap}, {"postgres", StartTls::kPostgres}};
  for (const auto& [n, m] : kModes) {
    if (n == name) {
      return m;
    }
  }
  return ErrCode(ErrorCode::kUsage,
                 "unknown STARTTLS protocol \"{}\" (none, smtp, imap, pop3, ldap, postgres)", name);
}

std::string_view StartTlsName(StartTls mode) {
  switch (mode) {
    case StartTls::kNone:
      return "none";
    case StartTls::kSmtp:
      return "smtp";
    case StartTls::kImap:
      return "imap";
    case StartTls::kPop3:
      return "pop3";
    case StartTls::kLdap:
      return "ldap";
    case StartTls::kPostgres:
      return "postgres";
  }
  return "none";
}

}  // namespace bulkhead::probe
