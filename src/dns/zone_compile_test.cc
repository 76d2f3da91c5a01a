#include "dns/zone_compile.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::dns {
namespace {

constexpr char kValue[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234";  // 43 chars.

DropPolicy Policy() {
  DropPolicy p;
  p.owners = *ChallengeOwners({"example.test", "*.wild.test", "Mixed.Test."});
  p.min_ttl = 0;
  p.max_ttl = 3600;
  return p;
}

std::string Line(std::string_view owner, std::string_view ttl = "300",
                 std::string_view value = kValue) {
  return fmt::format("{} {} IN TXT \"{}\"\n", owner, ttl, value);
}

// Rejects returns the reason ParseDropFile gives, or "" if it accepts.
std::string Rejects(std::string_view contents) {
  auto r = ParseDropFile(contents, Policy());
  return r.ok() ? "" : r.error().message;
}

TEST(ChallengeOwnersTest, MapsNamesAndWildcards) {
  auto owners = ChallengeOwners({"example.test", "*.wild.test", "Mixed.Test."});
  ASSERT_TRUE(owners.ok());
  EXPECT_EQ(*owners,
            (std::set<std::string>{"_acme-challenge.example.test.", "_acme-challenge.wild.test.",
                                   "_acme-challenge.mixed.test."}));
  EXPECT_FALSE(ChallengeOwners({"bad name"}).ok());
  EXPECT_FALSE(ChallengeOwners({""}).ok());
  EXPECT_FALSE(ChallengeOwners({"a..b"}).ok());
  EXPECT_FALSE(ChallengeOwners({"*.*.x.test"}).ok());
  EXPECT_EQ(ChallengeOwners({"x;y"}).error().code, ErrorCode::kUsage);
}

TEST(ParseDropFileTest, AcceptsTheDropFormat) {
  auto r = ParseDropFile(Line("_acme-challenge.example.test."), Policy());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->owner, "_acme-challenge.example.test.");
  EXPECT_EQ(r->ttl, 300u);
  EXPECT_EQ(r->value, kValue);
  // Wildcard base, case-insensitive owner, no final newline, tabs.
  EXPECT_EQ(Rejects(Line("_acme-challenge.wild.test.")), "");
  auto mixed = ParseDropFile(Line("_ACME-Challenge.MIXED.test."), Policy());
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->owner, "_acme-challenge.mixed.test.");
  std::string no_newline = Line("_acme-challenge.example.test.");
  no_newline.pop_back();
  EXPECT_EQ(Rejects(no_newline), "");
  EXPECT_EQ(Rejects(fmt::format("_acme-challenge.example.test.\t60\tIN\tTXT\t\"{}\"\n", kValue)),
            "");
}

TEST(ParseDropFileTest, RejectsOtherNames) {
  EXPECT_NE(Rejects(Line("_acme-challenge.other.test.")), "");
  EXPECT_NE(Rejects(Line("_acme-challenge.sub.example.test.")), "");
  EXPECT_NE(Rejects(Line("example.test.")), "");
  EXPECT_NE(Rejects(Line("_acme-challenge.example.test")), "");  // relative
  EXPECT_NE(Rejects(Line("_acme-challenge.*.wild.test.")), "");
  EXPECT_NE(Rejects(Line("_acme-challenge.example.test.evil.")), "");
}

TEST(ParseDropFileTest, RejectsOtherShapes) {
  const std::string owner = "_acme-challenge.example.test.";
  EXPECT_NE(Rejects(""), "");
  EXPECT_NE(Rejects("\n"), "");
  EXPECT_NE(Rejects(owner + " 300 IN A 127.0.0.1\n").find("type A"), std::string::npos);
  EXPECT_NE(Rejects(owner + " 300 IN CNAME evil.test.\n"), "");
  EXPECT_NE(Rejects(owner + " 300 IN NS evil.test.\n"), "");
  EXPECT_NE(Rejects(fmt::format("{} 300 CH TXT \"{}\"\n", owner, kValue)).find("class"),
            std::string::npos);
  EXPECT_NE(Rejects(fmt::format("{} IN TXT \"{}\"\n", owner, kValue)), "");   // no TTL
  EXPECT_NE(Rejects(fmt::format("{} 300 TXT \"{}\"\n", owner, kValue)), "");  // no class
  EXPECT_NE(Rejects(fmt::format("{} 300 IN TXT {}\n", owner, kValue)), "");   // unquoted
  EXPECT_NE(Rejects(fmt::format("{} 300 IN TXT \"{}\" \"{}\"\n", owner, kValue, kValue)), "");
  EXPECT_NE(Rejects(fmt::format("{} 1h IN TXT \"{}\"\n", owner, kValue)), "");
}

