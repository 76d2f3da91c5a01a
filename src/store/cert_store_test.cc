#include "store/cert_store.h"
#include "util/test_tmpdir.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace bulkhead::store {
namespace {

mode_t Mode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return out;
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      out.push_back(n);
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::string LinkTarget(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

// Snapshot records name, mode, inode, mtime and content of every file in a
// directory, to prove it was not touched.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  struct stat dst;
  EXPECT_EQ(::lstat(dir.c_str(), &dst), 0);
  out["."] = fmt::format("{} {} {}", dst.st_mode, dst.st_ino, dst.st_mtim.tv_nsec);
  for (const std::string& n : Entries(dir)) {
    std::string p = dir + "/" + n;
    struct stat st;
    EXPECT_EQ(::lstat(p.c_str(), &st), 0);
    Result<std::string> content = ReadFileCapped(p, 1 << 20);
    out[n] = fmt::format("{} {} {}.{} {}", st.st_mode, st.st_ino, st.st_mtim.tv_sec,
                         st.st_mtim.tv_nsec, content.ok() ? *content : "?");
  }
  return out;
}

CertFiles MakeFiles(int i, bool with_key = true) {
  CertFiles f;
  if (with_key) {
    f.privkey_pem = Secret(fmt::format("KEY {}\n", i));
  }
  f.cert_pem = fmt::format("CERT {}\n", i);
  f.chain_pem = fmt::format("CHAIN {}\n", i);
  f.fullchain_pem = f.cert_pem + f.chain_pem;
  return f;
}

class CertStoreTest : public TempDirTest {
 protected:
  std::string Root() const { return dir_ + "/certs"; }
};

TEST(CertNameTest, Validity) {
  EXPECT_TRUE(IsValidCertName("example.com"));
  EXPECT_TRUE(IsValidCertName("_.example.com"));
  EXPECT_TRUE(IsValidCertName("a-b_c.9"));
  EXPECT_TRUE(IsValidCertName(std::string(100, 'a')));
  EXPECT_FALSE(IsValidCertName(std::string(101, 'a')));
  EXPECT_FALSE(IsValidCertName(""));
  EXPECT_FALSE(IsValidCertName(".hidden"));
  EXPECT_FALSE(IsValidCertName(".."));
  EXPECT_FALSE(IsValidCertName("a/b"));
  EXPECT_FALSE(IsValidCertName("*.example.com"));
  EXPECT_FALSE(IsValidCertName("a b"));
  EXPECT_FALSE(IsValidCertName(std::string("a\0b", 3)));
}

TEST(CertNameTest, Default) {
  EXPECT_EQ(DefaultCertName("example.com"), "example.com");
  EXPECT_EQ(DefaultCertName("*.example.com"), "_.example.com");
  EXPECT_EQ(DefaultCertName("2001:db8::1"), "2001_db8__1");
  EXPECT_TRUE(IsValidCertName(DefaultCertName("*.example.com")));
  EXPECT_TRUE(IsValidCertName(DefaultCertName(".weird/../name")));
  EXPECT_TRUE(IsValidCertName(DefaultCertName("")));
  EXPECT_TRUE(IsValidCertName(DefaultCertName(std::string(300, 'x'))));
}

TEST_F(CertStoreTest, InvalidNamesAreRejectedEverywhere) {
  CertStore store(Root());
  for (const std::string& bad :
       std::vector<std::string>{"../escape", "a/b", ".hidden", "", std::string(101, 'n')}) {
    SCOPED_TRACE(bad);
    Result<FileLock> lock = store.Lock(bad, /*wait=*/false);
    ASSERT_FALSE(lock.ok());
    EXPECT_EQ(lock.error().code, ErrorCode::kUsage);
    Result<nlohmann::json> settings = store.LoadSettings(bad);
    ASSERT_FALSE(settings.ok());
    EXPECT_EQ(settings.error().code, ErrorCode::kUsage);
    Status saved = store.SaveSettings(bad, nlohmann::json::object());
    ASSERT_FALSE(saved.ok());
    EXPECT_EQ(saved.error().code, ErrorCode::kUsage);
    Result<LiveSet> live = store.LoadLive(bad);
    ASSERT_FALSE(live.ok());
    EXPECT_EQ(live.error().code, ErrorCode::kUsage);
    Result<Secret> key = store.ReadLiveKey(bad);
    ASSERT_FALSE(key.ok());
    EXPECT_EQ(key.error().code, ErrorCode::kUsage);
    Result<int> committed = store.Commit(bad, MakeFiles(1));
    ASSERT_FALSE(committed.ok());
    EXPECT_EQ(committed.error().code, ErrorCode::kUsage);
  }
  // Nothing was created anywhere, in particular not beside the root.
  EXPECT_TRUE(Entries(dir_).empty());
}

TEST_F(CertStoreTest, SettingsRoundTrip) {
  CertStore store(Root());
  Result<nlohmann::json> missing = store.LoadSettings("example.com");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  nlohmann::json s = {{"identifiers", {"example.com", "www.example.com"}}, {"key_type", "ec256"}};
  ASSERT_TRUE(store.SaveSettings("example.com", s).ok());
  std::string path = store.CertDir("example.com") + "/settings.json";
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(Mode(store.CertDir("example.com")), 0700u);
  Result<nlohmann::json> loaded = store.LoadSettings("example.com");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(*loaded, s);
}

TEST_F(CertStoreTest, BadSettingsJsonNamesTheFile) {
  CertStore store(Root());
  ASSERT_TRUE(MakeDirs(store.CertDir("x"), 0700).ok());
  std::string path = store.CertDir("x") + "/settings.json";
  ASSERT_TRUE(WriteFileAtomic(path, "{not json", 0600).ok());
  Result<nlohmann::json> r = store.LoadSettings("x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;

  ASSERT_TRUE(WriteFileAtomic(path, std::string(65 << 10, ' '), 0600).ok());
  EXPECT_FALSE(store.LoadSettings("x").ok());
}

TEST_F(CertStoreTest, ListManagedNamesSorted) {
  CertStore store(Root());
  Result<std::vector<std::string>> empty = store.List();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(store.SaveSettings("zeta.example", {{"a", 1}}).ok());
  ASSERT_TRUE(store.SaveSettings("alpha.example", {{"a", 1}}).ok());
  ASSERT_TRUE(MakeDirs(store.CertDir("unmanaged"), 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(Root() + "/stray-file", "x", 0600).ok());
  Result<std::vector<std::string>> names = store.List();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"alpha.example", "zeta.example"}));
}

