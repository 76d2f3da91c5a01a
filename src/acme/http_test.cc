#include "acme/http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bulkhead::acme {
namespace {

// ---- Pure helpers -------------------------------------------------------

TEST(HttpHeaderTest, HeaderIsCaseInsensitiveAndReturnsFirst) {
  HttpResponse r;
  r.headers.emplace("replay-nonce", "first");
  r.headers.emplace("replay-nonce", "second");
  r.headers.emplace("content-type", "application/json");
  EXPECT_EQ(r.Header("replay-nonce"), "first");
  EXPECT_EQ(r.Header("Replay-Nonce"), "first");
  EXPECT_EQ(r.Header("location"), "");
}

TEST(LinkHeaderTest, AcmeExamples) {
  auto links = ParseLinkHeader(R"(<https://example.com/acme/directory>;rel="index")");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].first, "https://example.com/acme/directory");
  EXPECT_EQ(links[0].second, "index");

  links = ParseLinkHeader(
      R"(<https://example.com/acme/cert/mAt3xBGaobw/1>;rel="alternate", )"
      R"(<https://example.com/acme/some-directory>; rel=up , <https://example.com/acme/dir> ;rel="index")");
  ASSERT_EQ(links.size(), 3u);
  EXPECT_EQ(links[0], std::make_pair(std::string("https://example.com/acme/cert/mAt3xBGaobw/1"),
                                     std::string("alternate")));
  EXPECT_EQ(links[1], std::make_pair(std::string("https://example.com/acme/some-directory"),
                                     std::string("up")));
  EXPECT_EQ(links[2],
            std::make_pair(std::string("https://example.com/acme/dir"), std::string("index")));
}

TEST(LinkHeaderTest, SeveralRelValuesAndCase) {
  auto links = ParseLinkHeader(R"(</a>; title="x, y; z"; REL="UP  Index"; rel="ignored")");
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0], std::make_pair(std::string("/a"), std::string("up")));
  EXPECT_EQ(links[1], std::make_pair(std::string("/a"), std::string("index")));
}

TEST(LinkHeaderTest, QuotedEscapes) {
  auto links = ParseLinkHeader(R"(</a>; title="say \"hi\", ok"; rel="up")");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].second, "up");
}

TEST(LinkHeaderTest, MalformedEntriesSkipped) {
  EXPECT_TRUE(ParseLinkHeader("").empty());
  EXPECT_TRUE(ParseLinkHeader(" , ,").empty());
  EXPECT_TRUE(ParseLinkHeader("https://no-brackets; rel=up").empty());
  EXPECT_TRUE(ParseLinkHeader("</no-rel>; title=x").empty());
  EXPECT_TRUE(ParseLinkHeader("</unterminated; rel=up").empty());
  EXPECT_TRUE(ParseLinkHeader(R"(</q>; rel="up)").empty());

  // A bad entry does not hide the good ones around it.
  auto links =
      ParseLinkHeader(R"(junk, </x> garbage, </good>; rel="up", bare;rel=index, </b>;rel=index)");
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0], std::make_pair(std::string("/good"), std::string("up")));
  EXPECT_EQ(links[1], std::make_pair(std::string("/b"), std::string("index")));
}

TEST(LinkHeaderTest, LinksResolvesAcrossRepeatedHeaders) {
  HttpResponse r;
  r.headers.emplace("link", R"(</acme/directory>;rel="index")");
  r.headers.emplace(
      "link", R"(<https://ca.example/acme/cert/1/alt>;rel="alternate", <alt2>;rel=alternate)");
  std::string base = "https://ca.example/acme/cert/1";
  EXPECT_EQ(r.Links("index", base), std::vector<std::string>{"https://ca.example/acme/directory"});
  EXPECT_EQ(r.Links("alternate", base),
            (std::vector<std::string>{"https://ca.example/acme/cert/1/alt",
                                      "https://ca.example/acme/cert/alt2"}));
  EXPECT_TRUE(r.Links("up", base).empty());
}