TEST(ParseDropFileTest, RejectsDirectivesAndSyntax) {
  const std::string owner = "_acme-challenge.example.test.";
  EXPECT_NE(Rejects("$INCLUDE /etc/passwd\n").find("$INCLUDE"), std::string::npos);
  EXPECT_NE(Rejects("$ORIGIN evil.test.\n"), "");
  EXPECT_NE(Rejects("$TTL 1\n"), "");
  EXPECT_NE(Rejects("$GENERATE 1-9 x A 1.2.3.4\n"), "");
  EXPECT_NE(Rejects(Line(owner) + Line(owner)).find("more than one line"), std::string::npos);
  EXPECT_NE(Rejects(Line(owner) + "$INCLUDE x\n"), "");
  EXPECT_NE(Rejects(Line(owner) + "\n"), "");
  EXPECT_NE(Rejects(Line("@")), "");
  EXPECT_NE(Rejects(fmt::format("{} 300 IN TXT \"{}\" ; comment\n", owner, kValue)), "");
  EXPECT_NE(Rejects(fmt::format("{} 300 IN TXT ( \"{}\" )\n", owner, kValue)), "");
  EXPECT_NE(Rejects(fmt::format("{} 300 IN TXT \"a\\\"{}\"\n", owner, kValue)), "");
  EXPECT_NE(Rejects(fmt::format("{} 300 IN TXT \"\\065{}\"\n", owner, kValue + 1)), "");
  EXPECT_NE(Rejects(fmt::format("{} 300 IN TXT \"ab\"cd\"{}\"\n", owner, kValue)), "");
  EXPECT_NE(Rejects(fmt::format("{} 300 IN TXT \"{}\"\r\n", owner, kValue)), "");
  EXPECT_NE(Rejects(std::string("_acme-challenge.example.test.\0 300", 34)), "");
  EXPECT_NE(Rejects(fmt::format("{} 300 IN TXT \"{}\xc3\xa9\"\n", owner, kValue)), "");
  EXPECT_NE(Rejects(fmt::format("{} 300 IN TXT \"{}\x1b\"\n", owner, kValue)), "");
}

TEST(ParseDropFileTest, ChecksValueAndTtl) {
  const std::string owner = "_acme-challenge.example.test.";
  std::string v(kValue);
  EXPECT_NE(Rejects(Line(owner, "300", v.substr(0, 42))).find("42 characters"), std::string::npos);
  EXPECT_NE(Rejects(Line(owner, "300", v + "A")), "");
  EXPECT_NE(Rejects(Line(owner, "300", "")), "");
  EXPECT_NE(Rejects(Line(owner, "300", v.substr(0, 42) + "=")), "");
  EXPECT_NE(Rejects(Line(owner, "300", v.substr(0, 42) + "+")), "");
  EXPECT_NE(Rejects(Line(owner, "300", v.substr(0, 42) + " ")), "");
  EXPECT_EQ(Rejects(Line(owner, "3600")), "");
  EXPECT_NE(Rejects(Line(owner, "3601")).find("TTL"), std::string::npos);
  EXPECT_NE(Rejects(Line(owner, "4294967295")), "");
  DropPolicy strict = Policy();
  strict.min_ttl = 60;
  EXPECT_FALSE(ParseDropFile(Line(owner, "59"), strict).ok());
  EXPECT_TRUE(ParseDropFile(Line(owner, "60"), strict).ok());
}

TEST(FormatDropRecordsTest, SortedDeduplicatedOneTtlPerRrset) {
  std::vector<DropRecord> records = {
      {"_acme-challenge.b.test.", 300, std::string(43, 'b')},
      {"_acme-challenge.a.test.", 300, std::string(43, 'z')},
      {"_acme-challenge.a.test.", 60, std::string(43, 'y')},
      {"_acme-challenge.b.test.", 300, std::string(43, 'b')},
  };
  EXPECT_EQ(FormatDropRecords(records),
            fmt::format("_acme-challenge.a.test. 60 IN TXT \"{}\"\n"
                        "_acme-challenge.a.test. 60 IN TXT \"{}\"\n"
                        "_acme-challenge.b.test. 300 IN TXT \"{}\"\n",
                        std::string(43, 'y'), std::string(43, 'z'), std::string(43, 'b')));
  EXPECT_EQ(FormatDropRecords({}), "");
}

