#include "challenge/preflight.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "manager/settings.h"

namespace bulkhead::challenge {
namespace {

constexpr char kToken[] = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
constexpr char kKeyAuth[] =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

TEST(PreflightUrl, NamesPortsAndIpv6) {
  EXPECT_EQ(ChallengeUrl("a.example", "tok", 80),
            "http://a.example/.well-known/acme-challenge/tok");
  EXPECT_EQ(ChallengeUrl("a.example", "tok", 5002),
            "http://a.example:5002/.well-known/acme-challenge/tok");
  EXPECT_EQ(ChallengeUrl("192.0.2.1", "tok", 80),
            "http://192.0.2.1/.well-known/acme-challenge/tok");
  EXPECT_EQ(ChallengeUrl("2001:db8::1", "tok", 8080),
            "http://[2001:db8::1]:8080/.well-known/acme-challenge/tok");
}

TEST(PreflightEscape, ShowsControlBytesAndCuts) {
  EXPECT_EQ(EscapeForMessage("abc"), "\"abc\"");
  EXPECT_EQ(EscapeForMessage("a\r\n\t\"\\\x01\xff"), "\"a\\r\\n\\t\\x22\\x5c\\x01\\xff\"");
  EXPECT_EQ(EscapeForMessage("abcdef", 3), "\"abc\"...");
  EXPECT_EQ(EscapeForMessage(""), "\"\"");
}

TEST(PreflightCheckServed, AcceptsTheKeyAuthorizationOnly) {
  Served s{"http://a.example/x", 0, 200, kKeyAuth, false};
  EXPECT_TRUE(CheckServed(s, kKeyAuth).ok());
  s.body = std::string(kKeyAuth) + "\r\n \t";
  EXPECT_TRUE(CheckServed(s, kKeyAuth).ok()) << "trailing whitespace is ignored";
  s.body = std::string(" ") + kKeyAuth;
  EXPECT_FALSE(CheckServed(s, kKeyAuth).ok()) << "leading whitespace is not";
  s.body = kKeyAuth;
  s.truncated = true;
  EXPECT_FALSE(CheckServed(s, kKeyAuth).ok());
}

TEST(PreflightCheckServed, MessageShowsStatusAndBody) {
  Served s{"http://a.example/.well-known/acme-challenge/tok", 0, 404,
           "<html>\r\n<head><title>404 Not Found</title>", false};
  Status st = CheckServed(s, kKeyAuth);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "http://a.example/.well-known/acme-challenge/tok answered 404 with "
            "\"<html>\\r\\n<head><title>404 Not Found</title>\", not 200 with the key "
            "authorization");

  s.status = 200;
  s.body = "wrong";
  s.redirects = 2;
  st = CheckServed(s, kKeyAuth);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "http://a.example/.well-known/acme-challenge/tok (after 2 redirects) served 200 "
            "with \"wrong\" instead of the key authorization");

  s.body.clear();
  st = CheckServed(s, kKeyAuth);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("an empty body"), std::string::npos);
}

TEST(PreflightCheckRedirect, OnlyWhatTheCaFollows) {
  EXPECT_TRUE(CheckRedirect("http://b.example/x", 80).ok());
  EXPECT_TRUE(CheckRedirect("https://b.example/x", 80).ok());
  EXPECT_TRUE(CheckRedirect("http://b.example:443/x", 80).ok());
  EXPECT_TRUE(CheckRedirect("http://b.example:5002/x", 5002).ok());
  EXPECT_FALSE(CheckRedirect("http://b.example:8080/x", 80).ok());
  EXPECT_FALSE(CheckRedirect("ftp://b.example/x", 80).ok());
  EXPECT_FALSE(CheckRedirect("not a url", 80).ok());
}

using Responses = std::map<std::string, std::string>;

// TestServer answers HTTP/1.0-style on 127.0.0.1 with canned responses
// chosen by request path ("404" for anything unknown), one connection at a
// time, until destroyed.
class TestServer {
 public:
  explicit TestServer(std::map<std::string, std::string> responses)
      : responses_(std::move(responses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  int requests() const { return requests_; }

 private:
  void Serve() {
    while (!stop_) {
      struct pollfd p = {fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        continue;
      }
      std::string req;
      char buf[1024];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) {
          break;
        }
        req.append(buf, static_cast<size_t>(n));
      }
      ++requests_;
      size_t sp1 = req.find(' ');
      size_t sp2 = req.find(' ', sp1 + 1);
      std::string path = sp1 == std::string::npos ? "" : req.substr(sp1 + 1, sp2 - sp1 - 1);
      auto it = responses_.find(path);
      std::string resp = it != responses_.end()
                             ? it->second
                             : "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n"
                               "Connection: close\r\n\r\nnot found";
      size_t off = 0;
      while (off < resp.size()) {
        ssize_t n = ::write(c, resp.data() + off, resp.size() - off);
        if (n <= 0) {
          break;
        }
        off += static_cast<size_t>(n);
      }
      ::close(c);
    }
  }

