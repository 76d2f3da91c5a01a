#include "manager/doctor.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "manager/settings.h"
#include "store/cert_store.h"
#include "util/fs.h"

namespace bulkhead::manager {
namespace {

constexpr uid_t kRenewUid = 1000;
constexpr uid_t kWebUid = 33;
constexpr gid_t kWebGid = 33;
constexpr gid_t kOtherGid = 50;

FileFacts File(mode_t perm, uid_t uid = kRenewUid, gid_t gid = kOtherGid) {
  return FileFacts{static_cast<mode_t>(S_IFREG | perm), uid, gid};
}

FileFacts Dir(mode_t perm, uid_t uid = kRenewUid, gid_t gid = kOtherGid) {
  return FileFacts{static_cast<mode_t>(S_IFDIR | perm), uid, gid};
}

UserIdentity Web() { return UserIdentity{"www", kWebUid, {kWebGid}}; }

RunnerAccess Runner(bool may_read, bool may_write) {
  return RunnerAccess{/*is_root=*/false, may_read, may_write};
}

// ---- ModeAllows -------------------------------------------------------------

TEST(DoctorModeAllows, PicksOwnerThenGroupThenOther) {
  UserIdentity web = Web();
  // Owner class applies even when it grants less than group or other.
  EXPECT_FALSE(ModeAllows(File(0077, kWebUid), web, R_OK));
  EXPECT_TRUE(ModeAllows(File(0400, kWebUid), web, R_OK));
  // Group class, through any of the user's groups.
  EXPECT_TRUE(ModeAllows(File(0040, kRenewUid, kWebGid), web, R_OK));
  EXPECT_FALSE(ModeAllows(File(0704, kRenewUid, kWebGid), web, R_OK));
  UserIdentity supplementary{"www", kWebUid, {7, kOtherGid}};
  EXPECT_TRUE(ModeAllows(File(0020, kRenewUid, kOtherGid), supplementary, W_OK));
  // Other class.
  EXPECT_TRUE(ModeAllows(File(0004), web, R_OK));
  EXPECT_FALSE(ModeAllows(File(0004), web, R_OK | W_OK));
  EXPECT_TRUE(ModeAllows(Dir(0003), web, W_OK | X_OK));
  EXPECT_FALSE(ModeAllows(Dir(0755), web, W_OK | X_OK));
}

TEST(DoctorModeAllows, RootBypassesReadWriteButNeedsAnExecBitOnFiles) {
  UserIdentity root{"root", 0, {0}};
  EXPECT_TRUE(ModeAllows(File(0000), root, R_OK | W_OK));
  EXPECT_FALSE(ModeAllows(File(0600), root, X_OK));
  EXPECT_TRUE(ModeAllows(File(0001), root, X_OK));
  EXPECT_TRUE(ModeAllows(Dir(0000), root, X_OK));
}

// ---- account key --------------------------------------------------------------

TEST(DoctorAccountKey, ReadOnlyKeyPasses) {
  CheckResult r =
      EvaluateAccountKey("ca/default", "/s/account.key", File(0400), Runner(true, false));
  EXPECT_EQ(r.status, CheckStatus::kPass) << r.detail;
  EXPECT_EQ(r.check, "account key ca/default");
  EXPECT_NE(r.detail.find("0400"), std::string::npos);
  EXPECT_TRUE(r.fix.empty());
}

TEST(DoctorAccountKey, WritableByRunnerFails) {
  CheckResult r =
      EvaluateAccountKey("ca/default", "/s/account.key", File(0600), Runner(true, true));
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("writable by the user running renew"), std::string::npos) << r.detail;
  EXPECT_EQ(r.fix, "chmod 0400 /s/account.key");
}

TEST(DoctorAccountKey, GroupOrOtherBitsFail) {
  CheckResult r = EvaluateAccountKey("a", "/k", File(0440), Runner(true, false));
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("may read it"), std::string::npos) << r.detail;
  r = EvaluateAccountKey("a", "/k", File(0402), Runner(true, false));
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("may write it"), std::string::npos) << r.detail;
}

TEST(DoctorAccountKey, UnreadableByRunnerFails) {
  CheckResult r = EvaluateAccountKey("a", "/k", File(0400, 0), Runner(false, false));
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("not readable"), std::string::npos) << r.detail;
}

