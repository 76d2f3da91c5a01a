#include "challenge/dns01.h"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "ipc/messages.h"
#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::challenge {
namespace {

constexpr char kKeyAuth[] =
    "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
constexpr char kToken[] = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";
// base64url(SHA-256(kKeyAuth)), computed independently.
constexpr char kTxt[] = "_cC5rvB9vM8qzT3MTBcTeVpQwtbNypBXyQnE4fhM9QQ";

using TempDir = TestTempDir;

std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return out;
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      out.insert(n);
    }
  }
  ::closedir(d);
  return out;
}

TEST(Dns01Test, TxtValueIsBase64UrlOfSha256) {
  EXPECT_EQ(Dns01TxtValue(kKeyAuth), kTxt);
  EXPECT_EQ(Dns01TxtValue(kKeyAuth).size(), 43u);
}

TEST(Dns01Test, ChallengeRecordNameStripsWildcardAndLowercases) {
  EXPECT_EQ(*ChallengeRecordName("Example.TEST"), "_acme-challenge.example.test.");
  EXPECT_EQ(*ChallengeRecordName("*.example.test"), "_acme-challenge.example.test.");
  EXPECT_EQ(*ChallengeRecordName("www.example.test."), "_acme-challenge.www.example.test.");
  for (const char* bad : {"", "192.0.2.1", "::1", "a..b", "*.*.x", "a b", "-\n.x", "a/b",
                          "x;rm", "*."}) {
    EXPECT_FALSE(ChallengeRecordName(bad).ok()) << bad;
  }
  EXPECT_FALSE(ChallengeRecordName(std::string(64, 'a') + ".test").ok());
}

TEST(Dns01Test, SafeRecordNames) {
  EXPECT_TRUE(IsSafeRecordName("_acme-challenge.example.test."));
  EXPECT_FALSE(IsSafeRecordName("_acme-challenge.example.test"));  // Not absolute.
  EXPECT_FALSE(IsSafeRecordName("../x."));
  EXPECT_FALSE(IsSafeRecordName("a\"b."));
  EXPECT_FALSE(IsSafeRecordName("a b."));
}

TEST(Dns01Test, DropFileContentIsOneZoneFileLine) {
  EXPECT_EQ(DropFileContent("_acme-challenge.example.test.", 60, kTxt),
            std::string("_acme-challenge.example.test. 60 IN TXT \"") + kTxt + "\"\n");
}

TEST(Dns01Test, ParsesBindStyleTsigKey) {
  auto key = ParseTsigKey(
      "# generated\n"
      "key \"acme-Update\" {\n"
      "\talgorithm hmac-sha256;\n"
      "\tsecret \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\";  // comment\n"
      "};\n");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->name, "acme-update.");
  EXPECT_EQ(key->algorithm, "hmac-sha256");
  EXPECT_EQ(key->secret.view(), "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0");
  // Knot's keymgr/knotc print it unquoted and on one line.
  auto knot = ParseTsigKey("key \"k1\" { algorithm hmac-sha256; secret \"AAAA\"; };");
  ASSERT_TRUE(knot.ok()) << knot.error().message;
  EXPECT_EQ(knot->name, "k1.");
}

TEST(Dns01Test, ParsesOneLineTsigKey) {
  auto a = ParseTsigKey("k1:c2VjcmV0\n");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->name, "k1.");
  EXPECT_EQ(a->secret.view(), "c2VjcmV0");
  auto b = ParseTsigKey("hmac-sha256:k2.example:c2VjcmV0");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->name, "k2.example.");
}

TEST(Dns01Test, RejectsBadTsigKeysWithoutEchoingTheSecret) {
  for (const char* bad : {
           "",
           "k1",
           "hmac-md5:k1:c2VjcmV0",
           "k1:not base64!",
           "key \"k\" { algorithm hmac-md5; secret \"c2VjcmV0\"; };",
           "key \"k\" { algorithm hmac-sha256; };",
           "key \"k\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; ",
           "key \"k\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; include \"x\"; };",
           "key \"bad name\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; };",
           "key \"k\" { algorithm hmac-sha256; secret \"c2Vj\ncmV0\"; };",
       }) {
    auto key = ParseTsigKey(bad);
    ASSERT_FALSE(key.ok()) << bad;
    EXPECT_EQ(key.error().message.find("c2VjcmV0"), std::string::npos) << key.error().message;
  }
}

