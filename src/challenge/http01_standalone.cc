// The standalone publisher: a tiny HTTP server on its own thread that answers
// only GET /.well-known/acme-challenge/<token>. All connections are served
// from one poll(2) loop with non-blocking sockets, so a slow client delays
// nobody and each connection has its own deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "challenge/http01.h"
#include "util/base64url.h"
#include "util/fs.h"
#include "util/log.h"

namespace bulkhead::challenge {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequestHead = 8 << 10;
constexpr auto kConnectionTimeout = std::chrono::seconds(10);
constexpr auto kDrainTimeout = std::chrono::seconds(2);
// Beyond this many open connections new ones wait in the listen backlog.
constexpr size_t kMaxConnections = 64;
constexpr std::string_view kChallengePrefix = "/.well-known/acme-challenge/";
constexpr size_t kMaxShown = 64;

// Printable renders peer-supplied text for messages: printable ASCII only,
// truncated.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxShown)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (s.size() > kMaxShown) {
    out += "...";
  }
  return "\"" + out + "\"";
}

// SplitHostPort parses "host:port" or "[v6]:port".
Status SplitHostPort(std::string_view addr, std::string* out_host, std::string* out_port) {
  std::string_view host;
  std::string_view port;
  if (!addr.empty() && addr[0] == '[') {
    size_t close = addr.find(']');
    if (close == std::string_view::npos || close + 1 >= addr.size() || addr[close + 1] != ':') {
      return ErrCode(ErrorCode::kUsage, "listen address {}: expected [address]:port",
                     Printable(addr));
    }
    host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
  } else {
    size_t colon = addr.rfind(':');
    if (colon == std::string_view::npos) {
      return ErrCode(ErrorCode::kUsage, "listen address {}: expected host:port", Printable(addr));
    }
    host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return ErrCode(ErrorCode::kUsage, "listen address {}: write IPv6 addresses as [addr]:port",
                     Printable(addr));
    }
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoi(std::string(port)) > 65535) {
    return ErrCode(ErrorCode::kUsage, "listen address {}: invalid port", Printable(addr));
  }
  *out_host = std::string(host);
  *out_port = std::string(port);
  return OkStatus();
}

}  // namespace

Result<ScopedFd> ListenStandalone(const std::string& addr_port) {
  std::string host;
  std::string port;
  BH_TRY(SplitHostPort(addr_port, &host, &port));
  struct addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  struct addrinfo* res = nullptr;
  int gai = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
  if (gai != 0) {
    return Err("listen address {}: {}", addr_port, ::gai_strerror(gai));
  }
  std::unique_ptr<struct addrinfo, decltype(&::freeaddrinfo)> res_owner(res, ::freeaddrinfo);

  ScopedFd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Err("creating socket for {}: {}", addr_port, std::strerror(errno));
  }
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return Err("setsockopt SO_REUSEADDR for {}: {}", addr_port, std::strerror(errno));
  }
  if (::bind(fd.get(), res->ai_addr, res->ai_addrlen) != 0) {
    int err = errno;
    std::string hint;
    if (err == EADDRINUSE || err == EACCES) {
      hint = " (port in use or needs privileges)";
    }
    return Err("cannot listen on {}: {}{}", addr_port, std::strerror(err), hint);
  }
  if (::listen(fd.get(), 64) != 0) {
    return Err("listen on {}: {}", addr_port, std::strerror(errno));
  }
  return fd;
}

namespace {

// BoundAddress returns "addr:port" / "[addr]:port" of a bound socket.
std::string BoundAddress(int fd, const std::string& fallback) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len) != 0) {
    return fallback;
  }
  char buf[INET6_ADDRSTRLEN];
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<struct sockaddr_in*>(&ss);
    if (::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)) != nullptr) {
      return fmt::format("{}:{}", buf, ntohs(sin->sin_port));
    }
  } else if (ss.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(&ss);
    if (::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf)) != nullptr) {
      return fmt::format("[{}]:{}", buf, ntohs(sin6->sin6_port));
    }
  }
  return fallback;
}

struct Connection {
  ScopedFd fd;
  Clock::time_point deadline;
  std::string in;
  std::string out;  // Non-empty once the response is ready.
  size_t out_sent = 0;
  bool draining = false;  // Response sent; reading until the peer closes.
};

