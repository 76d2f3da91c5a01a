#include "probe/engine.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <signal.h>
#include <sys/resource.h>

#include <array>
#include <asio.hpp>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "crypto/ossl.h"
#include "probe/analyse.h"
#include "probe/starttls.h"

namespace bulkhead::probe {
namespace {

using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using SslCtxPtr = crypto::OsslPtr<SSL_CTX, SSL_CTX_free>;
using SslPtr = crypto::OsslPtr<SSL, SSL_free>;

// kMaxHttpHeaderBytes caps the HTTP response head we read.
constexpr size_t kMaxHttpHeaderBytes = 64 * 1024;

// kSpareDescriptors are kept free for the process's own files.
constexpr int kSpareDescriptors = 64;

std::string HostPort(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

// OsslReason returns the first queued OpenSSL error reason, clearing the queue.
std::string OsslReason(std::string_view fallback) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) {
    return std::string(fallback);
  }
  std::array<char, 256> buf{};
  ERR_error_string_n(e, buf.data(), buf.size());
  const char* reason = ERR_reason_error_string(e);
  return reason != nullptr ? std::string(reason) : std::string(buf.data());
}

// RaiseDescriptorLimit lifts the soft RLIMIT_NOFILE towards what
// `concurrency` connections need and returns the concurrency it allows.
int RaiseDescriptorLimit(int concurrency) {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return concurrency;
  }
  rlim_t want = static_cast<rlim_t>(concurrency) + kSpareDescriptors;
  if (rl.rlim_cur < want) {
    rl.rlim_cur = std::min(want, rl.rlim_max);
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur < want) {
    return std::max(1, static_cast<int>(rl.rlim_cur) - kSpareDescriptors);
  }
  return concurrency;
}

// SigpipeBlock blocks SIGPIPE on this thread for its lifetime: OpenSSL
// writes to the socket with write(2), and a peer that already closed must
// give EPIPE, not kill the process. A SIGPIPE raised meanwhile is consumed
// before the old mask returns, so nothing else in the process is affected.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    if (sigismember(&old_, SIGPIPE) == 0) {
      const timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
};

class Runner;

// Session is one probe's state machine. The handshake drives OpenSSL
// directly on the non-blocking socket and waits for readiness through asio:
// asio::ssl::stream would add two 17 KB record buffers and a BIO pair per
// connection, which at a thousand connections costs more than everything
// else together, and copies every byte twice.
class Session : public std::enable_shared_from_this<Session> {
 public:
  using Done = std::function<void(Result<ProbeResult>)>;

  Session(Runner& runner, const ProbeRequest& req, Done done);
  void Start();

 private:
  void OnConnect(const asio::error_code& ec);
  void StartTlsWrite(std::string bytes);
  void StartTlsRead();
  void StartHandshake();
  void DoHandshake();
  void DoHttpWrite();
  void DoHttpRead();
  // WaitThen waits until OpenSSL's want (`ssl_error`) is satisfied, then
  // calls `next`; any other error fails the phase.
  void WaitThen(int ssl_error, void (Session::*next)());
  void Fail(std::string_view what);
  void FailEc(const asio::error_code& ec);
  void Finish(Result<ProbeResult> result);
  void FinishHandshake(std::optional<std::string> http_error);

  Runner& runner_;
  const ProbeRequest req_;  // A copy: the caller's vector may be large.
  Done done_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  StartTlsDialog dialog_;
  SslPtr ssl_;
  std::array<char, 4096> rbuf_{};
  std::string wbuf_;
  size_t wpos_ = 0;
  std::string http_;
  const char* phase_ = "connect";
  bool finished_ = false;
  bool timed_out_ = false;
  Clock::time_point started_;
};

// Runner owns the event loop, the TLS context, the trust stores and the
// schedule for one ProbeAll call.
class Runner {
 public:
  Runner(const std::vector<ProbeRequest>& requests, const EngineOptions& options)
      : requests_(requests), options_(options), results_(requests.size()) {}