TEST_F(CertStoreTest, LoadLiveBeforeCommitIsNotFound) {
  CertStore store(Root());
  Result<LiveSet> live = store.LoadLive("example.com");
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.error().code, ErrorCode::kNotFound);
  Result<Secret> key = store.ReadLiveKey("example.com");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, ErrorCode::kNotFound);
}

TEST_F(CertStoreTest, CommitWritesCompleteSetWithModes) {
  CertStore store(Root());
  Result<int> v = store.Commit("example.com", MakeFiles(1));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, 1);
  std::string dir = store.CertDir("example.com");
  EXPECT_EQ(LinkTarget(dir + "/live"), "1");
  EXPECT_EQ(Mode(dir + "/1"), 0700u);
  EXPECT_EQ(Mode(dir + "/1/privkey.pem"), 0600u);
  EXPECT_EQ(Mode(dir + "/1/cert.pem"), 0644u);
  EXPECT_EQ(Mode(dir + "/1/chain.pem"), 0644u);
  EXPECT_EQ(Mode(dir + "/1/fullchain.pem"), 0644u);

  Result<LiveSet> live = store.LoadLive("example.com");
  ASSERT_TRUE(live.ok()) << live.error().message;
  EXPECT_EQ(live->version, 1);
  EXPECT_EQ(live->cert_pem, "CERT 1\n");
  EXPECT_EQ(live->fullchain_pem, "CERT 1\nCHAIN 1\n");
  EXPECT_TRUE(live->has_key);
  EXPECT_EQ(live->dir[0], '/');
  EXPECT_TRUE(Exists(live->dir + "/cert.pem"));
  Result<Secret> key = store.ReadLiveKey("example.com");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->view(), "KEY 1\n");
  // Only the version, the link and nothing temporary.
  EXPECT_EQ(Entries(dir), (std::vector<std::string>{"1", "live"}));
}

