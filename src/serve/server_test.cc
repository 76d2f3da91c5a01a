#include "serve/server.h"

#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace bulkhead::serve {
namespace {

// HttpServerTest runs an HttpServer on 127.0.0.1:0 in its own thread and talks
// to it with blocking sockets.
class HttpServerTest : public ::testing::Test {
 protected:
  void Start(ServerLimits limits) {
    server_ = std::make_unique<HttpServer>(io_, limits, [](const HttpRequest& req) {
      HttpResponse r;
      r.content_type = "text/plain";
      r.body = req.method + " " + req.path + " " + req.body;
      return r;
    });
    Status st = server_->Listen("127.0.0.1:0");
    ASSERT_TRUE(st.ok()) << st.error().message;
    ASSERT_NE(server_->port(), 0);
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      asio::post(io_, [this] {
        server_->Stop();
        io_.stop();
      });
      thread_.join();
    }
  }

  asio::ip::tcp::socket Connect() {
    asio::ip::tcp::socket s(client_io_);
    s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    return s;
  }

  // Exchange sends `request` and reads until the server closes.
  std::string Exchange(asio::ip::tcp::socket& s, const std::string& request) {
    asio::error_code ec;
    asio::write(s, asio::buffer(request), ec);
    return ReadAll(s);
  }

  // HostPort is the Host header value a local client sends.
  std::string HostPort() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  static std::string ReadAll(asio::ip::tcp::socket& s) {
    std::string out;
    std::array<char, 4096> buf;
    asio::error_code ec;
    while (!ec) {
      size_t n = s.read_some(asio::buffer(buf), ec);
      out.append(buf.data(), n);
    }
    return out;
  }