TEST(RetryAfterTest, Forms) {
  HttpResponse r;
  EXPECT_EQ(r.RetryAfterSeconds(1000), -1);  // Absent.

  auto with = [](std::string value) {
    HttpResponse h;
    h.headers.emplace("retry-after", std::move(value));
    return h;
  };
  EXPECT_EQ(with("120").RetryAfterSeconds(1000), 120);
  EXPECT_EQ(with("0").RetryAfterSeconds(1000), 0);
  EXPECT_EQ(with("abc").RetryAfterSeconds(1000), -1);
  EXPECT_EQ(with("-5").RetryAfterSeconds(1000), -1);
  EXPECT_EQ(with("1.5").RetryAfterSeconds(1000), -1);
  EXPECT_EQ(with("").RetryAfterSeconds(1000), -1);
  EXPECT_EQ(with("99999999999999999999999999").RetryAfterSeconds(1000), -1);

  // RFC 9110's example date is 784111777 seconds after the epoch.
  EXPECT_EQ(with("Sun, 06 Nov 1994 08:49:37 GMT").RetryAfterSeconds(784111777 - 30), 30);
  EXPECT_EQ(with("Sun, 06 Nov 1994 08:49:37 GMT").RetryAfterSeconds(784111777 + 30), 0);
  EXPECT_EQ(with("Sun, 06 Nov 1994 08:49:37 GMT").RetryAfterSeconds(784111777), 0);
  EXPECT_EQ(with("Sun, 32 Nov 1994 08:49:37 GMT").RetryAfterSeconds(0), -1);
  EXPECT_EQ(with("Sun, 06 Foo 1994 08:49:37 GMT").RetryAfterSeconds(0), -1);
  EXPECT_EQ(with("Sun, 06 Nov 1994 08:49:37 UTC").RetryAfterSeconds(0), -1);
  EXPECT_EQ(with("Sunday, 06-Nov-94 08:49:37 GMT").RetryAfterSeconds(0), -1);
}

TEST(ResolveUrlTest, Forms) {
  const std::string base = "https://ca.example/acme/order/1";
  EXPECT_EQ(ResolveUrl(base, "https://other.example/x"), "https://other.example/x");
  EXPECT_EQ(ResolveUrl(base, "/acme/cert/2"), "https://ca.example/acme/cert/2");
  EXPECT_EQ(ResolveUrl(base, "cert/2"), "https://ca.example/acme/order/cert/2");
  EXPECT_EQ(ResolveUrl(base, "../directory"), "https://ca.example/acme/directory");
  EXPECT_EQ(ResolveUrl(base, "./2"), "https://ca.example/acme/order/2");
  EXPECT_EQ(ResolveUrl(base, "/a/../b/./c"), "https://ca.example/b/c");
  EXPECT_EQ(ResolveUrl(base, "//cdn.example/x"), "https://cdn.example/x");
  EXPECT_EQ(ResolveUrl(base, "?cursor=2"), "https://ca.example/acme/order/1?cursor=2");
  EXPECT_EQ(ResolveUrl(base, ""), base);
  EXPECT_EQ(ResolveUrl("https://127.0.0.1:14000/dir?x=1", "/nonce"),
            "https://127.0.0.1:14000/nonce");
  EXPECT_EQ(ResolveUrl("https://ca.example", "dir"), "https://ca.example/dir");
  EXPECT_EQ(ResolveUrl("https://ca.example/a/b?q", "c?d#e"), "https://ca.example/a/c?d#e");
}

TEST(UrlOriginTest, Forms) {
  EXPECT_EQ(UrlOrigin("HTTPS://CA.Example:14000/Dir?x"), "https://ca.example:14000");
  EXPECT_EQ(UrlOrigin("https://ca.example"), "https://ca.example");
  EXPECT_EQ(UrlOrigin("https://user:pw@ca.example/x"), "https://ca.example");
  EXPECT_EQ(UrlOrigin("https://[::1]:443/"), "https://[::1]:443");
  EXPECT_EQ(UrlOrigin("not a url"), "");
  EXPECT_EQ(UrlOrigin("/path/only"), "");
  EXPECT_EQ(UrlOrigin("https:///nohost"), "");
  EXPECT_EQ(UrlOrigin(""), "");
}

// ---- Transport tests ------------------------------------------------------
//
// TlsTestServer is a test double for the CA: a minimal HTTPS/1.1 server on
// 127.0.0.1 with a certificate generated here. A real CA (or Pebble) cannot be
// made to send oversized, hanging or otherwise hostile responses on demand,
// which is exactly what the transport must be tested against.

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509, X509_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Free<SSL_CTX, SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Free<SSL, SSL_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION, X509_EXTENSION_free>>;