TEST_F(CertStoreTest, NextKeyIsPrivateAndReplacedWhole) {
  CertStore store(Root());
  EXPECT_EQ(store.ReadNextKey("example.com").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store.WriteNextKey("example.com", Secret(std::string("KEY A\n")), "PUB A\n").ok());
  std::string next = store.NextDir("example.com");
  EXPECT_EQ(Mode(next + "/privkey.pem"), 0600u);
  EXPECT_EQ(Mode(next + "/pubkey.pem"), 0644u);
  // What a run killed between create and rename leaves behind goes.
  ASSERT_TRUE(WriteFileAtomic(next + "/privkey.pem.tmp-abc", "OLD", 0600).ok());
  ASSERT_TRUE(store.WriteNextKey("example.com", Secret(std::string("KEY B\n")), "PUB B\n").ok());
  auto key = store.ReadNextKey("example.com");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->view(), "KEY B\n");
  EXPECT_EQ(Entries(next), (std::vector<std::string>{"privkey.pem", "pubkey.pem"}));
  // A commit leaves next/ alone: it is not a version or a leftover.
  ASSERT_TRUE(store.Commit("example.com", MakeFiles(1)).ok());
  EXPECT_EQ(Entries(next), (std::vector<std::string>{"privkey.pem", "pubkey.pem"}));
}

TEST_F(CertStoreTest, CommitWithoutKey) {
  CertStore store(Root());
  ASSERT_TRUE(store.Commit("csr", MakeFiles(1, /*with_key=*/false)).ok());
  Result<LiveSet> live = store.LoadLive("csr");
  ASSERT_TRUE(live.ok());
  EXPECT_FALSE(live->has_key);
  EXPECT_FALSE(Exists(live->dir + "/privkey.pem"));
  Result<Secret> key = store.ReadLiveKey("csr");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, ErrorCode::kNotFound);
}

TEST_F(CertStoreTest, SevenCommitsKeepFiveAndNeverTouchOldVersions) {
  CertStore store(Root());
  std::string dir = store.CertDir("example.com");
  for (int i = 1; i <= 7; ++i) {
    std::map<std::string, std::string> before;
    if (i > 1) {
      before = Snapshot(fmt::format("{}/{}", dir, i - 1));
    }
    Result<int> v = store.Commit("example.com", MakeFiles(i));
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(*v, i);
    EXPECT_EQ(LinkTarget(dir + "/live"), std::to_string(i));
    if (i > 1) {
      EXPECT_EQ(Snapshot(fmt::format("{}/{}", dir, i - 1)), before) << "version " << i - 1;
    }
  }
  EXPECT_EQ(Entries(dir), (std::vector<std::string>{"3", "4", "5", "6", "7", "live"}));
  Result<LiveSet> live = store.LoadLive("example.com");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(live->version, 7);
  EXPECT_EQ(live->cert_pem, "CERT 7\n");
}

TEST_F(CertStoreTest, VersionsAndSetLiveRollBackWithoutRemovingAnything) {
  CertStore store(Root());
  std::string dir = store.CertDir("example.com");
  for (int i = 1; i <= 3; ++i) {
    CertFiles f = MakeFiles(i);
    f.settings_json = fmt::format("{{\"names\": [\"v{}.example\"]}}\n", i);
    ASSERT_TRUE(store.Commit("example.com", f).ok());
  }
  EXPECT_EQ(Mode(dir + "/2/settings.json"), 0600u);
  Result<VersionList> list = store.Versions("example.com");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(list->versions, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(list->live, 3);

  Result<nlohmann::json> kept = store.LoadVersionSettings("example.com", 2);
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_EQ((*kept)["names"][0], "v2.example");
  Result<Secret> key = store.ReadVersionKey("example.com", 1);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->view(), "KEY 1\n");

  std::map<std::string, std::string> before = Snapshot(dir + "/3");
  ASSERT_TRUE(store.SetLive("example.com", 2).ok());
  EXPECT_EQ(LinkTarget(dir + "/live"), "2");
  EXPECT_EQ(store.LoadLive("example.com")->cert_pem, "CERT 2\n");
  EXPECT_EQ(Snapshot(dir + "/3"), before);  // The newer version is kept as it was.

  // The next commit continues after the highest number, not after live.
  Result<int> next = store.Commit("example.com", MakeFiles(4));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 4);
  EXPECT_EQ(LinkTarget(dir + "/live"), "4");
}