TEST(Dns01Test, HookRequestsAreStrict) {
  std::string line = HookRequestLine(true, "_acme-challenge.example.test.", kTxt);
  EXPECT_EQ(line, std::string("add _acme-challenge.example.test. ") + kTxt + "\n");
  bool add = false;
  std::string name;
  std::string value;
  ASSERT_TRUE(ParseHookRequest(line.substr(0, line.size() - 1), &add, &name, &value).ok());
  EXPECT_TRUE(add);
  EXPECT_EQ(name, "_acme-challenge.example.test.");
  EXPECT_EQ(value, kTxt);
  std::string v(kTxt);
  for (const std::string& bad : {
           "rm _acme-challenge.example.test. " + v,
           "add _acme-challenge.example.test " + v,  // Not absolute.
           "add www.exam/ple.test. " + v,
           "add _acme-challenge.example.test. " + v + " x",
           "add  _acme-challenge.example.test. " + v,
           "add _acme-challenge.example.test. " + v.substr(1),
           "add _acme-challenge.ex;ample.test. " + v,
           "del _acme-challenge.example.test. " + v.substr(0, 42) + "=",
       }) {
    EXPECT_FALSE(ParseHookRequest(bad, &add, &name, &value).ok()) << bad;
  }
}

// WriteScript writes an executable shell script.
std::string WriteScript(const TempDir& dir, const std::string& body) {
  std::string path = dir.path() + "/hook.sh";
  EXPECT_TRUE(WriteFileAtomic(path, "#!/bin/sh\n" + body, 0755).ok());
  return path;
}

TEST(Dns01Test, RunHookPassesArgumentsAndEnvironment) {
  TempDir dir;
  std::string out = dir.path() + "/out";
  std::string prog = WriteScript(
      dir, "echo \"$# $1 $2 $3 $BULKHEAD_DNS_ACTION $BULKHEAD_DNS_NAME $BULKHEAD_DNS_VALUE "
           "$BULKHEAD_DNS_TTL\" > " + out + "\n");
  Status st = RunHook(prog, true, "_acme-challenge.example.test.", kTxt, 60,
                      std::chrono::seconds(10));
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto got = ReadFileCapped(out, 4096);
  ASSERT_TRUE(got.ok());
  std::string v(kTxt);
  EXPECT_EQ(*got, "3 add _acme-challenge.example.test " + v + " add _acme-challenge.example.test " +
                      v + " 60\n");
}

TEST(Dns01Test, RunHookReportsFailureAndTimeout) {
  TempDir dir;
  std::string prog = WriteScript(dir, "exit 3\n");
  Status st = RunHook(prog, false, "_acme-challenge.example.test.", kTxt, 60,
                      std::chrono::seconds(10));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("exit status 3"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("del"), std::string::npos) << st.error().message;

  std::string slow = WriteScript(dir, "exec sleep 30\n");
  auto start = std::chrono::steady_clock::now();
  st = RunHook(slow, true, "_acme-challenge.example.test.", kTxt, 60,
               std::chrono::milliseconds(300));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("killed after"), std::string::npos) << st.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Dns01Test, HookRunnerRunsTheProgramForTheUpdater) {
  TempDir dir;
  std::string log = dir.path() + "/log";
  std::string prog = WriteScript(dir, "echo \"$1 $2\" >> " + log +
                                          "\ncase \"$2\" in *fail*) exit 1;; esac\n");
  auto runner = HookRunner::Start(prog, 60, std::chrono::seconds(10));
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  std::unique_ptr<RecordUpdater> u = runner->NewUpdater(std::chrono::seconds(10));
  EXPECT_EQ(u->Describe(), "hook " + prog);
  ASSERT_TRUE(u->Add("_acme-challenge.a.test.", kTxt).ok());
  ASSERT_TRUE(u->Delete("_acme-challenge.a.test.", kTxt).ok());
  Status st = u->Add("_acme-challenge.fail.test.", kTxt);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("exit status 1"), std::string::npos) << st.error().message;
  // The updater refuses what the runner would refuse, before sending.
  EXPECT_FALSE(u->Add("_acme-challenge.a.test.", "short").ok());
  auto got = ReadFileCapped(log, 4096);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "add _acme-challenge.a.test\ndel _acme-challenge.a.test\n"
                  "add _acme-challenge.fail.test\n");
  EXPECT_FALSE(HookRunner::Start(dir.path() + "/missing", 60, std::chrono::seconds(1)).ok());
  EXPECT_FALSE(HookRunner::Start("relative/hook", 60, std::chrono::seconds(1)).ok());
}