struct TestRequest {
  std::string method;
  std::string target;
  std::multimap<std::string, std::string> headers;  // Names lower-cased.
  std::string body;
};

struct TestReply {
  std::string raw;     // Bytes written verbatim.
  bool hang = false;   // Read the request, never answer.
  bool close = false;  // Close the connection after `raw`.
};

// OkReply builds a keep-alive 200 response with Content-Length.
std::string OkReply(const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

// MakeSelfSigned creates a P-256 key and a self-signed certificate for the IP
// address 127.0.0.1 and the name ca.test (which no resolver knows: tests
// hand its address to the client). Returns false on any OpenSSL failure.
bool MakeSelfSigned(PkeyPtr* out_key, X509Ptr* out_cert) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  if (key == nullptr || cert == nullptr) {
    return false;
  }
  X509* x = cert.get();
  X509_NAME* name = X509_get_subject_name(x);
  bool ok = X509_set_version(x, 2) == 1 && ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(x), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600) != nullptr &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>("bulkhead test"), -1,
                                       -1, 0) == 1 &&
            X509_set_issuer_name(x, name) == 1 && X509_set_pubkey(x, key.get()) == 1;
  if (!ok) {
    return false;
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:ca.test"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (ext == nullptr || X509_add_ext(x, ext.get(), -1) != 1) {
      return false;
    }
  }
  if (X509_sign(x, key.get(), EVP_sha256()) == 0) {
    return false;
  }
  *out_key = std::move(key);
  *out_cert = std::move(cert);
  return true;
}

class TlsTestServer {
 public:
  using Handler = std::function<TestReply(const TestRequest&)>;

  explicit TlsTestServer(Handler handler) : handler_(std::move(handler)) {
    // The client may drop a connection while we still write to it; that
    // must fail the write, not kill the test process.
    signal(SIGPIPE, SIG_IGN);
    error_ = Start();
  }

