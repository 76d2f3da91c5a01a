// A small HTTP/1.1 server on standalone asio: one thread, one request per
// connection, hard caps on request size, time and concurrent connections.
#ifndef BULKHEAD_SERVE_SERVER_H_
#define BULKHEAD_SERVE_SERVER_H_

#include <asio.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "serve/http.h"
#include "util/result.h"

namespace bulkhead::serve {

// ServerLimits bounds what clients can make the server hold.
struct ServerLimits {
  HttpLimits http;
  int max_connections = 64;  // Beyond this, new connections get a 503.
  // The whole exchange (read request, run handler, write response) must
  // finish within this, so a slow client cannot pin a connection slot.
  std::chrono::milliseconds request_timeout{10000};
};

// Handler answers one complete request. It runs on the server's thread.
using Handler = std::function<HttpResponse(const HttpRequest&)>;

// HttpServer accepts on one address. Owned by the caller; must outlive the
// io_context's run().
class HttpServer {
 public:
  HttpServer(asio::io_context& io, ServerLimits limits, Handler handler);
  ~HttpServer();

  // Listen binds `listen` ("127.0.0.1:8440", "[::1]:0") and starts
  // accepting. Fails naming the address if it is malformed or the bind fails.
  Status Listen(const std::string& listen);

  // port returns the bound port (useful after binding port 0).
  uint16_t port() const;

  // Stop closes the listening socket; connections in progress finish.
  void Stop();

  // active_connections returns the number of connections being served.
  int active_connections() const { return *active_; }

 private:
  void Accept();

  asio::io_context& io_;
  ServerLimits limits_;
  Handler handler_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_;
  std::shared_ptr<int> active_;
};

// ParseListenAddress splits "host:port" / "[v6]:port" into an endpoint; the
// host must be an IP address literal.
Result<asio::ip::tcp::endpoint> ParseListenAddress(const std::string& listen);

}  // namespace bulkhead::serve

#endif  // BULKHEAD_SERVE_SERVER_H_