TEST(EscapeFileNameTest, EscapesControlBytes) {
  EXPECT_EQ(EscapeFileName("ok.txt"), "ok.txt");
  EXPECT_EQ(EscapeFileName("a\nb\\c\x7f"), "a\\x0ab\\x5cc\\x7f");
}

TEST(TlsaMapTest, Parses) {
  auto entries = ParseTlsaMap("# comment\n\n/etc/c.pem mail.test 25\n  /x.pem\tweb.test  443\n");
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].cert_file, "/etc/c.pem");
  EXPECT_EQ((*entries)[0].host, "mail.test");
  EXPECT_EQ((*entries)[0].port, 25);
  EXPECT_EQ((*entries)[1].port, 443);
  EXPECT_NE(ParseTlsaMap("a b\n").error().message.find("line 1"), std::string::npos);
  EXPECT_NE(ParseTlsaMap("\na b 0\n").error().message.find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseTlsaMap("a b 65536\n").ok());
  EXPECT_FALSE(ParseTlsaMap("a b 99999999999999\n").ok());
  EXPECT_FALSE(ParseTlsaMap("a b x\n").ok());
  EXPECT_FALSE(ParseTlsaMap("a b..c 25\n").ok());
  EXPECT_FALSE(ParseTlsaMap("a b 25 extra\n").ok());
}

TEST(AllowedHostOwnersTest, LiteralNamesOnly) {
  auto owners = AllowedHostOwners({"Host.Example.Test.", "*.wild.test", "b.test"});
  ASSERT_TRUE(owners.ok()) << owners.error().message;
  EXPECT_EQ(*owners, (std::set<std::string>{"host.example.test.", "b.test."}));
  EXPECT_EQ(AllowedHostOwners({"bad name"}).error().code, ErrorCode::kUsage);
}

TEST(SshfpMapTest, Parses) {
  auto entries = ParseSshfpMap("# key owner\n\n/k/a.pub A.Test.\n  b.pub\tb.test  \n");
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].key_file, "/k/a.pub");
  EXPECT_EQ((*entries)[0].owner, "a.test.");
  EXPECT_EQ((*entries)[0].line, 3u);
  EXPECT_EQ((*entries)[1].owner, "b.test.");
  EXPECT_NE(ParseSshfpMap("a\n").error().message.find("line 1"), std::string::npos);
  EXPECT_NE(ParseSshfpMap("\na b c\n").error().message.find("line 2"), std::string::npos);
  EXPECT_EQ(ParseSshfpMap("a b..c\n").error().code, ErrorCode::kUsage);
  EXPECT_FALSE(ParseSshfpMap("a *.b.test\n").ok());
  EXPECT_FALSE(ParseSshfpMap("a _ssh.b.test\n").ok());
}

constexpr char kEd25519Key[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKelLVKa3i2WsniHTob8HqZDz88N5/EEjxmMVExFXakZ root@h\n";
constexpr char kEd25519Sha1[] = "c6c8be5577661c26b69f3d8a62f80268688eeb13";
constexpr char kEd25519Sha256[] =
    "faf271ee42fddbfa03631d3202e85f9785648094e4694b2fb03d1d15d43e4983";

class SshfpMapRecordsTest : public TempDirTest {
 protected:
  std::string Write(const std::string& name, const std::string& contents) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << contents;
    return dir_ + "/" + name;
  }
  const std::set<std::string> allowed_ = {"a.test.", "b.test."};
};

TEST_F(SshfpMapRecordsTest, SortedRecordsForAllowedOwners) {
  std::string key = Write("ed.pub", kEd25519Key);
  std::vector<SshfpMapEntry> entries = {
      {1, key, "b.test."}, {2, key, "a.test."}, {3, key, "a.test."}};
  auto text = SshfpMapRecords(entries, allowed_, {SshfpHash::kSha1, SshfpHash::kSha256}, 600);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, fmt::format("a.test. 600 IN SSHFP 4 1 {0}\n"
                               "a.test. 600 IN SSHFP 4 2 {1}\n"
                               "b.test. 600 IN SSHFP 4 1 {0}\n"
                               "b.test. 600 IN SSHFP 4 2 {1}\n",
                               kEd25519Sha1, kEd25519Sha256));
  auto none = SshfpMapRecords({}, allowed_, {SshfpHash::kSha256}, 600);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, "");
}

