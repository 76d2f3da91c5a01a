#include "manager/dane.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::manager {
namespace {

using DaneStateTest = TempDirTest;

TEST_F(DaneStateTest, MissingIsEmptyAndSavedStateRoundTrips) {
  std::string path = dir_ + "/dane.json";
  auto empty = LoadDaneState(path);
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->current_spki.empty());
  dns::RolloverState s;
  s.current_spki = std::string("\x30\x59\x00\xff", 4);
  s.next_spki = "next";
  s.next_published_since = 1795000000;
  s.ttl = 300;
  ASSERT_TRUE(SaveDaneState(path, s).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  auto back = LoadDaneState(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->current_spki, s.current_spki);
  EXPECT_EQ(back->next_spki, s.next_spki);
  EXPECT_EQ(back->next_published_since, s.next_published_since);
  EXPECT_EQ(back->ttl, s.ttl);
}

TEST_F(DaneStateTest, MalformedStateNamesFileAndField) {
  std::string path = dir_ + "/dane.json";
  for (const char* text :
       {"", "[]", R"({"next_spki":"","next_published_since":0,"ttl":0})",
        R"({"current_spki":"!","next_spki":"","next_published_since":0,"ttl":0})",
        R"({"current_spki":"","next_spki":"","next_published_since":-1,"ttl":0})",
        R"({"current_spki":"","next_spki":"","next_published_since":0,"ttl":4294967295})"}) {
    ASSERT_TRUE(WriteFileAtomic(path, text, 0644).ok());
    auto r = LoadDaneState(path);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
  }
}

TEST(DaneActiveTest, OnlyChangingKeysOfOurOwnWithRecords) {
  CertSettings s;
  EXPECT_FALSE(DaneActive(s));
  s.dane.endpoints = {"mail.example.com:25"};
  EXPECT_TRUE(DaneActive(s));
  s.reuse_key = true;
  EXPECT_FALSE(DaneActive(s));
  s.reuse_key = false;
  s.csr_file = "/etc/csr.pem";
  EXPECT_FALSE(DaneActive(s));
}

TEST(DaneRecordsTest, EveryEndpointGetsBothKeys) {
  CertSettings s;
  s.dane.endpoints = {"mail.example.com:25", "mail.example.com:465"};
  dns::RolloverState state;
  state.current_spki = "current";
  state.next_spki = "next";
  auto lines = DaneRecords(s, state, 300);
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  ASSERT_EQ(lines->size(), 4u);
  EXPECT_EQ((*lines)[0].rfind("_25._tcp.mail.example.com.\t300\tIN\tTLSA\t3 1 1 ", 0), 0u);
  EXPECT_EQ((*lines)[3].rfind("_465._tcp.mail.example.com.\t300\tIN\tTLSA\t3 1 1 ", 0), 0u);
  EXPECT_NE((*lines)[0], (*lines)[1]);
  state.next_spki.clear();
  EXPECT_EQ(DaneRecords(s, state, 300)->size(), 2u);
}

}  // namespace
}  // namespace bulkhead::manager