  ~TlsTestServer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      if (conn_fd_ >= 0) {
        shutdown(conn_fd_, SHUT_RDWR);  // Unblocks a pending SSL_read.
      }
    }
    if (stop_w_ >= 0) {
      (void)!write(stop_w_, "x", 1);
    }
    if (thread_.joinable()) {
      thread_.join();
    }
    for (int fd : {listen_fd_, stop_r_, stop_w_}) {
      if (fd >= 0) {
        close(fd);
      }
    }
    if (!ca_file_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path(ca_file_).parent_path(), ec);
    }
  }

  const std::string& error() const { return error_; }
  const std::string& ca_file() const { return ca_file_; }
  std::string Url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }
  int accepts() const { return accepts_.load(); }
  std::vector<TestRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  // Start returns "" on success or what failed.
  std::string Start() {
    PkeyPtr key;
    X509Ptr cert;
    if (!MakeSelfSigned(&key, &cert)) {
      return "generating the test certificate failed";
    }
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    if (ctx_ == nullptr || SSL_CTX_use_certificate(ctx_.get(), cert.get()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx_.get(), key.get()) != 1) {
      return "configuring the server TLS context failed";
    }
    std::string dir_template =
        (std::filesystem::temp_directory_path() / "bulkhead-http-test-XXXXXX").string();
    if (mkdtemp(dir_template.data()) == nullptr) {
      return "mkdtemp failed";
    }
    ca_file_ = dir_template + "/ca.pem";
    BioPtr bio(BIO_new_file(ca_file_.c_str(), "w"));
    if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert.get()) != 1) {
      return "writing the CA file failed";
    }
    bio.reset();

    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(listen_fd_, 8) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return "binding the test server failed";
    }
    port_ = ntohs(addr.sin_port);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
      return "pipe failed";
    }
    stop_r_ = pipe_fds[0];
    stop_w_ = pipe_fds[1];
    thread_ = std::thread([this] { Run(); });
    return "";
  }

  void Run() {
    while (true) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_r_, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) {
        continue;
      }
      if (fds[1].revents != 0) {
        return;
      }
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      ++accepts_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) {
          close(fd);
          return;
        }
        conn_fd_ = fd;
      }
      Serve(fd);
      {
        std::lock_guard<std::mutex> lock(mu_);
        conn_fd_ = -1;
      }
      close(fd);
    }
  }

  // Serve answers requests on one connection until the peer closes it.
  void Serve(int fd) {
    SslPtr ssl(SSL_new(ctx_.get()));
    if (ssl == nullptr || SSL_set_fd(ssl.get(), fd) != 1 || SSL_accept(ssl.get()) != 1) {
      ERR_clear_error();
      return;
    }
    std::string buf;
    while (true) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!ReadMore(ssl.get(), &buf)) {
          return;
        }
      }
      TestRequest req;
      std::string head = buf.substr(0, end + 2);
      buf.erase(0, end + 4);
      size_t eol = head.find("\r\n");
      std::string line = head.substr(0, eol);
      size_t sp1 = line.find(' ');
      size_t sp2 = line.find(' ', sp1 + 1);
      req.method = line.substr(0, sp1);
      req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t content_length = 0;
      for (size_t pos = eol + 2; pos < head.size();) {
        size_t next = head.find("\r\n", pos);
        std::string h = head.substr(pos, next - pos);
        pos = next + 2;
        size_t colon = h.find(':');
        if (colon == std::string::npos) {
          continue;
        }
        std::string name = h.substr(0, colon);
        for (char& c : name) {
          c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
        }
        std::string value = h.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        if (name == "content-length") {
          content_length = std::stoul(value);
        }
        req.headers.emplace(name, value);
      }
      while (buf.size() < content_length) {
        if (!ReadMore(ssl.get(), &buf)) {
          return;
        }
      }
      req.body = buf.substr(0, content_length);
      buf.erase(0, content_length);
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      TestReply reply = handler_(req);
      if (reply.hang) {
        continue;  // Wait for a next request that never comes, or for close.
      }
      if (!WriteAll(ssl.get(), reply.raw) || reply.close) {
        SSL_shutdown(ssl.get());
        return;
      }
    }
  }

  static bool ReadMore(SSL* ssl, std::string* buf) {
    char chunk[4096];
    int n = SSL_read(ssl, chunk, sizeof(chunk));
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    buf->append(chunk, static_cast<size_t>(n));
    return true;
  }

  static bool WriteAll(SSL* ssl, std::string_view data) {
    while (!data.empty()) {
      int n = SSL_write(ssl, data.data(), static_cast<int>(std::min<size_t>(data.size(), 16384)));
      if (n <= 0) {
        ERR_clear_error();
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  Handler handler_;
  std::string error_;
  SslCtxPtr ctx_;
  std::string ca_file_;
  int listen_fd_ = -1;
  int stop_r_ = -1;
  int stop_w_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> accepts_{0};
  std::mutex mu_;
  bool stopping_ = false;
  int conn_fd_ = -1;
  std::vector<TestRequest> requests_;
};

HttpOptions TestOptions(const TlsTestServer& server) {
  HttpOptions o;
  o.ca_bundle = server.ca_file();
  o.connect_timeout_ms = 5000;
  o.request_timeout_ms = 10000;
  o.user_agent = "bulkhead-test/1";
  return o;
}

std::unique_ptr<HttpClient> MustClient(const HttpOptions& options) {
  auto client = NewCurlHttpClient(options);
  EXPECT_TRUE(client.ok()) << client.error().message;
  return client.ok() ? std::move(client).value() : nullptr;
}

TEST(CurlHttpClientTest, ResolveHandsTheAddressesIn) {
  // ca.test resolves nowhere: the request can only work with the address
  // given in HttpOptions::resolve. ::1 comes first, in brackets, as
  // manager::PinCaAddresses writes it; nothing listens there, so the
  // client must go on to 127.0.0.1.
  TlsTestServer server([](const TestRequest&) { return TestReply{OkReply("pinned")}; });
  ASSERT_EQ(server.error(), "");
  std::string port = server.Url("");
  port = port.substr(port.rfind(':') + 1);
  HttpOptions o = TestOptions(server);
  o.resolve = {"ca.test:" + port + ":[::1],127.0.0.1"};
  auto client = MustClient(o);
  ASSERT_NE(client, nullptr);
  auto res = client->Get("https://ca.test:" + port + "/dir");
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "pinned");

  // Without the entry the name cannot be resolved at all.
  auto plain = MustClient(TestOptions(server));
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->Get("https://ca.test:" + port + "/dir").ok());
}