class StandalonePublisher : public Publisher {
 public:
  StandalonePublisher(ScopedFd listener, ScopedFd wake_read, ScopedFd wake_write,
                      std::string address)
      : listener_(std::move(listener)),
        wake_read_(std::move(wake_read)),
        wake_write_(std::move(wake_write)),
        address_(std::move(address)) {}

  ~StandalonePublisher() override {
    if (!thread_.joinable()) {
      return;
    }
    char b = 1;
    while (::write(wake_write_.get(), &b, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }

  // Start launches the server thread; fails if no thread can be created.
  Status Start() {
    try {
      thread_ = std::thread([this] { Serve(); });
    } catch (const std::system_error& e) {
      return Err("http-01 server on {}: starting thread: {}", address_, e.what());
    }
    return OkStatus();
  }

  std::string_view ChallengeType() const override { return kHttp01; }

  Status Publish(const Challenge& challenge) override {
    if (!IsBase64UrlToken(challenge.token)) {
      return Err("refusing challenge token {}: not base64url", Printable(challenge.token));
    }
    std::lock_guard<std::mutex> lock(mu_);
    tokens_[challenge.token] = challenge.key_authorization;
    return OkStatus();
  }

  Status Remove(const Challenge& challenge) override {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_.erase(challenge.token);
    return OkStatus();
  }

  // WaitReady: the server answers for a token once Publish returns.
  Status WaitReady() override { return OkStatus(); }

  std::string Describe() const override { return "standalone server on " + address_; }

 private:
  // Serve runs the poll loop until the wake pipe becomes readable.
  void Serve() {
    std::vector<Connection> conns;
    std::vector<struct pollfd> pfds;
    for (;;) {
      pfds.clear();
      pfds.push_back({wake_read_.get(), POLLIN, 0});
      // Stop accepting while full; waiting clients stay in the backlog.
      pfds.push_back(
          {listener_.get(), static_cast<short>(conns.size() < kMaxConnections ? POLLIN : 0), 0});
      auto now = Clock::now();
      auto next_deadline = now + kConnectionTimeout;
      for (const Connection& c : conns) {
        bool want_read = c.out.empty() || c.draining;
        pfds.push_back({c.fd.get(), static_cast<short>(want_read ? POLLIN : POLLOUT), 0});
        next_deadline = std::min(next_deadline, c.deadline);
      }
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_deadline - now);
      int timeout_ms = static_cast<int>(std::max<int64_t>(wait.count(), 0) + 1);
      int n = ::poll(pfds.data(), pfds.size(), timeout_ms);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        LogError("http-01 server on {}: poll: {}", address_, std::strerror(errno));
        return;
      }
      if (pfds[0].revents != 0) {
        return;
      }
      // Service existing connections first; indices line up with pfds[2..].
      now = Clock::now();
      std::vector<Connection> keep;
      keep.reserve(conns.size() + 1);
      for (size_t i = 0; i < conns.size(); ++i) {
        Connection& c = conns[i];
        short re = pfds[i + 2].revents;
        bool alive = true;
        if (re != 0) {
          if (c.draining) {
            alive = OnDrain(c);
          } else {
            alive = c.out.empty() ? OnReadable(c) : OnWritable(c);
          }
        }
        if (alive && now >= c.deadline) {
          if (!c.draining) {
            LogDebug("http-01 server on {}: connection timed out", address_);
          }
          alive = false;
        }
        if (alive) {
          keep.push_back(std::move(c));
        }
      }
      conns = std::move(keep);
      if ((pfds[1].revents & POLLIN) != 0) {
        Accept(&conns);
      }
    }
  }

