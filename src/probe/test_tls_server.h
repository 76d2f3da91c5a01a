// Test-only helpers for the probe and monitor tests: certificates made on
// the fly and a loopback TLS server process. Header-only so that it is never
// linked into the library.
#ifndef BULKHEAD_PROBE_TEST_TLS_SERVER_H_
#define BULKHEAD_PROBE_TEST_TLS_SERVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crypto/ossl.h"

namespace bulkhead::probe::testing {

using PkeyPtr = crypto::OsslPtr<EVP_PKEY, EVP_PKEY_free>;

// TestCert is a key and a certificate made for one test.
struct TestCert {
  PkeyPtr key;
  crypto::X509Ptr cert;

  std::string Pem() const {
    crypto::BioPtr bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert.get());
    return crypto::BioContents(bio.get());
  }
};

inline PkeyPtr NewEcKey() { return PkeyPtr(EVP_EC_gen("P-256")); }

// MakeCert issues a certificate for `names` (DNS names; CN = first) valid
// from now+`from_s` to now+`to_s`, signed by `issuer` (self-signed if null).
inline TestCert MakeCert(const std::vector<std::string>& names, long from_s, long to_s,
                         const TestCert* issuer, bool is_ca) {
  TestCert out;
  out.key = NewEcKey();
  out.cert.reset(X509_new());
  X509* x = out.cert.get();
  X509_set_version(x, 2);
  static std::atomic<long> serial{1000};
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), from_s);
  X509_gmtime_adj(X509_getm_notAfter(x), to_s);
  X509_set_pubkey(x, out.key.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(names[0].c_str()), -1, -1, 0);
  X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer->cert.get()) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer->cert.get() : x, x, nullptr, nullptr, 0);
  auto add_ext = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  };
  if (is_ca) {
    add_ext(NID_basic_constraints, "critical,CA:TRUE");
    add_ext(NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    std::string san;
    for (const auto& n : names) {
      san += (san.empty() ? "DNS:" : ",DNS:") + n;
    }
    add_ext(NID_subject_alt_name, san);
    add_ext(NID_ext_key_usage, "serverAuth");
  }
  add_ext(NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    add_ext(NID_authority_key_identifier, "keyid:always");
  }
  X509_sign(x, issuer != nullptr ? issuer->key.get() : out.key.get(), EVP_sha256());
  return out;
}

// TlsServer serves TLS on a free 127.0.0.1 port from a child process until
// destroyed: the leaf `cert` with `chain` (intermediates) sent after it,
// optionally after an SMTP STARTTLS dialogue, answering one HTTP request
// with `http_reply` if set. A process, not a thread: the test process stays
// single-threaded, so the roles it forks (roles::RoleProcess refuses to
// fork from a threaded process) start cleanly.
class TlsServer {
 public:
  TlsServer(const TestCert& leaf, const std::vector<const TestCert*>& chain, bool smtp,
            std::string http_reply = "")
      : smtp_(smtp), http_reply_(std::move(http_reply)) {
    ctx_.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(ctx_.get(), leaf.cert.get());
    SSL_CTX_use_PrivateKey(ctx_.get(), leaf.key.get());
    for (const TestCert* c : chain) {
      X509_up_ref(c->cert.get());
      SSL_CTX_add_extra_chain_cert(ctx_.get(), c->cert.get());
    }
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    listen(fd_, 16);
    socklen_t len = sizeof(sa);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    // The connection count lives in memory shared with the child.
    void* shared = mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
      std::abort();
    }
    connections_ = new (shared) std::atomic<int>(0);
    std::fflush(nullptr);
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      // Dies with the test, even if the test is killed.
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) {
        _exit(1);
      }
      // Writes to a client that already left must fail, not kill the server.
      signal(SIGPIPE, SIG_IGN);
      Loop();
      _exit(0);
    }
  }
  ~TlsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    close(fd_);
    munmap(static_cast<void*>(connections_), sizeof(std::atomic<int>));
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;
  uint16_t port() const { return port_; }
  int connections() const { return connections_->load(); }

 private:
  static std::string ReadLine(int fd) {
    std::string line;
    char c = 0;
    while (read(fd, &c, 1) == 1) {
      line.push_back(c);
      if (c == '\n') {
        break;
      }
    }
    return line;
  }
  static void Write(int fd, std::string_view s) {
    if (write(fd, s.data(), s.size()) < 0) {
      return;
    }
  }

  void Loop() {
    for (;;) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) {
        continue;
      }
      ++*connections_;
      timeval tv{5, 0};
      setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      if (smtp_) {
        Write(c, "220 test ESMTP\r\n");
        ReadLine(c);  // EHLO
        Write(c, "250-test\r\n250 STARTTLS\r\n");
        ReadLine(c);  // STARTTLS
        Write(c, "220 go ahead\r\n");
      }
      SSL* ssl = SSL_new(ctx_.get());
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1 && !http_reply_.empty()) {
        char buf[4096];
        std::string req;
        int n = 0;
        while (req.find("\r\n\r\n") == std::string::npos &&
               (n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
          req.append(buf, static_cast<size_t>(n));
        }
        SSL_write(ssl, http_reply_.data(), static_cast<int>(http_reply_.size()));
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      ERR_clear_error();
      close(c);
    }
  }

  crypto::OsslPtr<SSL_CTX, SSL_CTX_free> ctx_;
  bool smtp_;
  std::string http_reply_;
  int fd_ = -1;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::atomic<int>* connections_ = nullptr;
};

}  // namespace bulkhead::probe::testing

#endif  // BULKHEAD_PROBE_TEST_TLS_SERVER_H_
