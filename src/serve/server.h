// A small HTTP/1.1 server on standalone asio: one thread, one request per
// connection, hard caps on request size, time and concurrent connections.
#ifndef BULKHEAD_SERVE_SERVER_H_
#define BULKHEAD_SERVE_SERVER_H_

#include <asio.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "serve/http.h"
#include "util/result.h"

namespace bulkhead::serve {

// kMaxConnectionsPerClient is how many connections one client address may
// hold at once by default: a browser opens at most six per host, so 16 is
// ample, and one client can no longer take every slot of max_connections.
inline constexpr int kMaxConnectionsPerClient = 16;

// ServerLimits bounds what clients can make the server hold.
struct ServerLimits {
  HttpLimits http;
  int max_connections = 64;  // Beyond this, new connections get a 503.
  // Connections from one client address beyond this are closed at once,
  // without an answer.
  int max_per_client = kMaxConnectionsPerClient;
  // The whole exchange (read request, run handler, write response) must
  // finish within this, so a slow client cannot pin a connection slot; a
  // client that sends no complete request head is dropped at this deadline.
  std::chrono::milliseconds request_timeout{10000};
  // Host header names answered besides the defaults (the listen address,
  // localhost, 127.0.0.1 and ::1), compared without case; each may carry
  // no port or the bound port. Any other Host gets 421, a request without
  // one 400: a web page whose name an attacker points at this address (DNS
  // rebinding) cannot read the API through a visitor's browser.
  std::vector<std::string> allowed_hosts;
};

// HostAllowed says whether a request's Host header value `host` names one
// of `names` (lower-case, IPv6 without brackets) with no port or `port`.
// An empty, malformed or bracket-less IPv6 value is not allowed.
bool HostAllowed(std::string_view host, const std::vector<std::string>& names, uint16_t port);

// Handler answers one complete request. It runs on the server's thread.
using Handler = std::function<HttpResponse(const HttpRequest&)>;

// HttpServer accepts on one address. Owned by the caller; must outlive the
// io_context's run().
class HttpServer {
 public:
  HttpServer(asio::io_context& io, ServerLimits limits, Handler handler);
  ~HttpServer();

  // Listen binds `listen` ("127.0.0.1:8440", "[::1]:0") and starts
  // accepting; the Host names answered are then the listen address's,
  // localhost, 127.0.0.1, ::1 and limits.allowed_hosts. Fails naming the
  // address if it is malformed or the bind fails.
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
  // Open connections per client address, shared with the connections.
  std::shared_ptr<std::map<asio::ip::address, int>> per_client_;
  std::vector<std::string> host_names_;  // Set by Listen.
};

// ParseListenAddress splits "host:port" / "[v6]:port" into an endpoint; the
// host must be an IP address literal.
Result<asio::ip::tcp::endpoint> ParseListenAddress(const std::string& listen);

}  // namespace bulkhead::serve

#endif  // BULKHEAD_SERVE_SERVER_H_