  void Accept(std::vector<Connection>* conns) {
    while (conns->size() < kMaxConnections) {
      int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          LogWarn("http-01 server on {}: accept: {}", address_, std::strerror(errno));
        }
        return;
      }
      Connection c;
      c.fd.reset(fd);
      c.deadline = Clock::now() + kConnectionTimeout;
      conns->push_back(std::move(c));
    }
  }

  // OnReadable reads more of the request head; returns false to close.
  bool OnReadable(Connection& c) {
    char buf[2048];
    ssize_t n = ::recv(c.fd.get(), buf, sizeof(buf), 0);
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    if (n == 0) {
      return false;  // Closed before sending a whole request.
    }
    c.in.append(buf, static_cast<size_t>(n));
    size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) {
      end = c.in.find("\n\n");
    }
    if (end == std::string::npos) {
      if (c.in.size() > kMaxRequestHead) {
        c.out = Response(431, "Request Header Fields Too Large", "request head too large\n");
        return OnWritable(c);
      }
      return true;
    }
    if (end > kMaxRequestHead) {
      c.out = Response(431, "Request Header Fields Too Large", "request head too large\n");
    } else {
      c.out = Answer(c.in.substr(0, c.in.find('\n')));
    }
    return OnWritable(c);
  }

  // OnWritable sends more of the response; returns false if sending failed.
  bool OnWritable(Connection& c) {
    while (c.out_sent < c.out.size()) {
      ssize_t n =
          ::send(c.fd.get(), c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (n < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
      }
      c.out_sent += static_cast<size_t>(n);
    }
    // Closing with unread request bytes would make the kernel send a reset
    // that can destroy the response in flight; so half-close and wait for
    // the peer to close, briefly.
    ::shutdown(c.fd.get(), SHUT_WR);
    c.draining = true;
    c.deadline = std::min(c.deadline, Clock::now() + kDrainTimeout);
    return true;
  }

  // OnDrain discards whatever the peer still sends; returns false at EOF.
  bool OnDrain(Connection& c) {
    char buf[2048];
    ssize_t n = ::recv(c.fd.get(), buf, sizeof(buf), 0);
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
    return n > 0;
  }

  // Answer builds the response to a request line "GET /path HTTP/1.1".
  std::string Answer(std::string_view line) {
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    std::string_view method = line.substr(0, sp1);
    std::string_view target;
    if (sp1 != std::string_view::npos) {
      target = line.substr(sp1 + 1, sp2 == std::string_view::npos ? sp2 : sp2 - sp1 - 1);
    }
    // HEAD gets the same headers without a body, as HTTP requires.
    bool with_body = method != "HEAD";
    std::string body;
    bool found = false;
    if ((method == "GET" || method == "HEAD") &&
        target.substr(0, kChallengePrefix.size()) == kChallengePrefix) {
      std::string token(target.substr(kChallengePrefix.size()));
      std::lock_guard<std::mutex> lock(mu_);
      auto it = tokens_.find(token);
      if (it != tokens_.end()) {
        body = it->second;
        found = true;
      }
    }
    LogDebug("http-01 server on {}: {} {} -> {}", address_, Printable(method), Printable(target),
             found ? 200 : 404);
    if (found) {
      return Response(200, "OK", body, with_body);
    }
    return Response(404, "Not Found", "not found\n", with_body);
  }

  static std::string Response(int status, std::string_view text, std::string_view body,
                              bool with_body = true) {
    return fmt::format(
        "HTTP/1.0 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n"
        "Connection: close\r\n\r\n{}",
        status, text, body.size(), with_body ? body : std::string_view());
  }

  ScopedFd listener_;
  ScopedFd wake_read_;
  ScopedFd wake_write_;
  std::string address_;
  std::mutex mu_;
  std::map<std::string, std::string> tokens_;  // Guarded by mu_.
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Publisher>> NewStandalonePublisher(const std::string& addr_port) {
  BH_ASSIGN(ScopedFd listener, ListenStandalone(addr_port));
  return NewStandalonePublisher(std::move(listener), addr_port);
}

Result<std::unique_ptr<Publisher>> NewStandalonePublisher(ScopedFd listener,
                                                          const std::string& addr_port) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Err("creating wake-up pipe: {}", std::strerror(errno));
  }
  ScopedFd wake_read(pipefd[0]);
  ScopedFd wake_write(pipefd[1]);
  std::string address = BoundAddress(listener.get(), addr_port);
  auto server = std::make_unique<StandalonePublisher>(std::move(listener), std::move(wake_read),
                                                      std::move(wake_write), std::move(address));
  BH_TRY(server->Start());
  return std::unique_ptr<Publisher>(std::move(server));
}

}  // namespace bulkhead::challenge