TEST(CurlHttpClientTest, GetParsesStatusBodyAndHeaders) {
  TlsTestServer server([](const TestRequest&) {
    TestReply r;
    // An interim 1xx response first: its headers must not leak into the
    // final response's.
    r.raw = "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n" +
            OkReply(R"({"newNonce":"x"})",
                    "Content-Type: application/json\r\n"
                    "Replay-Nonce: nonce-1\r\n"
                    "X-Multi:   a  \r\n"
                    "x-multi: b\r\n"
                    "Link: </acme/directory>;rel=\"index\"\r\n");
    return r;
  });
  ASSERT_EQ(server.error(), "");
  auto client = MustClient(TestOptions(server));
  ASSERT_NE(client, nullptr);

  auto res = client->Get(server.Url("/dir"));
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"newNonce":"x"})");
  EXPECT_EQ(res->Header("replay-nonce"), "nonce-1");
  EXPECT_EQ(res->Header("Content-Type"), "application/json");
  auto multi = res->headers.equal_range("x-multi");
  ASSERT_EQ(std::distance(multi.first, multi.second), 2);
  EXPECT_EQ(multi.first->second, "a");
  EXPECT_EQ(std::next(multi.first)->second, "b");
  EXPECT_EQ(res->headers.count("x-interim"), 0u);
  EXPECT_EQ(res->Links("index", server.Url("/dir")),
            std::vector<std::string>{server.Url("/acme/directory")});

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/dir");
  auto ua = reqs[0].headers.find("user-agent");
  ASSERT_NE(ua, reqs[0].headers.end());
  EXPECT_EQ(ua->second, "bulkhead-test/1");
}

TEST(CurlHttpClientTest, PostSendsBodyAndContentTypeThenGetIsPlainAgain) {
  TlsTestServer server([](const TestRequest& req) {
    TestReply r;
    r.raw = req.method == "POST" ? "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"
                                 : OkReply("got");
    return r;
  });
  ASSERT_EQ(server.error(), "");
  auto client = MustClient(TestOptions(server));
  ASSERT_NE(client, nullptr);

  // Larger than the size at which curl would add "Expect: 100-continue".
  std::string body = R"({"protected":")" + std::string(3000, 'a') + R"("})";
  auto res = client->Post(server.Url("/new-order"), body, "application/jose+json");
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, "{}");

  auto empty = client->Post(server.Url("/post-as-get"), "", "application/jose+json");
  ASSERT_TRUE(empty.ok()) << empty.error().message;

  auto get = client->Get(server.Url("/after"));
  ASSERT_TRUE(get.ok()) << get.error().message;
  EXPECT_EQ(get->body, "got");

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/new-order");
  EXPECT_EQ(reqs[0].body, body);
  auto ct = reqs[0].headers.find("content-type");
  ASSERT_NE(ct, reqs[0].headers.end());
  EXPECT_EQ(ct->second, "application/jose+json");
  EXPECT_EQ(reqs[0].headers.count("expect"), 0u);

  EXPECT_EQ(reqs[1].method, "POST");
  EXPECT_EQ(reqs[1].body, "");

  EXPECT_EQ(reqs[2].method, "GET");
  EXPECT_EQ(reqs[2].body, "");
  EXPECT_EQ(reqs[2].headers.count("content-type"), 0u);
}

TEST(CurlHttpClientTest, HeadReturnsHeadersWithoutBody) {
  TlsTestServer server([](const TestRequest& req) {
    TestReply r;
    r.raw = "HTTP/1.1 200 OK\r\nReplay-Nonce: n2\r\nContent-Length: 5\r\n\r\n";
    if (req.method != "HEAD") {
      r.raw += "hello";
    }
    return r;
  });
  ASSERT_EQ(server.error(), "");
  auto client = MustClient(TestOptions(server));
  ASSERT_NE(client, nullptr);
  auto res = client->Head(server.Url("/new-nonce"));
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->Header("replay-nonce"), "n2");
  EXPECT_EQ(res->body, "");
  // The handle is usable for a GET afterwards (HEAD state is reset).
  auto get = client->Get(server.Url("/x"));
  ASSERT_TRUE(get.ok()) << get.error().message;
  EXPECT_EQ(get->body, "hello");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "HEAD");
  EXPECT_EQ(reqs[1].method, "GET");
}