TEST(Dns01Test, DropUpdaterWritesAndRemovesOneFilePerValue) {
  TempDir dir;
  auto u = NewDropUpdater(dir.path(), 60);
  ASSERT_TRUE(u.ok()) << u.error().message;
  std::string other(43, 'A');
  ASSERT_TRUE((*u)->Add("_acme-challenge.example.test.", kTxt).ok());
  ASSERT_TRUE((*u)->Add("_acme-challenge.example.test.", other).ok());
  std::string f1 = std::string("_acme-challenge.example.test.") + kTxt;
  EXPECT_EQ(ListDir(dir.path()),
            (std::set<std::string>{f1, "_acme-challenge.example.test." + other}));
  auto content = ReadFileCapped(dir.path() + "/" + f1, 4096);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, DropFileContent("_acme-challenge.example.test.", 60, kTxt));
  struct stat st;
  ASSERT_EQ(::stat((dir.path() + "/" + f1).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_TRUE((*u)->Delete("_acme-challenge.example.test.", kTxt).ok());
  ASSERT_TRUE((*u)->Delete("_acme-challenge.example.test.", kTxt).ok());  // Absent: fine.
  EXPECT_EQ(ListDir(dir.path()), (std::set<std::string>{"_acme-challenge.example.test." + other}));
  EXPECT_FALSE((*u)->Add("../../etc.", kTxt).ok());
  EXPECT_FALSE((*u)->Add("_acme-challenge.example.test.", "../x").ok());
  EXPECT_FALSE(NewDropUpdater(dir.path() + "/missing", 60).ok());
}

// Dns01 returns the dns-01 challenge for `identifier` and `token`.
Challenge Dns01(std::string identifier, std::string token, std::string key_authorization = "") {
  return Challenge{std::string(kDns01), std::move(identifier), std::move(token),
                   std::move(key_authorization)};
}

// FakeUpdater records calls.
class FakeUpdater : public RecordUpdater {
 public:
  explicit FakeUpdater(std::vector<std::string>* log) : log_(log) {}
  Status Add(const std::string& n, const std::string& v) override {
    log_->push_back("add " + n + " " + v);
    return OkStatus();
  }
  Status Delete(const std::string& n, const std::string& v) override {
    log_->push_back("del " + n + " " + v);
    return OkStatus();
  }
  std::string Describe() const override { return "fake"; }

 private:
  std::vector<std::string>* log_;
};

TEST(Dns01Test, PublisherNamesRecordsAndRemovesEverything) {
  std::vector<std::string> log;
  Dns01Options o;
  o.follow_cnames = false;
  {
    auto pub = NewDns01Publisher(std::make_unique<FakeUpdater>(&log), o);
    EXPECT_EQ(pub->ChallengeType(), "dns-01");
    EXPECT_FALSE(pub->Publish(Dns01("", kToken, kKeyAuth)).ok());  // Needs the identifier.
    ASSERT_TRUE(pub->Publish(Dns01("*.Example.test", kToken, kKeyAuth)).ok());
    ASSERT_TRUE(pub->Publish(Dns01("example.test", "tok2", "tok2.x")).ok());
    EXPECT_FALSE(pub->Publish(Dns01("192.0.2.1", "tok3", "tok3.x")).ok());
    EXPECT_FALSE(pub->Publish(Dns01("example.test", "../x", "x")).ok());
    ASSERT_TRUE(pub->Remove(Dns01("*.Example.test", kToken)).ok());
    ASSERT_TRUE(pub->Remove(Dns01("example.test", "unknown")).ok());
  }
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0], std::string("add _acme-challenge.example.test. ") + kTxt);
  EXPECT_EQ(log[1], "add _acme-challenge.example.test. " + Dns01TxtValue("tok2.x"));
  EXPECT_EQ(log[2], std::string("del _acme-challenge.example.test. ") + kTxt);
  // The destructor removes what is still published.
  EXPECT_EQ(log[3], "del _acme-challenge.example.test. " + Dns01TxtValue("tok2.x"));
}