TEST(DoctorAccountKey, RootIsJudgedByModeBits) {
  RunnerAccess root{/*is_root=*/true, /*may_read=*/true, /*may_write=*/true};
  EXPECT_EQ(EvaluateAccountKey("a", "/k", File(0400, 0, 0), root).status, CheckStatus::kPass);
  EXPECT_EQ(EvaluateAccountKey("a", "/k", File(0600, 0, 0), root).status, CheckStatus::kFail);
  EXPECT_EQ(EvaluateAccountKey("a", "/k", File(0666, 0, 0), root).status, CheckStatus::kFail);
  // A read-only mount protects a key even with a write bit.
  RunnerAccess root_ro{/*is_root=*/true, /*may_read=*/true, /*may_write=*/false};
  EXPECT_EQ(EvaluateAccountKey("a", "/k", File(0600, 0, 0), root_ro).status, CheckStatus::kPass);
}

TEST(DoctorAccountKey, NotARegularFileFails) {
  CheckResult r = EvaluateAccountKey("a", "/k", Dir(0700), Runner(true, false));
  EXPECT_EQ(r.status, CheckStatus::kFail);
}

// ---- challenge directory -------------------------------------------------------

std::vector<std::pair<std::string, FileFacts>> Chain(FileFacts leaf, FileFacts parent = Dir(0755)) {
  return {{"/", Dir(0755, 0, 0)}, {"/srv", parent}, {"/srv/chal", leaf}};
}

TEST(DoctorChallengeDir, WritableByRunnerReadableByWebPasses) {
  UserIdentity web = Web();
  CheckResult r = EvaluateChallengeDir("c", "/srv/chal", true, &web, Chain(Dir(0755)));
  EXPECT_EQ(r.status, CheckStatus::kPass) << r.detail;
  EXPECT_NE(r.detail.find("www can reach it but not write it"), std::string::npos);
}

TEST(DoctorChallengeDir, NotWritableByRunnerFails) {
  CheckResult r = EvaluateChallengeDir("c", "/srv/chal", false, nullptr, {});
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("not writable by the user running renew"), std::string::npos);
}

TEST(DoctorChallengeDir, WritableByWebUserFails) {
  UserIdentity web = Web();
  // Through the other bits, the group, and ownership.
  for (FileFacts leaf : {Dir(0777), Dir(0775, kRenewUid, kWebGid), Dir(0755, kWebUid)}) {
    CheckResult r = EvaluateChallengeDir("c", "/srv/chal", true, &web, Chain(leaf));
    EXPECT_EQ(r.status, CheckStatus::kFail) << std::oct << leaf.mode;
    EXPECT_NE(r.detail.find("/srv/chal is writable by www"), std::string::npos) << r.detail;
  }
}

TEST(DoctorChallengeDir, UnsearchableByWebUserFails) {
  UserIdentity web = Web();
  CheckResult r = EvaluateChallengeDir("c", "/srv/chal", true, &web, Chain(Dir(0700)));
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("www cannot search /srv/chal"), std::string::npos) << r.detail;
  // An ancestor without search permission blocks it as well.
  r = EvaluateChallengeDir("c", "/srv/chal", true, &web, Chain(Dir(0755), Dir(0750)));
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("www cannot search /srv "), std::string::npos) << r.detail;
}

TEST(DoctorChallengeDir, WritableAncestorWarns) {
  UserIdentity web = Web();
  CheckResult r = EvaluateChallengeDir("c", "/srv/chal", true, &web,
                                       Chain(Dir(0755), Dir(0775, kRenewUid, kWebGid)));
  EXPECT_EQ(r.status, CheckStatus::kWarn) << r.detail;
  // A sticky directory like /tmp does not let it replace ours.
  r = EvaluateChallengeDir("c", "/srv/chal", true, &web, Chain(Dir(0755), Dir(01777, 0, 0)));
  EXPECT_EQ(r.status, CheckStatus::kPass) << r.detail;
}

