#include "serve/server.h"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "util/text.h"

namespace bulkhead::serve {
namespace {

constexpr size_t kReadChunk = 4096;

HttpResponse ErrorResponse(int status, std::string_view reason) {
  HttpResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", std::string(reason)}}.dump() + "\n";
  return r;
}

// PerClient counts one connection of one client address while it lives.
class PerClient {
 public:
  PerClient(std::shared_ptr<std::map<asio::ip::address, int>> counts, asio::ip::address address)
      : counts_(std::move(counts)), address_(std::move(address)) {
    ++(*counts_)[address_];
  }
  PerClient(const PerClient&) = delete;
  PerClient& operator=(const PerClient&) = delete;
  ~PerClient() {
    auto it = counts_->find(address_);
    if (it != counts_->end() && --it->second <= 0) {
      counts_->erase(it);
    }
  }

 private:
  std::shared_ptr<std::map<asio::ip::address, int>> counts_;
  asio::ip::address address_;
};

// Connection serves one request, then closes. It keeps itself alive through
// the shared_ptr captured by its pending operations.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::ip::tcp::socket socket, const ServerLimits& limits, const Handler& handler,
             std::shared_ptr<int> active, std::unique_ptr<PerClient> per_client,
             const std::vector<std::string>& host_names, uint16_t port)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        parser_(limits.http),
        limits_(limits),
        handler_(handler),
        active_(std::move(active)),
        per_client_(std::move(per_client)),
        host_names_(host_names),
        port_(port) {
    ++*active_;
  }
  ~Connection() { --*active_; }

  void Start() {
    auto self = shared_from_this();
    timer_.expires_after(limits_.request_timeout);
    timer_.async_wait([self](const asio::error_code& ec) {
      if (!ec) {
        // Deadline passed: abandon the exchange whatever stage it is in.
        asio::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    Read();
  }

  // Refuse answers 503 at once (over the connection limit).
  void Refuse() {
    timer_.expires_after(limits_.request_timeout);
    auto self = shared_from_this();
    timer_.async_wait([self](const asio::error_code& ec) {
      if (!ec) {
        asio::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    Write(ErrorResponse(503, "too many connections"), /*head_only=*/false);
  }

 private:
  void Read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(buf_), [self](const asio::error_code& ec, size_t n) {
      if (ec) {
        self->Finish();
        return;
      }
      switch (self->parser_.Feed(std::string_view(self->buf_.data(), n))) {
        case RequestParser::State::kNeedMore:
          self->Read();
          return;
        case RequestParser::State::kError:
          self->Write(ErrorResponse(self->parser_.error_status(), self->parser_.error_reason()),
                      false);
          return;
        case RequestParser::State::kDone: {
          const HttpRequest& req = self->parser_.request();
          std::string host = req.Header("host");
          if (host.empty()) {
            self->Write(ErrorResponse(400, "the request has no Host header"), /*head_only=*/false);
            return;
          }
          if (!HostAllowed(host, self->host_names_, self->port_)) {
            // Quoted only as printable ASCII: the value is the client's.
            self->Write(ErrorResponse(421, fmt::format("this server does not answer to Host '{}' "
                                                       "(see serve --allowed-host)",
                                                       PrintableExcerpt(host, 100))),
                        req.method == "HEAD");
            return;
          }
          self->Write(self->handler_(req), req.method == "HEAD");
          return;
        }
      }
    });
  }

  void Write(const HttpResponse& response, bool head_only) {
    out_ = SerializeResponse(response, head_only);
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_),
                      [self](const asio::error_code&, size_t) { self->Finish(); });
  }

  void Finish() {
    asio::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    timer_.cancel();
  }

  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  RequestParser parser_;
  const ServerLimits& limits_;
  const Handler& handler_;
  std::shared_ptr<int> active_;
  std::unique_ptr<PerClient> per_client_;
  const std::vector<std::string>& host_names_;
  uint16_t port_;
  std::array<char, kReadChunk> buf_;
  std::string out_;
};

// LowerName lower-cases `name` and drops one trailing dot.
std::string LowerName(std::string_view name) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  return AsciiLower(name);
}

}  // namespace