  std::map<std::string, std::string> responses_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

std::string Ok(std::string_view body) {
  return fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                     body.size(), body);
}

std::string Redirect(std::string_view location) {
  return fmt::format(
      "HTTP/1.1 302 Found\r\nLocation: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
      location);
}

const std::string kPath = std::string("/.well-known/acme-challenge/") + kToken;

PreflightOptions OptionsFor(uint16_t port) {
  PreflightOptions o;
  o.port = port;
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.hop_timeout = std::chrono::milliseconds(5000);
  o.identifier_timeout = std::chrono::milliseconds(10000);
  return o;
}

TEST(PreflightFetch, PassesWhenTheTokenIsServed) {
  TestServer server(Responses{{kPath, Ok(std::string(kKeyAuth) + "\n")}});
  Status st = Preflight("127.0.0.1", kToken, kKeyAuth, OptionsFor(server.port()));
  EXPECT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(server.requests(), 1);
}

TEST(PreflightFetch, ResolvesNamesThroughTheSystemResolver) {
  TestServer server(Responses{{kPath, Ok(kKeyAuth)}});
  Status st = Preflight("localhost", kToken, kKeyAuth, OptionsFor(server.port()));
  EXPECT_TRUE(st.ok()) << st.error().message;
}

TEST(PreflightFetch, FailsOn404ShowingWhatWasServed) {
  TestServer server(Responses{});
  Status st = Preflight("127.0.0.1", kToken, kKeyAuth, OptionsFor(server.port()));
  ASSERT_FALSE(st.ok());
  const std::string& m = st.error().message;
  EXPECT_NE(m.find("pre-flight check for 127.0.0.1 failed"), std::string::npos) << m;
  EXPECT_NE(m.find("answered 404 with \"not found\""), std::string::npos) << m;
  EXPECT_NE(m.find("no challenge was answered"), std::string::npos) << m;
  EXPECT_NE(m.find("--no-preflight"), std::string::npos) << m;
}

TEST(PreflightFetch, FollowsRelativeRedirects) {
  TestServer server(Responses{{kPath, Redirect("/elsewhere")}, {"/elsewhere", Ok(kKeyAuth)}});
  auto served = FetchChallenge("127.0.0.1", kToken, OptionsFor(server.port()));
  ASSERT_TRUE(served.ok()) << served.error().message;
  EXPECT_EQ(served->redirects, 1);
  EXPECT_EQ(served->status, 200);
  EXPECT_EQ(served->url, fmt::format("http://127.0.0.1:{}/elsewhere", server.port()));
  EXPECT_TRUE(CheckServed(*served, kKeyAuth).ok());
}

TEST(PreflightFetch, StopsRedirectLoopsAndForbiddenTargets) {
  TestServer server(Responses{{kPath, Redirect(kPath)}});
  auto looped = FetchChallenge("127.0.0.1", kToken, OptionsFor(server.port()));
  ASSERT_FALSE(looped.ok());
  EXPECT_NE(looped.error().message.find("more than 10 redirects"), std::string::npos)
      << looped.error().message;
  EXPECT_EQ(server.requests(), kMaxPreflightRedirects + 1);

  TestServer odd(Responses{{kPath, Redirect("http://127.0.0.1:1/x")}});
  auto refused = FetchChallenge("127.0.0.1", kToken, OptionsFor(odd.port()));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("only to ports 80 and 443"), std::string::npos)
      << refused.error().message;
}

TEST(PreflightFetch, CapsTheBody) {
  TestServer server(Responses{{kPath, Ok(std::string(kMaxPreflightBody + 100, 'x'))}});
  auto served = FetchChallenge("127.0.0.1", kToken, OptionsFor(server.port()));
  ASSERT_TRUE(served.ok()) << served.error().message;
  EXPECT_TRUE(served->truncated);
  EXPECT_EQ(served->body.size(), kMaxPreflightBody);
  EXPECT_FALSE(CheckServed(*served, kKeyAuth).ok());
}