  Status Prepare() {
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx_) {
      return crypto::OsslErr("creating TLS context");
    }
    // The handshake must succeed whatever the certificate: it is judged
    // afterwards, so an expired one is still shown with its dates.
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_mode(ctx_.get(), SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx_.get(), SSL_SESS_CACHE_OFF);
    // The key share and suite order of Go's crypto/tls (what
    // blackbox_exporter offers): X25519 first, which is also the cheapest
    // key share in OpenSSL 3.0 (a P-256 share measured 10% more
    // instructions per check), and AES-128-GCM with SHA-256 first (a
    // cheaper key schedule than SHA-384). Alternatives stay offered, so
    // every server still finds a common choice.
    if (SSL_CTX_set1_groups_list(ctx_.get(), "X25519:P-256:P-384:P-521") != 1 ||
        SSL_CTX_set_ciphersuites(ctx_.get(),
                                 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                 "TLS_CHACHA20_POLY1305_SHA256") != 1) {
      return crypto::OsslErr("configuring TLS groups and suites");
    }
    for (const ProbeRequest& r : requests_) {
      BH_TRY(verifier_.AddStore(r.ca_bundle));
    }
    concurrency_ = RaiseDescriptorLimit(std::max(1, options_.concurrency));
    return OkStatus();
  }

  std::vector<Result<ProbeResult>> Run() {
    for (size_t i = 0; i < requests_.size(); ++i) {
      const ProbeRequest& r = requests_[i];
      std::string address = r.address;
      if (address.empty()) {
        auto addrs = ResolveAddresses(r.host);
        if (!addrs.ok()) {
          results_[i] = addrs.error();
          continue;
        }
        address = addrs->front();
      }
      resolved_.emplace_back(i, address);
      std::string key = HostPort(address, r.port);
      auto& q = queues_[key];
      if (q.empty()) {
        ready_.push_back(key);
      }
      q.push_back(resolved_.size() - 1);
    }
    Pump();
    io_.run();
    std::vector<Result<ProbeResult>> out;
    out.reserve(results_.size());
    for (auto& r : results_) {
      out.push_back(r ? std::move(*r) : Result<ProbeResult>(Err("internal: probe did not run")));
    }
    return out;
  }

  asio::io_context& io() { return io_; }
  SSL_CTX* ctx() { return ctx_.get(); }
  Verifier& verifier() { return verifier_; }

 private:
  void Pump() {
    while (active_ < concurrency_ && !ready_.empty()) {
      std::string key = std::move(ready_.front());
      ready_.pop_front();
      size_t slot = queues_[key].front();
      queues_[key].pop_front();
      ++active_;
      auto& [index, address] = resolved_[slot];
      ProbeRequest req = requests_[index];
      req.address = address;
      auto session = std::make_shared<Session>(
          *this, req, [this, index = index, key](Result<ProbeResult> result) {
            if (options_.on_done) {
              options_.on_done(index, result);
            }
            results_[index] = std::move(result);
            --active_;
            if (!queues_[key].empty()) {
              ready_.push_back(key);
            }
            Pump();
          });
      session->Start();
    }
  }

  const std::vector<ProbeRequest>& requests_;
  const EngineOptions& options_;
  asio::io_context io_{1};
  SslCtxPtr ctx_;
  Verifier verifier_;
  int concurrency_ = 1;
  int active_ = 0;
  std::vector<std::optional<Result<ProbeResult>>> results_;
  std::vector<std::pair<size_t, std::string>> resolved_;  // (request, address)
  std::unordered_map<std::string, std::deque<size_t>> queues_;  // per address
  std::deque<std::string> ready_;  // addresses with work and no connection
};

Session::Session(Runner& runner, const ProbeRequest& req, Done done)
    : runner_(runner),
      req_(req),
      done_(std::move(done)),
      socket_(runner.io()),
      timer_(runner.io()),
      dialog_(req.starttls) {}