  asio::io_context io_;
  asio::io_context client_io_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

TEST_F(HttpServerTest, AnswersAndCloses) {
  Start({});
  auto s = Connect();
  std::string resp = Exchange(s, "POST /x%41 HTTP/1.1\r\nHost: " + HostPort() +
                                     "\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(resp.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << resp;
  EXPECT_NE(resp.find("\r\n\r\nPOST /xA abc"), std::string::npos) << resp;
}

TEST_F(HttpServerTest, OversizedHeadersGet431) {
  ServerLimits limits;
  limits.http.max_header_bytes = 256;
  Start(limits);
  auto s = Connect();
  std::string resp = Exchange(s, "GET / HTTP/1.1\r\nX: " + std::string(1000, 'a') + "\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 431 ", 0), 0u) << resp;
}

TEST_F(HttpServerTest, IdleConnectionIsClosedAtTheDeadline) {
  ServerLimits limits;
  limits.request_timeout = std::chrono::milliseconds(200);
  Start(limits);
  auto s = Connect();
  auto start = std::chrono::steady_clock::now();
  asio::error_code ec;
  asio::write(s, asio::buffer(std::string("GET / HTTP/1.1\r\n")), ec);
  std::string resp = ReadAll(s);  // Returns when the server closes.
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(resp.empty()) << resp;
  EXPECT_GE(took, std::chrono::milliseconds(150));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitGet503) {
  ServerLimits limits;
  limits.max_connections = 1;
  Start(limits);
  auto idle = Connect();
  // Prove the idle connection was accepted before the second connects:
  // a partial request makes no answer, so wait for nothing; accepts are
  // handled in arrival order anyway.
  auto second = Connect();
  std::string resp = Exchange(second, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 503 ", 0), 0u) << resp;
  // Once the first leaves, a new connection is served again.
  idle.close();
  std::string later;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = Connect();
    later = Exchange(s, "GET / HTTP/1.1\r\nHost: " + HostPort() + "\r\n\r\n");
    if (later.rfind("HTTP/1.1 200 ", 0) == 0) {
      break;
    }
  }
  EXPECT_EQ(later.rfind("HTTP/1.1 200 ", 0), 0u) << later;
}

TEST_F(HttpServerTest, ForeignHostIsRefused) {
  ServerLimits limits;
  limits.allowed_hosts = {"Monitor.Example.org"};
  Start(limits);
  std::string port = std::to_string(server_->port());
  // A page of an attacker's domain pointed at 127.0.0.1 (DNS rebinding).
  auto evil = Connect();
  std::string resp = Exchange(evil, "GET / HTTP/1.1\r\nHost: evil.example:" + port + "\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 421 ", 0), 0u) << resp;
  EXPECT_NE(resp.find("does not answer to Host 'evil.example:" + port + "'"), std::string::npos)
      << resp;
  EXPECT_EQ(resp.find("GET /"), std::string::npos) << "the handler must not run: " << resp;
  auto none = Connect();
  resp = Exchange(none, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 400 ", 0), 0u) << resp;
  EXPECT_NE(resp.find("no Host header"), std::string::npos) << resp;
  // The defaults and the configured name, with or without the port.
  for (const std::string& host :
       std::vector<std::string>{"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port,
                                "LOCALHOST", "monitor.example.org:" + port}) {
    auto s = Connect();
    resp = Exchange(s, "GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    EXPECT_EQ(resp.rfind("HTTP/1.1 200 ", 0), 0u) << host << ": " << resp;
  }
  // A known name on another port is another server.
  auto other = Connect();
  resp = Exchange(other, "GET / HTTP/1.1\r\nHost: localhost:1\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 421 ", 0), 0u) << resp;
}

TEST(HostAllowedTest, ParsesHostValues) {
  std::vector<std::string> names = {"127.0.0.1", "localhost", "::1"};
  EXPECT_TRUE(HostAllowed("localhost", names, 8440));
  EXPECT_TRUE(HostAllowed("localhost.:8440", names, 8440));
  EXPECT_TRUE(HostAllowed("[::1]:8440", names, 8440));
  EXPECT_TRUE(HostAllowed("[::1]", names, 8440));
  for (const char* bad : {"", ":8440", "localhost:", "localhost:8441", "localhost:84x0", "::1",
                          "::1:8440", "[::1", "[::1]8440", "[::1]:", "localhost.evil",
                          "127.0.0.1.nip.io:8440", "localhost :8440"}) {
    EXPECT_FALSE(HostAllowed(bad, names, 8440)) << bad;
  }
}

TEST_F(HttpServerTest, ConnectionsBeyondThePerClientLimitAreClosedAtOnce) {
  ServerLimits limits;
  limits.max_per_client = 2;
  // Long enough that only the per-client rule can close the third
  // connection within the test's deadline.
  limits.request_timeout = std::chrono::seconds(60);
  Start(limits);
  auto first = Connect();
  auto second = Connect();
  // Wait until the server holds both (accepts are handled in order, but
  // the test must not race the accept loop).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    std::promise<int> active;
    asio::post(io_, [&] { active.set_value(server_->active_connections()); });
    if (active.get_future().get() == 2) {
      break;
    }
    std::this_thread::yield();
  }
  auto start = std::chrono::steady_clock::now();
  auto third = Connect();
  std::string resp = ReadAll(third);  // Returns when the server closes.
  EXPECT_TRUE(resp.empty()) << resp;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // The first two are still served.
  std::string ok = Exchange(first, "GET / HTTP/1.1\r\nHost: " + HostPort() + "\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200 ", 0), 0u) << ok;
  // Once one of them is done, the client may connect again.
  std::string again;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    auto s = Connect();
    again = Exchange(s, "GET / HTTP/1.1\r\nHost: " + HostPort() + "\r\n\r\n");
    if (!again.empty()) {
      break;
    }
  }
  EXPECT_EQ(again.rfind("HTTP/1.1 200 ", 0), 0u) << again;
}

TEST(ListenAddressTest, Parses) {
  auto v4 = ParseListenAddress("127.0.0.1:8440");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->port(), 8440);
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->address().is_v6());
  for (const char* bad : {"", "8440", "localhost:80", "127.0.0.1:", "127.0.0.1:70000", "::1:80",
                          "[::1]80"}) {
    EXPECT_FALSE(ParseListenAddress(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace bulkhead::serve