TEST(PreflightFetch, NoAnswerIsTransientAndSkipped) {
  uint16_t port;
  {
    TestServer server(Responses{});
    port = server.port();
  }  // Closed: nothing listens there now.
  auto served = FetchChallenge("127.0.0.1", kToken, OptionsFor(port));
  ASSERT_FALSE(served.ok());
  EXPECT_EQ(served.error().code, ErrorCode::kTransient);
  EXPECT_NE(served.error().message.find(fmt::format("http://127.0.0.1:{}/", port)),
            std::string::npos)
      << served.error().message;
  // Without any answer there is nothing to judge: the CA decides.
  EXPECT_TRUE(Preflight("127.0.0.1", kToken, kKeyAuth, OptionsFor(port)).ok());
}

// FakePublisher remembers what is published, like a web root would.
class FakePublisher : public Publisher {
 public:
  explicit FakePublisher(std::map<std::string, std::string>* served) : served_(served) {}
  std::string_view ChallengeType() const override { return kHttp01; }
  Status Publish(const Challenge& challenge) override {
    (*served_)[challenge.token] = challenge.key_authorization;
    return OkStatus();
  }
  Status Remove(const Challenge& challenge) override {
    served_->erase(challenge.token);
    return OkStatus();
  }
  Status WaitReady() override { return OkStatus(); }
  std::string Describe() const override { return "fake"; }

 private:
  std::map<std::string, std::string>* served_;
};

TEST(PreflightPublisher, WaitReadyChecksWhatWasPublishedFor) {
  std::map<std::string, std::string> published;
  TestServer good(Responses{{kPath, Ok(kKeyAuth)}});
  {
    auto pub = NewPreflightPublisher(std::make_unique<FakePublisher>(&published),
                                     OptionsFor(good.port()));
    EXPECT_EQ(pub->Describe(), "fake");
    EXPECT_EQ(pub->ChallengeType(), "http-01");
    ASSERT_TRUE(pub->Publish(Challenge{"http-01", "127.0.0.1", kToken, kKeyAuth}).ok());
    EXPECT_EQ(published[kToken], kKeyAuth);
    Status st = pub->WaitReady();
    EXPECT_TRUE(st.ok()) << st.error().message;
    EXPECT_EQ(good.requests(), 1);
    // A removed token is not checked any more.
    ASSERT_TRUE(pub->Remove(Challenge{"http-01", "127.0.0.1", kToken, kKeyAuth}).ok());
    EXPECT_TRUE(published.empty());
    EXPECT_TRUE(pub->WaitReady().ok());
    EXPECT_EQ(good.requests(), 1);
  }
  TestServer bad(Responses{});
  auto pub = NewPreflightPublisher(std::make_unique<FakePublisher>(&published),
                                   OptionsFor(bad.port()));
  ASSERT_TRUE(pub->Publish(Challenge{"http-01", "127.0.0.1", kToken, kKeyAuth}).ok());
  Status st = pub->WaitReady();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("404"), std::string::npos);
}

TEST(PreflightSettings, RecordedForHttp01AndOffForOldFiles) {
  manager::CertSettings s;
  s.name = "a.example";
  s.names = {"a.example"};
  s.method = manager::ChallengeMethod::kWebroot;
  s.challenge_target = "/var/www";
  s.server = "https://ca.example/dir";
  s.preflight.enabled = true;
  s.preflight.port = 5002;
  s.preflight.resolver = "127.0.0.1:8053";
  nlohmann::json j = s.ToJson();
  EXPECT_EQ(j["challenge"]["preflight"]["enabled"], true);
  EXPECT_EQ(j["challenge"]["preflight"]["port"], 5002);
  auto back = manager::CertSettings::FromJson(j, "settings.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->preflight, s.preflight);

  nlohmann::json old = j;
  old["challenge"].erase("preflight");
  back = manager::CertSettings::FromJson(old, "settings.json");
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->preflight.enabled) << "files from before the check keep renewing without it";

  nlohmann::json bad = j;
  bad["challenge"]["preflight"]["port"] = 70000;
  EXPECT_FALSE(manager::CertSettings::FromJson(bad, "settings.json").ok());
  bad = j;
  bad["challenge"]["preflight"]["enabled"] = "yes";
  EXPECT_FALSE(manager::CertSettings::FromJson(bad, "settings.json").ok());

  s.method = manager::ChallengeMethod::kDnsDrop;
  EXPECT_FALSE(s.ToJson()["challenge"].contains("preflight"));
}

}  // namespace
}  // namespace bulkhead::challenge