TEST(DoctorChallengeDir, RootWebUserWarns) {
  UserIdentity root{"root", 0, {0}};
  CheckResult r = EvaluateChallengeDir("c", "/srv/chal", true, &root, Chain(Dir(0755)));
  EXPECT_EQ(r.status, CheckStatus::kWarn);
}

// ---- certificate directories and private keys ------------------------------

TEST(DoctorCertDirs, WebUserMustNotWriteAnyLevel) {
  UserIdentity web = Web();
  std::vector<std::pair<std::string, FileFacts>> dirs = {
      {"/s", Dir(0755)}, {"/s/certs", Dir(0700)}, {"/s/certs/a", Dir(0700)}};
  EXPECT_EQ(EvaluateCertDirs(web, dirs).status, CheckStatus::kPass);
  dirs[2].second = Dir(0770, kRenewUid, kWebGid);
  CheckResult r = EvaluateCertDirs(web, dirs);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("/s/certs/a is writable by www"), std::string::npos) << r.detail;
  EXPECT_NE(r.fix.find("chmod go-w /s/certs/a"), std::string::npos) << r.fix;
}

TEST(DoctorPrivateKeys, ModesBeyond0640) {
  EXPECT_EQ(EvaluatePrivateKeys("a", {}).status, CheckStatus::kPass);
  EXPECT_EQ(
      EvaluatePrivateKeys("a", {{"/1/privkey.pem", File(0600)}, {"/2/privkey.pem", File(0640)}})
          .status,
      CheckStatus::kPass);
  CheckResult r =
      EvaluatePrivateKeys("a", {{"/1/privkey.pem", File(0600)}, {"/2/privkey.pem", File(0644)}});
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("/2/privkey.pem is mode 0644"), std::string::npos) << r.detail;
  EXPECT_EQ(EvaluatePrivateKeys("a", {{"/1/privkey.pem", File(0660)}}).status, CheckStatus::kWarn);
}

// ---- kernel ---------------------------------------------------------------------

const CheckResult* Find(const std::vector<CheckResult>& rs, std::string_view check) {
  for (const CheckResult& r : rs) {
    if (r.check == check) {
      return &r;
    }
  }
  return nullptr;
}

TEST(DoctorKernel, FullKernelPassesAndNamesEveryRole) {
  sandbox::Report full{6, true, true, true, true, {}};
  std::vector<CheckResult> rs = KernelChecks(full);
  const CheckResult* landlock = Find(rs, "landlock");
  ASSERT_NE(landlock, nullptr);
  EXPECT_EQ(landlock->status, CheckStatus::kPass);
  EXPECT_NE(landlock->detail.find("ABI 6"), std::string::npos);
  for (const char* role :
       {"role signer", "role keys", "role net", "role challenge", "role store"}) {
    const CheckResult* r = Find(rs, role);
    ASSERT_NE(r, nullptr) << role;
    EXPECT_EQ(r->status, CheckStatus::kPass) << role;
  }
  EXPECT_NE(Find(rs, "role net")->detail.find("connect only to the CA's port"), std::string::npos);
  EXPECT_FALSE(AnyFailed(rs));
}

TEST(DoctorKernel, EveryGapIsAWarning) {
  sandbox::Report old{3, true, false, false, true, {"gap one", "gap two"}};
  std::vector<CheckResult> rs = KernelChecks(old);
  int gaps = 0;
  for (const CheckResult& r : rs) {
    if (r.check == "sandbox gap") {
      EXPECT_EQ(r.status, CheckStatus::kWarn);
      ++gaps;
    }
  }
  EXPECT_EQ(gaps, 2);
  EXPECT_EQ(Find(rs, "landlock")->status, CheckStatus::kWarn);
  EXPECT_EQ(Find(rs, "role net")->status, CheckStatus::kWarn);
  EXPECT_NE(Find(rs, "role net")->detail.find("Landlock TCP ports"), std::string::npos);
  EXPECT_EQ(Find(rs, "role signer")->status, CheckStatus::kPass);
  sandbox::Report none{0, false, false, false, false, {"x"}};
  rs = KernelChecks(none);
  EXPECT_EQ(Find(rs, "seccomp")->status, CheckStatus::kWarn);
  EXPECT_EQ(Find(rs, "role signer")->status, CheckStatus::kWarn);
  EXPECT_FALSE(AnyFailed(rs));  // A weaker sandbox warns; it is not a broken setup.
}