TEST_F(SshfpMapRecordsTest, OwnerOutsideAllowIsRefusedBeforeReading) {
  std::string key = Write("ed.pub", kEd25519Key);
  // The second entry's file does not exist: the owner check comes first.
  std::vector<SshfpMapEntry> entries = {{1, key, "a.test."}, {4, dir_ + "/missing", "evil.test."}};
  auto text = SshfpMapRecords(entries, allowed_, {SshfpHash::kSha256}, 600);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, ErrorCode::kUsage);
  EXPECT_NE(text.error().message.find("line 4"), std::string::npos) << text.error().message;
  EXPECT_NE(text.error().message.find(dir_ + "/missing"), std::string::npos);
  EXPECT_NE(text.error().message.find("owner evil.test. is not an allowed name"),
            std::string::npos);
}

TEST_F(SshfpMapRecordsTest, HostileKeyFilesNameTheFile) {
  auto reason = [&](const std::string& file) {
    auto text = SshfpMapRecords({{1, file, "a.test."}}, allowed_, {SshfpHash::kSha256}, 600);
    EXPECT_FALSE(text.ok()) << file;
    return text.ok() ? "" : text.error().message;
  };
  std::string big = Write("big.pub", kEd25519Key + std::string(kMaxSshKeyFileBytes, 'c') + "\n");
  EXPECT_NE(reason(big).find("limit of 16384"), std::string::npos) << reason(big);
  std::string two = Write("two.pub", std::string(kEd25519Key) + kEd25519Key);
  EXPECT_NE(reason(two).find(two + ": more than one line"), std::string::npos) << reason(two);
  std::string link = dir_ + "/link.pub";
  ASSERT_EQ(::symlink(Write("ed.pub", kEd25519Key).c_str(), link.c_str()), 0);
  EXPECT_NE(reason(link).find("symlink"), std::string::npos) << reason(link);
  std::string fifo = dir_ + "/fifo.pub";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(reason(fifo).find("not a regular file"), std::string::npos) << reason(fifo);
  EXPECT_NE(reason(dir_ + "/missing.pub").find("missing.pub"), std::string::npos);
  std::string bad = Write("bad.pub", "ssh-ed25519 AAAA!AAA\n");
  EXPECT_NE(reason(bad).find(bad + ": the key data is not base64"), std::string::npos)
      << reason(bad);
}

class CompileDropDirTest : public TempDirTest {
 protected:
  void Write(const std::string& name, const std::string& contents) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << contents;
  }
};

TEST_F(CompileDropDirTest, AcceptsGoodRejectsHostile) {
  Write("example.test", Line("_acme-challenge.example.test."));
  Write("wild", Line("_acme-challenge.wild.test.", "60", std::string(43, 'w')));
  Write("other", Line("_acme-challenge.other.test."));
  Write("big", std::string(kMaxDropFileBytes + 1, 'x'));
  Write(".in-progress", "garbage");
  ASSERT_EQ(::symlink((dir_ + "/example.test").c_str(), (dir_ + "/link").c_str()), 0);
  ASSERT_EQ(::mkdir((dir_ + "/subdir").c_str(), 0700), 0);
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  Write(std::string("bad\nname"), "$INCLUDE /etc/shadow\n");

  auto out = CompileDropDir(dir_, Policy());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->skipped_hidden, 1u);
  ASSERT_EQ(out->records.size(), 2u);
  EXPECT_EQ(FormatDropRecords(out->records),
            fmt::format("_acme-challenge.example.test. 300 IN TXT \"{}\"\n"
                        "_acme-challenge.wild.test. 60 IN TXT \"{}\"\n",
                        kValue, std::string(43, 'w')));
  std::map<std::string, std::string> why;
  for (const DropRejection& r : out->rejections) {
    why[r.file] = r.reason;
  }
  ASSERT_EQ(why.size(), 6u);
  EXPECT_NE(why["other"].find("owner"), std::string::npos) << why["other"];
  EXPECT_NE(why["big"].find("limit"), std::string::npos) << why["big"];
  EXPECT_NE(why["link"].find("symbolic link"), std::string::npos) << why["link"];
  EXPECT_NE(why["subdir"].find("directory"), std::string::npos) << why["subdir"];
  EXPECT_NE(why["fifo"].find("not a regular file"), std::string::npos) << why["fifo"];
  EXPECT_NE(why["bad\\x0aname"].find("$INCLUDE"), std::string::npos);
}

TEST_F(CompileDropDirTest, MissingDirectoryFails) {
  EXPECT_FALSE(CompileDropDir(dir_ + "/nope", Policy()).ok());
  auto empty = CompileDropDir(dir_, Policy());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->records.empty());
  EXPECT_TRUE(empty->rejections.empty());
}

}  // namespace
}  // namespace bulkhead::dns