TEST_F(CertStoreTest, SetLiveRefusesMissingIncompleteAndSymlinkedVersions) {
  CertStore store(Root());
  std::string dir = store.CertDir("example.com");
  ASSERT_TRUE(store.Commit("example.com", MakeFiles(1)).ok());
  ASSERT_TRUE(store.Commit("example.com", MakeFiles(2, /*with_key=*/false)).ok());

  Result<LiveSet> missing = store.LoadVersion("example.com", 9);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(store.SetLive("example.com", 9).ok());

  Result<Secret> no_key = store.ReadVersionKey("example.com", 2);
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store.LoadVersionSettings("example.com", 2).error().code, ErrorCode::kNotFound);

  ASSERT_EQ(::unlink((dir + "/1/fullchain.pem").c_str()), 0);
  Status incomplete = store.SetLive("example.com", 1);
  ASSERT_FALSE(incomplete.ok());
  EXPECT_NE(incomplete.error().message.find("fullchain.pem"), std::string::npos);

  // A version that is a symlink (to a directory elsewhere) is not followed.
  ASSERT_TRUE(MakeDirs(dir_ + "/elsewhere", 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/elsewhere/cert.pem", "X", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/elsewhere/fullchain.pem", "X", 0644).ok());
  ASSERT_EQ(::symlink((dir_ + "/elsewhere").c_str(), (dir + "/7").c_str()), 0);
  Status linked = store.SetLive("example.com", 7);
  ASSERT_FALSE(linked.ok());
  EXPECT_NE(linked.error().message.find("symlink"), std::string::npos);
  EXPECT_EQ(LinkTarget(dir + "/live"), "2");
}

TEST_F(CertStoreTest, ReaderAlwaysSeesCompleteSet) {
  CertStore store(Root());
  ASSERT_TRUE(store.Commit("example.com", MakeFiles(0)).ok());
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> failures{0};
  std::thread reader([&] {
    while (!done.load()) {
      Result<LiveSet> live = store.LoadLive("example.com");
      // A set is complete and consistent when the fullchain starts with the
      // leaf of the same version.
      if (!live.ok() || live->fullchain_pem.rfind(live->cert_pem, 0) != 0 ||
          live->cert_pem != fmt::format("CERT {}\n", live->version - 1)) {
        failures.fetch_add(1);
      }
      reads.fetch_add(1);
    }
  });
  // Stay within kKeepVersions so that pruning cannot remove a version the
  // reader has just resolved; pruning is covered above.
  for (int i = 1; i < kKeepVersions; ++i) {
    Result<int> v = store.Commit("example.com", MakeFiles(i));
    ASSERT_TRUE(v.ok()) << v.error().message;
  }
  // Let the reader see the final state at least once before stopping.
  int seen = reads.load();
  while (reads.load() < seen + 2) {
    std::this_thread::yield();
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST_F(CertStoreTest, CommitCleansLeftovers) {
  CertStore store(Root());
  ASSERT_TRUE(store.Commit("example.com", MakeFiles(1)).ok());
  std::string dir = store.CertDir("example.com");
  // What an interrupted commit leaves behind.
  ASSERT_TRUE(MakeDirs(dir + "/.new-2-deadbeef", 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/.new-2-deadbeef/privkey.pem", "half", 0600).ok());
  ASSERT_EQ(::symlink("2", (dir + "/live.tmp-0123").c_str()), 0);
  ASSERT_TRUE(MakeDirs(dir + "/5", 0700).ok());  // Incomplete: no cert.pem.
  ASSERT_TRUE(WriteFileAtomic(dir + "/5/privkey.pem", "half", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/settings.json.tmp-77", "{", 0600).ok());
  ASSERT_TRUE(store.SaveSettings("example.com", {{"a", 1}}).ok());

  Result<int> v = store.Commit("example.com", MakeFiles(2));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, 2);
  EXPECT_EQ(Entries(dir), (std::vector<std::string>{"1", "2", "live", "settings.json"}));
  EXPECT_EQ(LinkTarget(dir + "/live"), "2");
}

TEST_F(CertStoreTest, VersionFollowsHighestExisting) {
  CertStore store(Root());
  ASSERT_TRUE(store.Commit("example.com", MakeFiles(1)).ok());
  std::string dir = store.CertDir("example.com");
  // A complete, non-live version (for example after a rollback) is kept and
  // numbered past.
  ASSERT_TRUE(MakeDirs(dir + "/4", 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/4/cert.pem", "C", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/4/fullchain.pem", "F", 0644).ok());
  Result<int> v = store.Commit("example.com", MakeFiles(2));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 5);
  EXPECT_TRUE(Exists(dir + "/4/cert.pem"));
}

TEST_F(CertStoreTest, LockIsExclusive) {
  CertStore store(Root());
  Result<FileLock> first = store.Lock("example.com", /*wait=*/false);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(Mode(store.CertDir("example.com")), 0700u);
  Result<FileLock> second = store.Lock("example.com", /*wait=*/false);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("lock"), std::string::npos);
  EXPECT_TRUE(store.Lock("other.example", /*wait=*/false).ok());
}

}  // namespace
}  // namespace bulkhead::store
