#include "challenge/http01.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::challenge {
namespace {

constexpr char kToken[] = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
constexpr char kKeyAuth[] =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

mode_t Mode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Http01 returns the http-01 challenge for `token`; the directory and
// standalone publishers do not look at the identifier.
Challenge Http01(std::string token, std::string key_authorization = "") {
  return Challenge{std::string(kHttp01), "a.example", std::move(token),
                   std::move(key_authorization)};
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

using DirectoryPublisherTest = TempDirTest;

TEST_F(DirectoryPublisherTest, WebrootPublishRemoveAndCleanup) {
  std::string challenge_dir = dir_ + "/.well-known/acme-challenge";
  {
    Result<std::unique_ptr<Publisher>> pub = NewDirectoryPublisher(dir_, /*webroot=*/true);
    ASSERT_TRUE(pub.ok()) << pub.error().message;
    EXPECT_EQ((*pub)->Describe(), "webroot " + dir_);
    EXPECT_EQ(Mode(challenge_dir), 0755u);

    ASSERT_TRUE((*pub)->Publish(Http01(kToken, kKeyAuth)).ok());
    std::string file = challenge_dir + "/" + kToken;
    EXPECT_EQ(*ReadFileCapped(file, 1024), kKeyAuth);  // Exactly, no newline.
    EXPECT_EQ(Mode(file), 0644u);

    ASSERT_TRUE((*pub)->Remove(Http01(kToken)).ok());
    EXPECT_FALSE(Exists(file));
    EXPECT_TRUE((*pub)->Remove(Http01(kToken)).ok());
    EXPECT_TRUE((*pub)->Remove(Http01("never-published")).ok());

    ASSERT_TRUE((*pub)->Publish(Http01("tokenA", "tokenA.x")).ok());
    ASSERT_TRUE((*pub)->Publish(Http01("tokenB", "tokenB.x")).ok());
    EXPECT_TRUE(Exists(challenge_dir + "/tokenA"));
  }
  // The destructor removed what was still published, and only that.
  EXPECT_FALSE(Exists(challenge_dir + "/tokenA"));
  EXPECT_FALSE(Exists(challenge_dir + "/tokenB"));
  EXPECT_TRUE(Exists(challenge_dir));
}

TEST_F(DirectoryPublisherTest, RemoveNeverTouchesForeignFiles) {
  Result<std::unique_ptr<Publisher>> pub = NewDirectoryPublisher(dir_, /*webroot=*/false);
  ASSERT_TRUE(pub.ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/foreign", "x", 0644).ok());
  EXPECT_TRUE((*pub)->Remove(Http01("foreign")).ok());
  EXPECT_TRUE(Exists(dir_ + "/foreign"));
}

TEST_F(DirectoryPublisherTest, RejectsUnsafeTokens) {
  Result<std::unique_ptr<Publisher>> pub = NewDirectoryPublisher(dir_, /*webroot=*/false);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ((*pub)->Describe(), "challenge directory " + dir_);
  for (std::string bad : {std::string("../escape"), std::string("a/b"), std::string(""),
                          std::string("to ken"), std::string(".."), std::string("a=")}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE((*pub)->Publish(Http01(bad, "x")).ok());
  }
  Status st = (*pub)->Publish(Http01("\x1b[31mred" + std::string(200, 'a'), "x"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.find('\x1b'), std::string::npos);
  EXPECT_LT(st.error().message.size(), 200u);
  EXPECT_NE(st.error().message.find("\\x1b"), std::string::npos) << st.error().message;
  EXPECT_FALSE(Exists(DirName(dir_) + "/escape"));
}

TEST_F(DirectoryPublisherTest, MissingDirectoriesAreErrors) {
  std::string missing = dir_ + "/nope";
  Result<std::unique_ptr<Publisher>> plain = NewDirectoryPublisher(missing, /*webroot=*/false);
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find(missing), std::string::npos);
  Result<std::unique_ptr<Publisher>> web = NewDirectoryPublisher(missing, /*webroot=*/true);
  ASSERT_FALSE(web.ok());
  EXPECT_NE(web.error().message.find(missing), std::string::npos);
  EXPECT_FALSE(Exists(missing));
}

TEST_F(DirectoryPublisherTest, RefusesAPlantedSymlinkAndIsNotRedirectedLater) {
  std::string webroot = dir_ + "/www";
  std::string elsewhere = dir_ + "/elsewhere";  // Stands for /etc.
  ASSERT_TRUE(MakeDirs(webroot + "/.well-known", 0755).ok());
  ASSERT_TRUE(MakeDirs(elsewhere, 0755).ok());
  // A symlink at the challenge directory, then at .well-known: refused,
  // naming it, and nothing is created behind it.
  ASSERT_EQ(::symlink(elsewhere.c_str(), (webroot + "/.well-known/acme-challenge").c_str()), 0);
  auto at_dir = NewDirectoryPublisher(webroot, /*webroot=*/true);
  ASSERT_FALSE(at_dir.ok());
  EXPECT_NE(at_dir.error().message.find(webroot + "/.well-known/acme-challenge is a symlink"),
            std::string::npos)
      << at_dir.error().message;
  ASSERT_EQ(::unlink((webroot + "/.well-known/acme-challenge").c_str()), 0);
  ASSERT_EQ(::rmdir((webroot + "/.well-known").c_str()), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), (webroot + "/.well-known").c_str()), 0);
  auto at_parent = NewDirectoryPublisher(webroot, /*webroot=*/true);
  ASSERT_FALSE(at_parent.ok());
  EXPECT_NE(at_parent.error().message.find(webroot + "/.well-known is a symlink"),
            std::string::npos)
      << at_parent.error().message;
  // A challenge directory that is itself a symlink (challenge-dir mode).
  auto plain = NewDirectoryPublisher(webroot + "/.well-known", /*webroot=*/false);
  ASSERT_FALSE(plain.ok());
  EXPECT_FALSE(Exists(elsewhere + "/acme-challenge"));
  ASSERT_EQ(::unlink((webroot + "/.well-known").c_str()), 0);

  // Opened while the path was clean, then the directory is swapped for a
  // symlink: writes and removals stay in the directory that was opened.
  auto pub = NewDirectoryPublisher(webroot, /*webroot=*/true);
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  std::string challenge = webroot + "/.well-known/acme-challenge";
  ASSERT_EQ(::rename(challenge.c_str(), (dir_ + "/moved").c_str()), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), challenge.c_str()), 0);
  ASSERT_TRUE((*pub)->Publish(Http01(kToken, kKeyAuth)).ok());
  EXPECT_FALSE(Exists(elsewhere + "/" + kToken));
  EXPECT_TRUE(Exists(dir_ + "/moved/" + kToken));
  ASSERT_TRUE(WriteFileAtomic(elsewhere + "/" + kToken, "theirs", 0644).ok());
  ASSERT_TRUE((*pub)->Remove(Http01(kToken)).ok());
  EXPECT_FALSE(Exists(dir_ + "/moved/" + kToken));
  EXPECT_TRUE(Exists(elsewhere + "/" + kToken)) << "a removal went through the symlink";
}