TEST(CurlHttpClientTest, ReusesOneConnection) {
  TlsTestServer server([](const TestRequest&) { return TestReply{OkReply("x")}; });
  ASSERT_EQ(server.error(), "");
  auto client = MustClient(TestOptions(server));
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    auto res = i == 1 ? client->Post(server.Url("/p"), "{}", "application/jose+json")
                      : client->Get(server.Url("/g"));
    ASSERT_TRUE(res.ok()) << res.error().message;
  }
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(server.accepts(), 1);
}

TEST(CurlHttpClientTest, RedirectsAreNotFollowed) {
  TlsTestServer server([](const TestRequest&) {
    return TestReply{"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"};
  });
  ASSERT_EQ(server.error(), "");
  auto client = MustClient(TestOptions(server));
  ASSERT_NE(client, nullptr);
  auto res = client->Get(server.Url("/start"));
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->status, 302);
  EXPECT_EQ(res->Header("location"), "/elsewhere");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(CurlHttpClientTest, BodyAtTheCapIsAccepted) {
  TlsTestServer server(
      [](const TestRequest&) { return TestReply{OkReply(std::string(1024, 'b'))}; });
  ASSERT_EQ(server.error(), "");
  HttpOptions o = TestOptions(server);
  o.max_response_bytes = 1024;
  auto client = MustClient(o);
  ASSERT_NE(client, nullptr);
  auto res = client->Get(server.Url("/x"));
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->body.size(), 1024u);
}

TEST(CurlHttpClientTest, OversizedBodyWithContentLengthRejected) {
  TlsTestServer server(
      [](const TestRequest&) { return TestReply{OkReply(std::string(4096, 'b'))}; });
  ASSERT_EQ(server.error(), "");
  HttpOptions o = TestOptions(server);
  o.max_response_bytes = 1024;
  auto client = MustClient(o);
  ASSERT_NE(client, nullptr);
  std::string url = server.Url("/big");
  auto res = client->Get(url);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().message, "response from " + url + " exceeds the limit of 1024 bytes");
  EXPECT_EQ(res.error().code, ErrorCode::kFailure);
}

TEST(CurlHttpClientTest, OversizedStreamedBodyRejected) {
  // No Content-Length: the body runs until the connection closes, so only
  // the write callback can stop it.
  TlsTestServer server([](const TestRequest&) {
    TestReply r;
    r.raw = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + std::string(256 * 1024, 'b');
    r.close = true;
    return r;
  });
  ASSERT_EQ(server.error(), "");
  HttpOptions o = TestOptions(server);
  o.max_response_bytes = 1024;
  auto client = MustClient(o);
  ASSERT_NE(client, nullptr);
  std::string url = server.Url("/stream");
  auto res = client->Get(url);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().message, "response from " + url + " exceeds the limit of 1024 bytes");
  EXPECT_EQ(res.error().code, ErrorCode::kFailure);
}

TEST(CurlHttpClientTest, OversizedHeadersRejected) {
  TlsTestServer server([](const TestRequest&) {
    std::string headers;
    for (int i = 0; i < 100; ++i) {
      headers += "X-Pad-" + std::to_string(i) + ": " + std::string(1000, 'h') + "\r\n";
    }
    return TestReply{OkReply("x", headers)};
  });
  ASSERT_EQ(server.error(), "");
  auto client = MustClient(TestOptions(server));
  ASSERT_NE(client, nullptr);
  std::string url = server.Url("/headers");
  auto res = client->Get(url);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("headers from " + url), std::string::npos)
      << res.error().message;
}

TEST(CurlHttpClientTest, SilentServerTimesOutAsTransient) {
  TlsTestServer server([](const TestRequest&) {
    TestReply r;
    r.hang = true;
    return r;
  });
  ASSERT_EQ(server.error(), "");
  HttpOptions o = TestOptions(server);
  o.request_timeout_ms = 300;
  auto client = MustClient(o);
  ASSERT_NE(client, nullptr);
  std::string url = server.Url("/slow");
  auto res = client->Get(url);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kTransient);
  EXPECT_NE(res.error().message.find(url), std::string::npos) << res.error().message;
}