void Session::Start() {
  started_ = Clock::now();
  asio::error_code ec;
  auto addr = asio::ip::make_address(req_.address, ec);
  if (ec) {
    Finish(Err("{}: not an IP address", req_.address));
    return;
  }
  auto self = shared_from_this();
  timer_.expires_after(req_.timeout);
  timer_.async_wait([self](const asio::error_code& tec) {
    if (!tec && !self->finished_) {
      self->timed_out_ = true;
      asio::error_code ignored;
      self->socket_.cancel(ignored);
      self->socket_.close(ignored);
    }
  });
  socket_.async_connect(tcp::endpoint(addr, req_.port),
                        [self](const asio::error_code& cec) { self->OnConnect(cec); });
}

void Session::OnConnect(const asio::error_code& ec) {
  if (ec) {
    FailEc(ec);
    return;
  }
  asio::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  if (dialog_.Done()) {
    StartHandshake();
    return;
  }
  phase_ = "starttls";
  std::string first = dialog_.Start();
  if (!first.empty()) {
    StartTlsWrite(std::move(first));
  } else {
    StartTlsRead();
  }
}

void Session::StartTlsWrite(std::string bytes) {
  wbuf_ = std::move(bytes);
  auto self = shared_from_this();
  asio::async_write(socket_, asio::buffer(wbuf_),
                    [self](const asio::error_code& ec, size_t) {
                      if (ec) {
                        self->FailEc(ec);
                        return;
                      }
                      self->StartTlsRead();
                    });
}

void Session::StartTlsRead() {
  auto self = shared_from_this();
  socket_.async_read_some(asio::buffer(rbuf_), [self](const asio::error_code& ec, size_t n) {
    if (ec) {
      self->FailEc(ec);
      return;
    }
    std::string send;
    std::string error;
    switch (self->dialog_.Feed(std::string_view(self->rbuf_.data(), n), &send, &error)) {
      case StartTlsDialog::Step::kNeedMore:
        self->StartTlsRead();
        return;
      case StartTlsDialog::Step::kSend:
        self->StartTlsWrite(std::move(send));
        return;
      case StartTlsDialog::Step::kDone:
        self->StartHandshake();
        return;
      case StartTlsDialog::Step::kFailed:
        self->Fail(error);
        return;
    }
  });
}

void Session::StartHandshake() {
  phase_ = "handshake";
  asio::error_code ec;
  socket_.non_blocking(true, ec);
  ssl_.reset(SSL_new(runner_.ctx()));
  if (ec || !ssl_ || SSL_set_fd(ssl_.get(), socket_.native_handle()) != 1) {
    Fail(OsslReason("cannot set up TLS"));
    return;
  }
  SSL_set_connect_state(ssl_.get());
  std::string sni = EffectiveSni(req_);
  if (!sni.empty() && SSL_set_tlsext_host_name(ssl_.get(), sni.c_str()) != 1) {
    Fail(OsslReason("cannot set SNI"));
    return;
  }
  DoHandshake();
}

void Session::DoHandshake() {
  if (finished_) {
    return;
  }
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    if (req_.http_headers) {
      phase_ = "http";
      std::string host = EffectiveName(req_);
      if (host.find(':') != std::string::npos) {
        host = "[" + host + "]";
      }
      if (req_.port != 443) {
        host += fmt::format(":{}", req_.port);
      }
      wbuf_ = fmt::format(
          "HEAD / HTTP/1.1\r\nHost: {}\r\nUser-Agent: bulkhead-monitor\r\n"
          "Accept: */*\r\nConnection: close\r\n\r\n",
          host);
      wpos_ = 0;
      DoHttpWrite();
      return;
    }
    FinishHandshake(std::nullopt);
    return;
  }
  WaitThen(SSL_get_error(ssl_.get(), r), &Session::DoHandshake);
}