// PortOf extracts the port from "standalone server on 127.0.0.1:1234".
int PortOf(const Publisher& pub) {
  std::string d = pub.Describe();
  return std::atoi(d.substr(d.rfind(':') + 1).c_str());
}

// ConnectLoopback returns a socket connected to 127.0.0.1:port, or -1.
int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  struct sockaddr_in sin = {};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<struct sockaddr*>(&sin), sizeof(sin)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Fetch sends `request` and returns everything the server sent until it
// closed the connection (or "" on error or after 5 s).
std::string Fetch(int port, const std::string& request) {
  int fd = ConnectLoopback(port);
  if (fd < 0) {
    return "";
  }
  std::string out;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return "";
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      out.clear();
      break;
    }
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string Get(int port, const std::string& path) {
  return Fetch(port, "GET " + path + " HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
}

TEST(StandalonePublisherTest, AnswersChallengesOverLoopback) {
  Result<std::unique_ptr<Publisher>> pub = NewStandalonePublisher("127.0.0.1:0");
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  int port = PortOf(**pub);
  ASSERT_GT(port, 0) << (*pub)->Describe();
  ASSERT_TRUE((*pub)->Publish(Http01(kToken, kKeyAuth)).ok());

  std::string ok = Get(port, std::string("/.well-known/acme-challenge/") + kToken);
  EXPECT_EQ(ok.rfind("HTTP/1.0 200 ", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain\r\n"), std::string::npos);
  EXPECT_NE(ok.find("Connection: close\r\n"), std::string::npos);
  size_t body = ok.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(ok.substr(body + 4), kKeyAuth);

  std::string unknown = Get(port, "/.well-known/acme-challenge/unknown");
  EXPECT_EQ(unknown.rfind("HTTP/1.0 404 ", 0), 0u) << unknown;
  EXPECT_EQ(Get(port, "/").rfind("HTTP/1.0 404 ", 0), 0u);
  EXPECT_EQ(Fetch(port, "garbage\n\n").rfind("HTTP/1.0 404 ", 0), 0u);
  std::string post =
      Fetch(port, std::string("POST /.well-known/acme-challenge/") + kToken + " HTTP/1.1\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.0 404 ", 0), 0u);

  ASSERT_TRUE((*pub)->Remove(Http01(kToken)).ok());
  EXPECT_EQ(
      Get(port, std::string("/.well-known/acme-challenge/") + kToken).rfind("HTTP/1.0 404 ", 0),
      0u);
  EXPECT_FALSE((*pub)->Publish(Http01("../x", "y")).ok());
}

TEST(StandalonePublisherTest, SlowClientDoesNotBlockOthers) {
  Result<std::unique_ptr<Publisher>> pub = NewStandalonePublisher("127.0.0.1:0");
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  int port = PortOf(**pub);
  ASSERT_TRUE((*pub)->Publish(Http01(kToken, kKeyAuth)).ok());
  // Two idle connections, one with a partial request, stay open...
  int idle = ConnectLoopback(port);
  int partial = ConnectLoopback(port);
  ASSERT_GE(idle, 0);
  ASSERT_GE(partial, 0);
  ASSERT_EQ(::send(partial, "GET /", 5, MSG_NOSIGNAL), 5);
  // ...while a real request is answered at once.
  std::string ok = Get(port, std::string("/.well-known/acme-challenge/") + kToken);
  EXPECT_EQ(ok.rfind("HTTP/1.0 200 ", 0), 0u) << ok;
  ::close(idle);
  ::close(partial);
}

TEST(StandalonePublisherTest, OversizedRequestIsRefused) {
  Result<std::unique_ptr<Publisher>> pub = NewStandalonePublisher("127.0.0.1:0");
  ASSERT_TRUE(pub.ok());
  int port = PortOf(**pub);
  std::string huge = "GET /" + std::string(9000, 'a');
  std::string resp = Fetch(port, huge);
  EXPECT_EQ(resp.rfind("HTTP/1.0 431 ", 0), 0u) << resp.substr(0, 100);
}

TEST(StandalonePublisherTest, StopsPromptlyAndClosesSocket) {
  int port = 0;
  {
    Result<std::unique_ptr<Publisher>> pub = NewStandalonePublisher("127.0.0.1:0");
    ASSERT_TRUE(pub.ok());
    port = PortOf(**pub);
    int idle = ConnectLoopback(port);  // An open connection must not delay the stop.
    ASSERT_GE(idle, 0);
    auto start = std::chrono::steady_clock::now();
    pub->reset();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    ::close(idle);
  }
  EXPECT_LT(ConnectLoopback(port), 0);
}

TEST(StandalonePublisherTest, BadAddressesAreErrors) {
  for (const char* bad :
       {"nonsense", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:http", "[::1:80", "::1:80"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(NewStandalonePublisher(bad).ok());
  }
}

TEST(StandalonePublisherTest, PortInUseNamesAddress) {
  Result<std::unique_ptr<Publisher>> first = NewStandalonePublisher("127.0.0.1:0");
  ASSERT_TRUE(first.ok());
  std::string addr = "127.0.0.1:" + std::to_string(PortOf(**first));
  Result<std::unique_ptr<Publisher>> second = NewStandalonePublisher(addr);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find(addr), std::string::npos) << second.error().message;
  EXPECT_NE(second.error().message.find("port in use"), std::string::npos);
}

TEST(StandalonePublisherTest, ListensOnIpv6Loopback) {
  int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 sin6 = {};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_addr = in6addr_loopback;
  bool have_v6 =
      probe >= 0 && ::bind(probe, reinterpret_cast<struct sockaddr*>(&sin6), sizeof(sin6)) == 0;
  if (probe >= 0) {
    ::close(probe);
  }
  if (!have_v6) {
    GTEST_SKIP() << "no IPv6 loopback";
  }
  Result<std::unique_ptr<Publisher>> pub = NewStandalonePublisher("[::1]:0");
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ((*pub)->Describe().rfind("standalone server on [::1]:", 0), 0u) << (*pub)->Describe();
}

}  // namespace
}  // namespace bulkhead::challenge

namespace bulkhead::challenge {
namespace {

TEST(SweepStaleTokens, RemovesOnlyOurOwnTokens) {
  TestTempDir tmp;
  ASSERT_TRUE(tmp.ok());
  std::string dir = tmp.path();
  auto write = [&](const std::string& name, const std::string& body) {
    ASSERT_TRUE(WriteFileAtomic(dir + "/" + name, body, 0644).ok());
  };
  write("tokA", "tokA.thumb");            // Ours: removed.
  write("tokB", "tokB.other");            // Another account's: kept.
  write("index.html", "index.html.thumb");  // Not a token name ('.'): kept.
  write("tokC", "tokC.thumb\n");          // Not exactly ours: kept.
  EXPECT_EQ(*SweepStaleTokens(dir, "thumb", /*min_age_seconds=*/3600), 0);  // All fresh.
  auto removed = SweepStaleTokens(dir, "thumb", /*min_age_seconds=*/0);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 1);
  struct stat st;
  EXPECT_NE(::stat((dir + "/tokA").c_str(), &st), 0);
  EXPECT_EQ(::stat((dir + "/tokB").c_str(), &st), 0);
  EXPECT_EQ(::stat((dir + "/index.html").c_str(), &st), 0);
  EXPECT_EQ(::stat((dir + "/tokC").c_str(), &st), 0);
  EXPECT_EQ(*SweepStaleTokens(dir + "/missing", "thumb", 0), 0);
  EXPECT_FALSE(SweepStaleTokens(dir, "bad thumb", 0).ok());
  // A directory reached through a symlink is not swept.
  write("tokE", "tokE.thumb");
  ASSERT_EQ(::symlink(dir.c_str(), (dir + "-via").c_str()), 0);
  auto via = SweepStaleTokens(dir + "-via", "thumb", 0);
  EXPECT_FALSE(via.ok());
  EXPECT_EQ(::stat((dir + "/tokE").c_str(), &st), 0);
  ::unlink((dir + "-via").c_str());
  ASSERT_TRUE(RemoveTree(dir).ok());
}

}  // namespace
}  // namespace bulkhead::challenge