TEST(CurlHttpClientTest, ConnectionRefusedIsTransient) {
  // A bound but not listening socket reserves a port nobody answers on.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string url = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/dir";

  auto client = MustClient(HttpOptions{});
  ASSERT_NE(client, nullptr);
  auto res = client->Get(url);
  close(fd);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().code, ErrorCode::kTransient);
  EXPECT_NE(res.error().message.find(url), std::string::npos) << res.error().message;
}

TEST(CurlHttpClientTest, UntrustedCertificateRejected) {
  TlsTestServer server([](const TestRequest&) { return TestReply{OkReply("secret")}; });
  ASSERT_EQ(server.error(), "");
  std::string url = server.Url("/dir");

  // The system store does not know our certificate.
  HttpOptions system = TestOptions(server);
  system.ca_bundle = "";
  auto client = MustClient(system);
  ASSERT_NE(client, nullptr);
  auto res = client->Get(url);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().code, ErrorCode::kTransient);
  EXPECT_NE(res.error().message.find(url), std::string::npos) << res.error().message;
  EXPECT_NE(res.error().message.find("--ca-bundle PEM"), std::string::npos)
      << res.error().message;

  // Nor does a bundle holding some other certificate.
  TlsTestServer other([](const TestRequest&) { return TestReply{OkReply("x")}; });
  ASSERT_EQ(other.error(), "");
  auto wrong = MustClient(TestOptions(other));
  ASSERT_NE(wrong, nullptr);
  auto res2 = wrong->Get(url);
  ASSERT_FALSE(res2.ok());
  EXPECT_NE(res2.error().code, ErrorCode::kTransient);
  EXPECT_NE(res2.error().message.find("a root in --ca-bundle " + TestOptions(other).ca_bundle),
            std::string::npos)
      << res2.error().message;

  EXPECT_TRUE(server.requests().empty());
}

TEST(CurlHttpClientTest, HostNameMismatchRejected) {
  TlsTestServer server([](const TestRequest&) { return TestReply{OkReply("x")}; });
  ASSERT_EQ(server.error(), "");
  auto client = MustClient(TestOptions(server));
  ASSERT_NE(client, nullptr);
  // The certificate names 127.0.0.1 only; "localhost" must not match it.
  std::string url = server.Url("/dir");
  url.replace(url.find("127.0.0.1"), 9, "localhost");
  auto res = client->Get(url);
  ASSERT_FALSE(res.ok());
  EXPECT_TRUE(server.requests().empty());
}

TEST(CurlHttpClientTest, NonHttpsUrlRejectedBeforeConnecting) {
  TlsTestServer server([](const TestRequest&) { return TestReply{OkReply("x")}; });
  ASSERT_EQ(server.error(), "");
  auto client = MustClient(TestOptions(server));
  ASSERT_NE(client, nullptr);
  std::string url = server.Url("/dir");
  url.replace(0, 5, "http");
  for (const std::string& bad : {url, std::string("ftp://127.0.0.1/x"), std::string("/relative")}) {
    auto res = client->Get(bad);
    ASSERT_FALSE(res.ok()) << bad;
    EXPECT_NE(res.error().message.find("https"), std::string::npos) << res.error().message;
    EXPECT_NE(res.error().message.find(bad), std::string::npos) << res.error().message;
  }
  auto post = client->Post(url, "{}", "application/jose+json");
  EXPECT_FALSE(post.ok());
  EXPECT_EQ(server.accepts(), 0);
}

TEST(CurlHttpClientTest, UnreadableCaBundleRejected) {
  std::string missing =
      (std::filesystem::temp_directory_path() / "bulkhead-no-such-dir" / "ca.pem").string();
  HttpOptions o;
  o.ca_bundle = missing;
  auto res = NewCurlHttpClient(o);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find(missing), std::string::npos) << res.error().message;

  o.ca_bundle = std::filesystem::temp_directory_path().string();
  auto dir = NewCurlHttpClient(o);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message.find(o.ca_bundle), std::string::npos) << dir.error().message;
}

}  // namespace
}  // namespace bulkhead::acme