bool HostAllowed(std::string_view host, const std::vector<std::string>& names, uint16_t port) {
  std::string_view name;
  std::string_view port_text;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    name = host.substr(1, close - 1);
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return false;
      }
      port_text = rest.substr(1);
      if (port_text.empty()) {
        return false;
      }
    }
  } else {
    size_t colon = host.find(':');
    if (colon != std::string_view::npos && host.find(':', colon + 1) != std::string_view::npos) {
      return false;  // An IPv6 literal must be bracketed.
    }
    name = host.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = host.substr(colon + 1);
      if (port_text.empty()) {
        return false;
      }
    }
  }
  if (name.empty()) {
    return false;
  }
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || value != port) {
      return false;
    }
  }
  std::string wanted = LowerName(name);
  return std::find(names.begin(), names.end(), wanted) != names.end();
}

Result<asio::ip::tcp::endpoint> ParseListenAddress(const std::string& listen) {
  std::string host;
  std::string port_text;
  if (!listen.empty() && listen.front() == '[') {
    size_t close = listen.find("]:");
    if (close == std::string::npos) {
      return ErrCode(ErrorCode::kUsage, "--listen {}: expected [address]:port", listen);
    }
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos || listen.find(':') != colon) {
      return ErrCode(ErrorCode::kUsage, "--listen {}: expected address:port", listen);
    }
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port > 65535) {
    return ErrCode(ErrorCode::kUsage, "--listen {}: bad port", listen);
  }
  asio::error_code aec;
  asio::ip::address addr = asio::ip::make_address(host, aec);
  if (aec) {
    return ErrCode(ErrorCode::kUsage, "--listen {}: not an IP address", listen);
  }
  return asio::ip::tcp::endpoint(addr, static_cast<uint16_t>(port));
}

HttpServer::HttpServer(asio::io_context& io, ServerLimits limits, Handler handler)
    : io_(io),
      limits_(limits),
      handler_(std::move(handler)),
      acceptor_(io),
      accept_retry_(io),
      active_(std::make_shared<int>(0)),
      per_client_(std::make_shared<std::map<asio::ip::address, int>>()) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Listen(const std::string& listen) {
  BH_ASSIGN(auto endpoint, ParseListenAddress(listen));
  asio::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor_.bind(endpoint, ec);
  }
  if (!ec) {
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return Err("listening on {}: {}", listen, ec.message());
  }
  host_names_ = {LowerName(endpoint.address().to_string()), "localhost", "127.0.0.1", "::1"};
  for (const std::string& name : limits_.allowed_hosts) {
    host_names_.push_back(LowerName(name));
  }
  Accept();
  return OkStatus();
}

uint16_t HttpServer::port() const {
  asio::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::Stop() {
  asio::error_code ignored;
  acceptor_.close(ignored);
  accept_retry_.cancel();
}

void HttpServer::Accept() {
  acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
      return;
    }
    if (!ec) {
      asio::error_code peer_ec;
      asio::ip::address peer = socket.remote_endpoint(peer_ec).address();
      if (peer_ec) {
        // Gone already: nothing to serve.
        asio::error_code ignored;
        socket.close(ignored);
        Accept();
        return;
      }
      auto count = per_client_->find(peer);
      if (count != per_client_->end() && count->second >= limits_.max_per_client) {
        // One client holds its share already: close at once, spending
        // neither a slot nor a timer on it.
        asio::error_code ignored;
        socket.close(ignored);
        Accept();
        return;
      }
      bool over = *active_ >= limits_.max_connections;
      auto conn = std::make_shared<Connection>(std::move(socket), limits_, handler_, active_,
                                               std::make_unique<PerClient>(per_client_, peer),
                                               host_names_, port());
      if (over) {
        conn->Refuse();
      } else {
        conn->Start();
      }
    }
    if (ec) {
      // EMFILE and friends: back off briefly instead of spinning on an
      // accept that fails again at once.
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](const asio::error_code& wait_ec) {
        if (!wait_ec) {
          Accept();
        }
      });
      return;
    }
    Accept();
  });
}

}  // namespace bulkhead::serve