// ---- output ---------------------------------------------------------------------

TEST(DoctorOutput, LineAndJsonShapes) {
  CheckResult fail{"account key a", CheckStatus::kFail, "/k is writable", "chmod 0400 /k"};
  CheckResult pass{"seccomp", CheckStatus::kPass, "available", ""};
  EXPECT_EQ(FormatCheck(fail), "FAIL  account key a: /k is writable; fix: chmod 0400 /k");
  EXPECT_EQ(FormatCheck(pass), "PASS  seccomp: available");
  nlohmann::json j = ChecksToJson({fail, pass});
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["status"], "FAIL");
  EXPECT_EQ(j[0]["check"], "account key a");
  EXPECT_EQ(j[0]["fix"], "chmod 0400 /k");
  EXPECT_EQ(j[1]["fix"], "");
  EXPECT_TRUE(AnyFailed({pass, fail}));
  EXPECT_FALSE(AnyFailed({pass}));
}

// ---- RunDoctor on a temporary state directory --------------------------------

class DoctorRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bulkhead-doctor-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
    state_ = root_ + "/state";
    key_dir_ = state_ + "/accounts/127.0.0.1_14000/default";
    ASSERT_TRUE(MakeDirs(key_dir_, 0700).ok());
    key_ = key_dir_ + "/account.key";
    ASSERT_TRUE(CreateFileExclusive(key_, "not really a key", 0400).ok());
    ASSERT_EQ(::chmod(key_.c_str(), 0400), 0);
  }
  void TearDown() override { (void)RemoveTree(root_); }

  void AddCert(const std::string& name, const std::string& chal_dir) {
    store::CertStore certs(state_ + "/certs");
    CertSettings s;
    s.name = name;
    s.names = {name + ".test"};
    s.method = ChallengeMethod::kChallengeDir;
    s.challenge_target = chal_dir;
    s.server = "https://127.0.0.1:14000/dir";
    ASSERT_TRUE(MakeDirs(certs.CertDir(name) + "/1", 0700).ok());
    ASSERT_TRUE(certs.SaveSettings(name, s.ToJson()).ok());
    std::string key = certs.CertDir(name) + "/1/privkey.pem";
    ASSERT_TRUE(CreateFileExclusive(key, "k", 0600).ok());
  }

  std::vector<CheckResult> Run(const std::string& web_user = "", const std::string& cert = "") {
    auto r = RunDoctor(DoctorOptions{state_, web_user, cert, std::nullopt, false});
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::vector<CheckResult>{};
  }

  std::string root_, state_, key_dir_, key_;
};

TEST_F(DoctorRunTest, SaneSetupHasNoFailure) {
  std::string chal = root_ + "/chal";
  ASSERT_TRUE(MakeDirs(chal, 0755).ok());
  AddCert("a", chal);
  std::vector<CheckResult> rs = Run();
  for (const CheckResult& r : rs) {
    EXPECT_NE(r.status, CheckStatus::kFail) << FormatCheck(r);
  }
  const CheckResult* key = Find(rs, "account key 127.0.0.1_14000/default");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->status, CheckStatus::kPass);
  ASSERT_NE(Find(rs, "challenge dir a"), nullptr);
  EXPECT_EQ(Find(rs, "challenge dir a")->status, CheckStatus::kPass);
  ASSERT_NE(Find(rs, "private keys a"), nullptr);
  EXPECT_EQ(Find(rs, "private keys a")->status, CheckStatus::kPass);
  ASSERT_NE(Find(rs, "landlock"), nullptr);
  ASSERT_NE(Find(rs, "role net"), nullptr);
}

TEST_F(DoctorRunTest, WorldWritableAccountKeyFails) {
  ASSERT_EQ(::chmod(key_.c_str(), 0666), 0);
  std::vector<CheckResult> rs = Run();
  const CheckResult* key = Find(rs, "account key 127.0.0.1_14000/default");
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->status, CheckStatus::kFail);
  EXPECT_TRUE(AnyFailed(rs));
}