void Session::DoHttpWrite() {
  if (finished_) {
    return;
  }
  while (wpos_ < wbuf_.size()) {
    ERR_clear_error();
    size_t written = 0;
    int r = SSL_write_ex(ssl_.get(), wbuf_.data() + wpos_, wbuf_.size() - wpos_, &written);
    if (r != 1) {
      int e = SSL_get_error(ssl_.get(), r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        WaitThen(e, &Session::DoHttpWrite);
        return;
      }
      FinishHandshake(fmt::format("sending request: {}", OsslReason("connection closed")));
      return;
    }
    wpos_ += written;
  }
  DoHttpRead();
}

void Session::DoHttpRead() {
  if (finished_) {
    return;
  }
  while (true) {
    ERR_clear_error();
    size_t n = 0;
    int r = SSL_read_ex(ssl_.get(), rbuf_.data(), rbuf_.size(), &n);
    if (r == 1) {
      http_.append(rbuf_.data(), n);
      if (http_.find("\r\n\r\n") != std::string::npos || http_.size() > kMaxHttpHeaderBytes) {
        FinishHandshake(std::nullopt);
        return;
      }
      continue;
    }
    int e = SSL_get_error(ssl_.get(), r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      WaitThen(e, &Session::DoHttpRead);
      return;
    }
    // EOF or an error: parse what arrived; an empty answer is reported.
    FinishHandshake(http_.empty() ? std::optional<std::string>("no HTTP response")
                                  : std::nullopt);
    return;
  }
}

void Session::WaitThen(int ssl_error, void (Session::*next)()) {
  auto self = shared_from_this();
  auto resume = [self, next](const asio::error_code& ec) {
    if (ec) {
      self->FailEc(ec);
      return;
    }
    ((*self).*next)();
  };
  if (ssl_error == SSL_ERROR_WANT_READ) {
    socket_.async_wait(tcp::socket::wait_read, resume);
  } else if (ssl_error == SSL_ERROR_WANT_WRITE) {
    socket_.async_wait(tcp::socket::wait_write, resume);
  } else if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    Fail(errno != 0 ? std::string(std::strerror(errno)) : "connection closed by peer");
  } else if (ssl_error == SSL_ERROR_ZERO_RETURN) {
    Fail("connection closed by peer");
  } else {
    Fail(OsslReason("TLS error"));
  }
}

void Session::FailEc(const asio::error_code& ec) {
  if (timed_out_) {
    Fail(fmt::format("timed out after {} ms", req_.timeout.count()));
    return;
  }
  if (ec == asio::error::eof) {
    Fail("connection closed by peer");
    return;
  }
  Fail(ec.message());
}

void Session::Fail(std::string_view what) {
  Finish(Err("{}: {}: {}", HostPort(req_.address, req_.port), phase_, what));
}

void Session::FinishHandshake(std::optional<std::string> http_error) {
  auto result = Analyse(ssl_.get(), req_, runner_.verifier());
  if (result.ok()) {
    result->elapsed_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    if (req_.http_headers) {
      if (http_error) {
        result->http_error = *http_error;
      } else {
        ParseHttpHead(http_, &*result);
      }
    }
  }
  Finish(std::move(result));
}

void Session::Finish(Result<ProbeResult> result) {
  if (finished_) {
    return;
  }
  finished_ = true;
  timer_.cancel();
  if (ssl_) {
    // One close_notify, not waited for: the peer's answer is of no interest.
    SSL_set_quiet_shutdown(ssl_.get(), 1);
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
  }
  asio::error_code ignored;
  socket_.close(ignored);
  Done done = std::move(done_);
  done(std::move(result));
}

}  // namespace

Result<std::vector<Result<ProbeResult>>> ProbeAll(const std::vector<ProbeRequest>& requests,
                                                  const EngineOptions& options) {
  SigpipeBlock no_sigpipe;
  Runner runner(requests, options);
  BH_TRY(runner.Prepare());
  return runner.Run();
}

}  // namespace bulkhead::probe
