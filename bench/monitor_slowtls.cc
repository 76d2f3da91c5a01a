// Slow TLS endpoints for bench/monitor.sh (built by the script with g++).
//
// monitor_slowtls COUNT CERT KEY PORTS_FILE [THREADS] [DELAY_MS]
//
// Listens on COUNT free ports of 127.0.0.1 (written to PORTS_FILE, one a
// line, once all listen) and, for every accepted connection, waits DELAY_MS
// (default 100) before taking part in the TLS handshake (TLS 1.3 only,
// certificate CERT with key KEY), then waits for the client to close. So
// each handshake takes at least DELAY_MS, and the server's own cost per
// connection is one TLS handshake: no relay, no interpreter, which leaves
// the machine's CPU to the probes being measured. THREADS (default 1) event
// loop threads share the work.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/resource.h>

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using tcp = asio::ip::tcp;
using SslStream = asio::ssl::stream<tcp::socket>;

std::chrono::milliseconds g_delay{100};
constexpr std::chrono::seconds kConnectionTimeout{60};

// Conn is one accepted connection: delay, handshake, wait for the close.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(tcp::socket socket, asio::ssl::context& ctx)
      : stream_(std::move(socket), ctx), timer_(stream_.get_executor()) {}

  void Start() {
    auto self = shared_from_this();
    timer_.expires_after(g_delay);
    timer_.async_wait([self](const asio::error_code& ec) {
      if (ec) {
        return;
      }
      self->Handshake();
    });
  }

 private:
  void Handshake() {
    auto self = shared_from_this();
    // A guard: a client that never finishes must not hold the socket forever.
    timer_.expires_after(kConnectionTimeout);
    timer_.async_wait([self](const asio::error_code& ec) {
      if (!ec) {
        asio::error_code ignored;
        self->stream_.lowest_layer().close(ignored);
      }
    });
    stream_.async_handshake(asio::ssl::stream_base::server, [self](const asio::error_code& ec) {
      if (ec) {
        self->Close();
        return;
      }
      self->ReadUntilClose();
    });
  }

  void ReadUntilClose() {
    auto self = shared_from_this();
    stream_.async_read_some(asio::buffer(buf_), [self](const asio::error_code& ec, size_t) {
      if (ec) {
        self->Close();
        return;
      }
      self->ReadUntilClose();
    });
  }

  void Close() {
    timer_.cancel();
    asio::error_code ignored;
    stream_.lowest_layer().close(ignored);
  }

  SslStream stream_;
  asio::steady_timer timer_;
  std::array<char, 512> buf_{};
};

void Accept(tcp::acceptor& acceptor, asio::ssl::context& ctx) {
  acceptor.async_accept([&acceptor, &ctx](const asio::error_code& ec, tcp::socket socket) {
    if (!ec) {
      std::make_shared<Conn>(std::move(socket), ctx)->Start();
    }
    if (ec != asio::error::operation_aborted) {
      Accept(acceptor, ctx);
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s COUNT CERT KEY PORTS_FILE [THREADS] [DELAY_MS]\n", argv[0]);
    return 2;
  }
  int count = std::atoi(argv[1]);
  std::string cert = argv[2];
  std::string key = argv[3];
  std::string ports_file = argv[4];
  int threads = argc > 5 ? std::atoi(argv[5]) : 1;
  if (argc > 6) {
    g_delay = std::chrono::milliseconds(std::atoi(argv[6]));
  }
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  asio::io_context io(threads);
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(ctx.native_handle(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx.native_handle(), 0);
  SSL_CTX_set_mode(ctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  asio::error_code ec;
  ctx.use_certificate_chain_file(cert, ec);
  if (!ec) {
    ctx.use_private_key_file(key, asio::ssl::context::pem, ec);
  }
  if (ec) {
    std::fprintf(stderr, "loading %s / %s: %s\n", cert.c_str(), key.c_str(), ec.message().c_str());
    return 1;
  }
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::string ports;
  for (int i = 0; i < count; ++i) {
    auto a = std::make_unique<tcp::acceptor>(io);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    a->open(ep.protocol(), ec);
    if (!ec) {
      a->bind(ep, ec);
    }
    if (!ec) {
      a->listen(1024, ec);
    }
    if (ec) {
      std::fprintf(stderr, "listening (%d of %d): %s\n", i, count, ec.message().c_str());
      return 1;
    }
    ports += std::to_string(a->local_endpoint().port()) + "\n";
    Accept(*a, ctx);
    acceptors.push_back(std::move(a));
  }
  {
    std::string tmp = ports_file + ".tmp";
    std::ofstream out(tmp);
    out << ports;
    out.close();
    if (!out || std::rename(tmp.c_str(), ports_file.c_str()) != 0) {
      std::fprintf(stderr, "cannot write %s\n", ports_file.c_str());
      return 1;
    }
  }
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    pool.emplace_back([&io] { io.run(); });
  }
  io.run();
  for (auto& t : pool) {
    t.join();
  }
  return 0;
}