TEST_F(DoctorRunTest, OtherReadablePrivateKeyFails) {
  std::string chal = root_ + "/chal";
  ASSERT_TRUE(MakeDirs(chal, 0755).ok());
  AddCert("a", chal);
  ASSERT_EQ(::chmod((state_ + "/certs/a/1/privkey.pem").c_str(), 0644), 0);
  std::vector<CheckResult> results = Run();
  const CheckResult* r = Find(results, "private keys a");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, CheckStatus::kFail);
}

TEST_F(DoctorRunTest, MissingChallengeDirFails) {
  AddCert("a", root_ + "/nowhere");
  std::vector<CheckResult> results = Run();
  const CheckResult* r = Find(results, "challenge dir a");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, CheckStatus::kFail);
}

TEST_F(DoctorRunTest, WebUserChecks) {
  // "nobody" exists on every Debian system; skip quietly elsewhere.
  auto nobody = LookupUser("nobody");
  if (!nobody.ok() || nobody->uid == ::geteuid()) {
    GTEST_SKIP() << "needs a user nobody other than the one running the test";
  }
  std::string chal = root_ + "/chal";
  ASSERT_TRUE(MakeDirs(chal, 0755).ok());
  ASSERT_EQ(::chmod(chal.c_str(), 0755), 0);
  AddCert("a", chal);
  std::vector<CheckResult> rs = Run("nobody");
  EXPECT_EQ(Find(rs, "challenge dir a")->status, CheckStatus::kPass)
      << Find(rs, "challenge dir a")->detail;
  EXPECT_EQ(Find(rs, "certificate dir")->status, CheckStatus::kPass)
      << Find(rs, "certificate dir")->detail;

  ASSERT_EQ(::chmod(chal.c_str(), 0777), 0);
  ASSERT_EQ(::chmod((state_ + "/certs").c_str(), 0777), 0);
  rs = Run("nobody");
  EXPECT_EQ(Find(rs, "challenge dir a")->status, CheckStatus::kFail);
  EXPECT_EQ(Find(rs, "certificate dir")->status, CheckStatus::kFail);
  EXPECT_NE(Find(rs, "certificate dir")->detail.find(state_ + "/certs is writable by nobody"),
            std::string::npos);

  ASSERT_EQ(::chmod(chal.c_str(), 0700), 0);
  rs = Run("nobody");
  EXPECT_NE(Find(rs, "challenge dir a")->detail.find("nobody cannot search"), std::string::npos);
}

TEST_F(DoctorRunTest, UsageErrors) {
  auto r = RunDoctor(DoctorOptions{state_, "no-such-user-bulkhead-test", "", std::nullopt, false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUsage);
  r = RunDoctor(DoctorOptions{state_, "", "not-managed", std::nullopt, false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUsage);
}

TEST_F(DoctorRunTest, CertNameLimitsTheCertificateChecks) {
  std::string chal = root_ + "/chal";
  ASSERT_TRUE(MakeDirs(chal, 0755).ok());
  AddCert("a", chal);
  AddCert("b", root_ + "/nowhere");
  std::vector<CheckResult> rs = Run("", "a");
  EXPECT_NE(Find(rs, "challenge dir a"), nullptr);
  EXPECT_EQ(Find(rs, "challenge dir b"), nullptr);
  EXPECT_FALSE(AnyFailed(rs));
}

TEST(DoctorRoleUserTest, RootRolesWarnAndASwitchPasses) {
  CheckResult root = EvaluateRoleUser(/*is_root=*/true, std::nullopt);
  EXPECT_EQ(root.status, CheckStatus::kWarn);
  EXPECT_NE(root.fix.find("--user"), std::string::npos);
  sandbox::RunAs who;
  who.uid = 4242;
  who.user = "bulkhead";
  who.group = "bulkhead";
  CheckResult switched = EvaluateRoleUser(/*is_root=*/true, who);
  EXPECT_EQ(switched.status, CheckStatus::kPass);
  EXPECT_NE(switched.detail.find("bulkhead:bulkhead (uid 4242)"), std::string::npos);
  EXPECT_EQ(EvaluateRoleUser(/*is_root=*/false, std::nullopt).status, CheckStatus::kPass);
}

}  // namespace
}  // namespace bulkhead::manager
