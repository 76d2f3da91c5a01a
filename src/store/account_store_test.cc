#include "store/account_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::store {
namespace {

mode_t Mode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(CaDirNameTest, Accepts) {
  EXPECT_EQ(*CaDirName("https://127.0.0.1:14000/dir"), "127.0.0.1_14000");
  EXPECT_EQ(*CaDirName("https://acme-v02.api.letsencrypt.org/directory"),
            "acme-v02.api.letsencrypt.org");
  EXPECT_EQ(*CaDirName("https://Example.COM"), "example.com");
  EXPECT_EQ(*CaDirName("https://example.com?x=1"), "example.com");
  EXPECT_EQ(*CaDirName("https://example.com:/dir"), "example.com");  // Empty port: default.
  EXPECT_EQ(*CaDirName("https://[::1]:14000/dir"), "__1_14000");
  EXPECT_EQ(*CaDirName("https://[2001:db8::1]/dir"), "2001_db8__1");
}

TEST(CaDirNameTest, Rejects) {
  for (const char* bad :
       {"example.com/dir", "://example.com/", "https:///dir", "https://../dir", "https://./dir",
        "https://user@example.com/", "https://exa_mple.com/", "https://ex%2fample.com/",
        "https://example.com:99999/", "https://example.com:abc/", "https://example.com:0/",
        "https://[::1/dir", "https://[::1]x/dir", "https://[../]/"}) {
    SCOPED_TRACE(bad);
    Result<std::string> r = CaDirName(bad);
    EXPECT_FALSE(r.ok()) << *r;
  }
}

class AccountStoreTest : public TempDirTest {
 protected:
  std::string AccountDir() const { return dir_ + "/accounts/127.0.0.1_14000/default"; }
};

TEST_F(AccountStoreTest, MissingKeySuggestsRegister) {
  AccountStore store(AccountDir());
  EXPECT_FALSE(store.HasKey());
  Result<Secret> key = store.ReadKey();
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().code, ErrorCode::kNotFound);
  EXPECT_NE(key.error().message.find("bulkhead account register"), std::string::npos);
  EXPECT_NE(key.error().message.find(store.KeyPath()), std::string::npos);
}

TEST_F(AccountStoreTest, CreateKeyIsExclusiveAndReadOnly) {
  AccountStore store(AccountDir());
  Status st = store.CreateKey(Secret("KEY ONE\n"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(store.HasKey());
  EXPECT_EQ(Mode(store.KeyPath()), 0400u);
  EXPECT_EQ(Mode(AccountDir()), 0700u);
  Result<Secret> key = store.ReadKey();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->view(), "KEY ONE\n");

  Status again = store.CreateKey(Secret("KEY TWO\n"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("exists"), std::string::npos);
  EXPECT_EQ(store.ReadKey()->view(), "KEY ONE\n");
}

TEST_F(AccountStoreTest, ReplaceKeyKeepsOldOne) {
  AccountStore store(AccountDir());
  ASSERT_TRUE(store.CreateKey(Secret("OLD\n")).ok());
  Status st = store.ReplaceKey(Secret("NEW\n"));
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(store.ReadKey()->view(), "NEW\n");
  EXPECT_EQ(Mode(store.KeyPath()), 0400u);

  // Replace again within the same second: both backups must survive.
  ASSERT_TRUE(store.ReplaceKey(Secret("NEWER\n")).ok());
  std::vector<std::string> backups;
  DIR* d = ::opendir(AccountDir().c_str());
  ASSERT_NE(d, nullptr);
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind("account.key.old-", 0) == 0) {
      backups.push_back(n);
    }
  }
  ::closedir(d);
  ASSERT_EQ(backups.size(), 2u);
  std::vector<std::string> contents;
  for (const std::string& b : backups) {
    std::string path = AccountDir() + "/" + b;
    EXPECT_EQ(Mode(path), 0400u);
    contents.push_back(*ReadFileCapped(path, 100));
  }
  std::sort(contents.begin(), contents.end());
  EXPECT_EQ(contents, (std::vector<std::string>{"NEW\n", "OLD\n"}));
  EXPECT_EQ(store.ReadKey()->view(), "NEWER\n");
}

TEST_F(AccountStoreTest, InfoRoundTrip) {
  AccountStore store(AccountDir());
  Result<nlohmann::json> missing = store.LoadInfo();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  nlohmann::json info = {{"url", "https://127.0.0.1:14000/my-account/1"},
                         {"contact", {"mailto:a@example.com"}},
                         {"status", "valid"}};
  ASSERT_TRUE(store.SaveInfo(info).ok());
  Result<nlohmann::json> loaded = store.LoadInfo();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, info);

  ASSERT_TRUE(WriteFileAtomic(store.InfoPath(), "[1,", 0600).ok());
  Result<nlohmann::json> bad = store.LoadInfo();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(store.InfoPath()), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::store
