#include "manager/ids_policy.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "util/fs.h"
#include "util/test_tmpdir.h"

namespace bulkhead::manager {
namespace {

TEST(IdsPolicyTest, AideRulesQuoteThePathOrRefuseIt) {
  Result<std::string> rules = AidePolicy("/var/lib/bulkhead.d");
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  // '.' matches only itself; the account tree has hashes and no ANF.
  EXPECT_NE(rules->find("/var/lib/bulkhead[.]d/accounts/ 0 BulkheadFixed\n"), std::string::npos);
  EXPECT_NE(rules->find("BulkheadFixed = ftype+p+u+g+s+sha256+sha512\n"), std::string::npos);

  EXPECT_EQ(AidePolicy("relative/dir").error().code, ErrorCode::kUsage);
  // A newline would start a rule of its own; a space or '@' means something
  // to the config parser, '*' to the regular expression.
  for (const char* bad : {"/state\n/ R", "/st ate", "/st@te", "/st*te", "/st\\ate"}) {
    Result<std::string> refused = AidePolicy(bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::kUsage);
    EXPECT_EQ(refused.error().message.find('\n'), std::string::npos);
  }
}

class MtreePolicyTest : public TempDirTest {};

TEST_F(MtreePolicyTest, AccountFilesHashedCertificatesIgnored) {
  ASSERT_TRUE(MakeDirs(dir_ + "/accounts/ca/default", 0700).ok());
  ASSERT_TRUE(CreateFileExclusive(dir_ + "/accounts/ca/default/account.key", "abc", 0400).ok());
  ASSERT_TRUE(MakeDirs(dir_ + "/certs/we ird#/1", 0700).ok());
  ASSERT_EQ(::symlink("1", (dir_ + "/certs/we ird#/live").c_str()), 0);
  ASSERT_TRUE(CreateFileExclusive(dir_ + "/ledger.sqlite", "x", 0600).ok());

  Result<std::string> spec = MtreePolicy(dir_);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  // SHA-256 of "abc".
  EXPECT_NE(spec->find("./accounts/ca/default/account.key type=file mode=0400"), std::string::npos);
  EXPECT_NE(spec->find("size=3 sha256digest="
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            std::string::npos);
  // A name with a space or '#' is escaped; below a certificate nothing is listed.
  EXPECT_NE(spec->find("./certs/we\\040ird\\043 type=dir"), std::string::npos);
  EXPECT_EQ(spec->find("live"), std::string::npos);
  EXPECT_NE(spec->find("./ledger.sqlite type=file mode=0600"), std::string::npos);
  EXPECT_NE(spec->find(" optional ignore\n"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::manager