TEST(Dns01Test, WaitReadyNamesTheServerThatDoesNotAnswer) {
  // A UDP port nobody listens on: bind one, note it, close it.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  struct sockaddr_in sin = {};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  socklen_t len = sizeof(sin);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len), 0);
  uint16_t port = ntohs(sin.sin_port);
  ::close(fd);

  std::vector<std::string> log;
  Dns01Options o;
  o.follow_cnames = false;
  o.resolver = dns::Server{"127.0.0.1", port};
  o.timeout = std::chrono::seconds(1);
  o.poll_interval = std::chrono::milliseconds(100);
  o.query.timeout = std::chrono::milliseconds(200);
  auto pub = NewDns01Publisher(std::make_unique<FakeUpdater>(&log), o);
  EXPECT_TRUE(pub->WaitReady().ok());  // Nothing published: nothing to wait for.
  ASSERT_TRUE(pub->Publish(Dns01("example.test", kToken, kKeyAuth)).ok());
  auto start = std::chrono::steady_clock::now();
  Status st = pub->WaitReady();
  ASSERT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_NE(st.error().message.find(fmt::format("127.0.0.1:{}", port)), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("_acme-challenge.example.test."), std::string::npos)
      << st.error().message;
}

TEST(Dns01Test, PublishForMessageRoundTripsAndIsStrict) {
  using ipc::MessageType;
  ipc::PublishForRequestMsg in{"*.example.test", kToken, kKeyAuth};
  std::string payload = ipc::Encode(in);
  auto out = ipc::DecodePublishForRequest(ipc::DecodedFrame{MessageType::kPublishForRequest, payload});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, in);
  EXPECT_TRUE(ipc::ValidatePayload(ipc::DecodedFrame{MessageType::kPublishForRequest, payload}).ok());
  for (const ipc::PublishForRequestMsg& bad : {
           ipc::PublishForRequestMsg{"a b", kToken, kKeyAuth},
           ipc::PublishForRequestMsg{"", kToken, kKeyAuth},
           ipc::PublishForRequestMsg{"example.test", kToken, "other.thumb"},
           ipc::PublishForRequestMsg{"example.test", "../x", "../x.y"},
       }) {
    EXPECT_FALSE(ipc::DecodePublishForRequest(
                     ipc::DecodedFrame{MessageType::kPublishForRequest, ipc::Encode(bad)})
                     .ok())
        << bad.identifier;
  }
  EXPECT_FALSE(ipc::DecodePublishForRequest(
                   ipc::DecodedFrame{MessageType::kPublishForRequest,
                                     "{\"identifier\":\"a.test\",\"token\":\"t\"}"})
                   .ok());
  EXPECT_TRUE(ipc::DecodeEmpty(ipc::DecodedFrame{MessageType::kWaitReadyRequest, "{}"},
                               MessageType::kWaitReadyRequest)
                  .ok());
  EXPECT_FALSE(ipc::ValidatePayload(ipc::DecodedFrame{MessageType::kWaitReadyRequest, "{\"x\":1}"})
                   .ok());
  EXPECT_EQ(ipc::MessageTypeName(MessageType::kWaitReadyRequest), "WaitReadyRequest");
}

}  // namespace
}  // namespace bulkhead::challenge
