#include "serve/server.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace bulkhead::serve {
namespace {

constexpr size_t kReadChunk = 4096;

HttpResponse ErrorResponse(int status, std::string_view reason) {
  HttpResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", std::string(reason)}}.dump() + "\n";
  return r;
}

// Connection serves one request, then closes. It keeps itself alive through
// the shared_ptr captured by its pending operations.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::ip::tcp::socket socket, const ServerLimits& limits, const Handler& handler,
             std::shared_ptr<int> active)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        parser_(limits.http),
        limits_(limits),
        handler_(handler),
        active_(std::move(active)) {
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
    Write(ErrorResponse(503, "too many connections"), false);
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
  std::array<char, kReadChunk> buf_;
  std::string out_;
};

}  // namespace

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
      active_(std::make_shared<int>(0)) {}

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
      bool over = *active_ >= limits_.max_connections;
      auto conn = std::make_shared<Connection>(std::move(socket), limits_, handler_, active_);
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
