#include "manager/doctor.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "crypto/key.h"
#include "jose/jwk.h"
#include "manager/settings.h"
#include "store/account_store.h"
#include "store/cert_store.h"
#include "util/fs.h"
#include "util/test_tmpdir.h"

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

// ---- account directories, thumbprints, state directories -------------------

TEST(DoctorRenewerMayWrite, OtherUserIsJudgedByItsModeBits) {
  UserIdentity renewer{"renewer", kRenewUid, {kOtherGid}};
  // Root's 0700 directory: the --user identity cannot write it.
  EXPECT_FALSE(RenewerMayWrite(Dir(0700, 0, 0), &renewer, true, true, false));
  // Its own 0700 directory, its group's 0770 one, everyone's 0777 one.
  EXPECT_TRUE(RenewerMayWrite(Dir(0700), &renewer, true, true, false));
  EXPECT_TRUE(RenewerMayWrite(Dir(0770, 0, kOtherGid), &renewer, true, true, false));
  EXPECT_TRUE(RenewerMayWrite(Dir(0777, 0, 0), &renewer, true, true, false));
  // Write without search is no way to swap an entry.
  EXPECT_FALSE(RenewerMayWrite(Dir(0200), &renewer, true, true, false));
  // A file needs only the write bit.
  EXPECT_TRUE(RenewerMayWrite(File(0600), &renewer, true, true, false));
  EXPECT_FALSE(RenewerMayWrite(File(0400), &renewer, true, true, false));
  // A read-only mount stops everyone.
  EXPECT_FALSE(RenewerMayWrite(Dir(0777, 0, 0), &renewer, true, true, true));
}

TEST(DoctorRenewerMayWrite, DoctorItselfIsJudgedByAccessAndRootByWriteBits) {
  // Not root: access(2)'s answer.
  EXPECT_TRUE(RenewerMayWrite(Dir(0500), nullptr, false, true, false));
  EXPECT_FALSE(RenewerMayWrite(Dir(0700), nullptr, false, false, false));
  // Root: access(2) says yes to everything but a read-only mount, so the
  // write bits decide.
  EXPECT_TRUE(RenewerMayWrite(Dir(0700, 0, 0), nullptr, true, true, false));
  EXPECT_FALSE(RenewerMayWrite(Dir(0500, 0, 0), nullptr, true, true, false));
  EXPECT_FALSE(RenewerMayWrite(Dir(0700, 0, 0), nullptr, true, false, false));
}

TEST(DoctorAccountDirs, WritableByTheRenewingUserFails) {
  UserIdentity renewer{"renewer", kRenewUid, {kOtherGid}};
  std::vector<WritablePath> dirs = {{"/s/accounts", Dir(0500), false},
                                    {"/s/accounts/ca", Dir(0500), false},
                                    {"/s/accounts/ca/default", Dir(0500), false}};
  CheckResult r = EvaluateAccountDirs("ca/default", renewer, dirs);
  EXPECT_EQ(r.status, CheckStatus::kPass) << r.detail;
  EXPECT_EQ(r.check, "account dir ca/default");

  // Its own key directory: it could swap the key.
  dirs[2] = {"/s/accounts/ca/default", Dir(0700), true};
  r = EvaluateAccountDirs("ca/default", renewer, dirs);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("/s/accounts/ca/default is writable by renewer (mode 0700"),
            std::string::npos)
      << r.detail;
  EXPECT_NE(r.detail.find("unnoticed"), std::string::npos) << r.detail;
  EXPECT_EQ(r.fix.find("chmod a-w /s/accounts/ca/default; "), 0u) << r.fix;
  EXPECT_NE(r.fix.find("ReadOnlyPaths=/s/accounts"), std::string::npos) << r.fix;

  // accounts/ through its group: the group bit is what to remove.
  dirs[2].renewer_may_write = false;
  dirs[0] = {"/s/accounts", Dir(0770, 0, kOtherGid), true};
  r = EvaluateAccountDirs("ca/default", renewer, dirs);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("/s/accounts is writable by renewer"), std::string::npos) << r.detail;
  EXPECT_EQ(r.fix.find("chmod go-w /s/accounts; "), 0u) << r.fix;
  EXPECT_EQ(r.fix.find("chmod a-w"), std::string::npos) << r.fix;
}

TEST(DoctorAccountThumbprint, MismatchFailsNamingBothThumbprints) {
  KeyThumbprint t{"recordedTP", "foundTP", "", ""};
  CheckResult r = EvaluateAccountThumbprint("ca/default", "/s/a/account.key", t);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_EQ(r.check, "account thumbprint ca/default");
  EXPECT_EQ(r.detail,
            "the account key does not match the one registered (thumbprint recordedTP recorded, "
            "foundTP found): someone replaced account.key");
  EXPECT_NE(r.fix.find("restore it from account.key backups (account.key.old-* in /s/a)"),
            std::string::npos)
      << r.fix;
  EXPECT_NE(r.fix.find("bulkhead account register"), std::string::npos) << r.fix;
  // A hostile account.json cannot garble the terminal.
  t.recorded = "x\x1b[2Jy";
  r = EvaluateAccountThumbprint("a", "/k", t);
  EXPECT_EQ(r.detail.find('\x1b'), std::string::npos) << r.detail;
}

TEST(DoctorAccountThumbprint, MatchPassesAndTheRestIsNamed) {
  CheckResult r = EvaluateAccountThumbprint("a", "/k", KeyThumbprint{"tp", "tp", "", ""});
  EXPECT_EQ(r.status, CheckStatus::kPass) << r.detail;
  EXPECT_NE(r.detail.find("thumbprint tp"), std::string::npos) << r.detail;
  r = EvaluateAccountThumbprint("a", "/k", KeyThumbprint{"", "tp", "", ""});
  EXPECT_EQ(r.status, CheckStatus::kWarn);
  EXPECT_NE(r.fix.find("account show"), std::string::npos) << r.fix;
  r = EvaluateAccountThumbprint("a", "/k", KeyThumbprint{"tp", "", "Permission denied", ""});
  EXPECT_EQ(r.status, CheckStatus::kWarn);
  EXPECT_NE(r.detail.find("cannot read /k"), std::string::npos) << r.detail;
  r = EvaluateAccountThumbprint("a", "/k", KeyThumbprint{"tp", "", "", "no PEM"});
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("no usable account key"), std::string::npos) << r.detail;
}

TEST(DoctorStateDirs, EveryUserMustNotWriteState) {
  std::vector<std::pair<std::string, FileFacts>> ancestors = {{"/", Dir(0755, 0, 0)},
                                                              {"/tmp", Dir(01777, 0, 0)}};
  std::vector<std::pair<std::string, FileFacts>> dirs = {
      {"/tmp/s", Dir(0700)}, {"/tmp/s/certs", Dir(0700)}, {"/tmp/s/certs/a", Dir(0755)}};
  CheckResult r = EvaluateStateDirs(ancestors, dirs);
  EXPECT_EQ(r.status, CheckStatus::kPass) << r.detail;  // A sticky /tmp is fine.
  EXPECT_EQ(r.check, "state dir");

  dirs[0].second = Dir(0777);
  r = EvaluateStateDirs(ancestors, dirs);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("/tmp/s is mode 0777: every user may write it"), std::string::npos)
      << r.detail;
  EXPECT_EQ(r.fix, "chmod o-w /tmp/s");

  dirs[0].second = Dir(0700);
  dirs[2].second = Dir(0777);
  r = EvaluateStateDirs(ancestors, dirs);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("/tmp/s/certs/a is mode 0777"), std::string::npos) << r.detail;

  // A world-writable, non-sticky parent lets anyone replace the state.
  dirs[2].second = Dir(0755);
  ancestors[1].second = Dir(0777, 0, 0);
  r = EvaluateStateDirs(ancestors, dirs);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("/tmp is mode 0777"), std::string::npos) << r.detail;
}

TEST(DoctorChallengeRole, SaysWhatItConnectsToPerMethod) {
  CertSettings s;
  s.name = "a";
  s.method = ChallengeMethod::kWebroot;
  s.challenge_target = "/srv/www";
  CheckResult r = ChallengeRoleLine(s);
  EXPECT_EQ(r.check, "challenge role a");
  EXPECT_EQ(r.status, CheckStatus::kInfo);
  EXPECT_NE(r.detail.find("opens no connection"), std::string::npos) << r.detail;

  s.preflight.enabled = true;
  s.preflight.port = 8080;
  s.preflight.resolver = "127.0.0.1:5353";
  r = ChallengeRoleLine(s);
  EXPECT_NE(r.detail.find("resolves the names itself (resolver 127.0.0.1:5353)"),
            std::string::npos)
      << r.detail;
  EXPECT_NE(r.detail.find("ports 8080, 80, 443, 5353"), std::string::npos) << r.detail;

  s.method = ChallengeMethod::kDnsRfc2136;
  s.challenge_target = "127.0.0.1:5300";
  s.dns.resolver = "";
  r = ChallengeRoleLine(s);
  EXPECT_NE(r.detail.find("UDP to any address, TCP to ports 53, 5300"), std::string::npos)
      << r.detail;
  EXPECT_NE(r.detail.find("RFC 2136 update to 127.0.0.1:5300"), std::string::npos) << r.detail;
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
  // The challenge role does connect, for the pre-flight check and dns-01.
  const std::string& chal = Find(rs, "role challenge")->detail;
  EXPECT_EQ(chal.find("never connects"), std::string::npos) << chal;
  EXPECT_NE(chal.find("pre-flight check (TCP to the pre-flight port, 80, 443"), std::string::npos)
      << chal;
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

class DoctorRunTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (HasFatalFailure()) {
      return;
    }
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    state_ = dir_ + "/state";
    key_dir_ = state_ + "/accounts/127.0.0.1_14000/default";
    ASSERT_TRUE(MakeDirs(key_dir_, 0700).ok());
    key_ = key_dir_ + "/account.key";
    std::string thumbprint;
    ASSERT_TRUE(WriteNewKey(&thumbprint));
    nlohmann::json info = {{"url", "https://127.0.0.1:14000/my-account/1"},
                           {"status", "valid"},
                           {"thumbprint", thumbprint}};
    ASSERT_TRUE(WriteFileAtomic(key_dir_ + "/account.json", info.dump(), 0600).ok());
    // As a sane deployment keeps them: renew's user may not change them.
    SetAccountDirsMode(0500);
  }
  void TearDown() override {
    SetAccountDirsMode(0700);
    TempDirTest::TearDown();
  }

  // WriteNewKey replaces account.key with a freshly generated key (0400)
  // and returns its thumbprint.
  bool WriteNewKey(std::string* thumbprint) {
    auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEc256);
    if (!key.ok()) {
      return false;
    }
    auto pem = key->ToPem();
    auto jwk = jose::PublicJwk(*key);
    auto tp = jwk.ok() ? jose::Thumbprint(*jwk) : Result<std::string>(jwk.error());
    if (!pem.ok() || !tp.ok()) {
      return false;
    }
    ::unlink(key_.c_str());
    if (!CreateFileExclusive(key_, pem->view(), 0400).ok() || ::chmod(key_.c_str(), 0400) != 0) {
      return false;
    }
    *thumbprint = *tp;
    return true;
  }

  void SetAccountDirsMode(mode_t mode) {
    for (const std::string& d :
         {state_ + "/accounts", state_ + "/accounts/127.0.0.1_14000", key_dir_}) {
      ::chmod(d.c_str(), mode);
    }
  }

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

  std::vector<CheckResult> Run(const std::string& web_user = "", const std::string& cert = "",
                               const std::optional<sandbox::RunAs>& run_as = std::nullopt) {
    auto r = RunDoctor(DoctorOptions{state_, web_user, cert, run_as, false});
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::vector<CheckResult>{};
  }

  std::string state_, key_dir_, key_;
};

TEST_F(DoctorRunTest, SaneSetupHasNoFailure) {
  std::string chal = dir_ + "/chal";
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
  ASSERT_NE(Find(rs, "account dir 127.0.0.1_14000/default"), nullptr);
  EXPECT_EQ(Find(rs, "account dir 127.0.0.1_14000/default")->status, CheckStatus::kPass);
  ASSERT_NE(Find(rs, "state dir"), nullptr);
  EXPECT_EQ(Find(rs, "state dir")->status, CheckStatus::kPass);
  ASSERT_NE(Find(rs, "challenge role a"), nullptr);
  EXPECT_EQ(Find(rs, "challenge role a")->status, CheckStatus::kInfo);
}

TEST_F(DoctorRunTest, MatchingKeyPassesAndASwappedKeyFails) {
  std::vector<CheckResult> rs = Run();
  const CheckResult* tp = Find(rs, "account thumbprint 127.0.0.1_14000/default");
  ASSERT_NE(tp, nullptr);
  EXPECT_EQ(tp->status, CheckStatus::kPass) << tp->detail;

  auto info = store::AccountStore(key_dir_).LoadInfo();
  ASSERT_TRUE(info.ok());
  std::string recorded = (*info)["thumbprint"];
  SetAccountDirsMode(0700);
  std::string swapped;
  ASSERT_TRUE(WriteNewKey(&swapped));
  SetAccountDirsMode(0500);
  ASSERT_NE(recorded, swapped);
  rs = Run();
  tp = Find(rs, "account thumbprint 127.0.0.1_14000/default");
  ASSERT_NE(tp, nullptr);
  EXPECT_EQ(tp->status, CheckStatus::kFail);
  EXPECT_EQ(tp->detail, "the account key does not match the one registered (thumbprint " +
                            recorded + " recorded, " + swapped +
                            " found): someone replaced account.key");
  EXPECT_NE(tp->fix.find("account.key.old-* in " + key_dir_), std::string::npos) << tp->fix;
  EXPECT_TRUE(AnyFailed(rs));
  // The key's own mode is fine: only the thumbprint tells.
  EXPECT_EQ(Find(rs, "account key 127.0.0.1_14000/default")->status, CheckStatus::kPass);
}

TEST_F(DoctorRunTest, GarbageInAccountKeyFails) {
  SetAccountDirsMode(0700);
  ::unlink(key_.c_str());
  ASSERT_TRUE(CreateFileExclusive(key_, "not really a key", 0400).ok());
  SetAccountDirsMode(0500);
  const CheckResult* tp = nullptr;
  std::vector<CheckResult> rs = Run();
  tp = Find(rs, "account thumbprint 127.0.0.1_14000/default");
  ASSERT_NE(tp, nullptr);
  EXPECT_EQ(tp->status, CheckStatus::kFail);
  EXPECT_NE(tp->detail.find("no usable account key"), std::string::npos) << tp->detail;
}

TEST_F(DoctorRunTest, AccountDirWritableByTheRenewingUserFails) {
  // The invoking user (no --user) owns a 0700 key directory: it could put
  // another key there. (As root the write bit decides, as for the key.)
  ASSERT_EQ(::chmod(key_dir_.c_str(), 0700), 0);
  std::vector<CheckResult> rs = Run();
  const CheckResult* r = Find(rs, "account dir 127.0.0.1_14000/default");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, CheckStatus::kFail);
  EXPECT_NE(r->detail.find(key_dir_ + " is writable by "), std::string::npos) << r->detail;
  EXPECT_NE(r->fix.find("chmod a-w " + key_dir_), std::string::npos) << r->fix;
  EXPECT_TRUE(AnyFailed(rs));

  // The same for accounts/ itself.
  ASSERT_EQ(::chmod(key_dir_.c_str(), 0500), 0);
  ASSERT_EQ(::chmod((state_ + "/accounts").c_str(), 0700), 0);
  rs = Run();
  r = Find(rs, "account dir 127.0.0.1_14000/default");
  EXPECT_EQ(r->status, CheckStatus::kFail);
  EXPECT_NE(r->detail.find(state_ + "/accounts is writable by "), std::string::npos) << r->detail;
}

TEST_F(DoctorRunTest, AccountDirsAreJudgedForTheUserGivenWithUser) {
  // With --user, the roles' user is judged by mode bits: a directory only
  // its owner may write is closed to it, one everyone may write is not.
  sandbox::RunAs renewer;
  renewer.uid = 4242;
  renewer.gid = 4242;
  renewer.user = "renewer";
  renewer.group = "renewer";
  SetAccountDirsMode(0700);
  std::vector<CheckResult> rs = Run("", "", renewer);
  const CheckResult* r = Find(rs, "account dir 127.0.0.1_14000/default");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, CheckStatus::kPass) << r->detail;
  EXPECT_EQ(Find(rs, "account key 127.0.0.1_14000/default")->status, CheckStatus::kPass);

  ASSERT_EQ(::chmod((state_ + "/accounts/127.0.0.1_14000").c_str(), 0777), 0);
  rs = Run("", "", renewer);
  r = Find(rs, "account dir 127.0.0.1_14000/default");
  EXPECT_EQ(r->status, CheckStatus::kFail);
  EXPECT_NE(r->detail.find("/accounts/127.0.0.1_14000 is writable by renewer"),
            std::string::npos)
      << r->detail;
  EXPECT_NE(r->fix.find("chmod go-w " + state_ + "/accounts/127.0.0.1_14000"), std::string::npos)
      << r->fix;
  // Everyone may write it, so the state check fails as well.
  EXPECT_EQ(Find(rs, "state dir")->status, CheckStatus::kFail);

  // The key file itself, writable by everyone (and so by the renewer).
  ASSERT_EQ(::chmod((state_ + "/accounts/127.0.0.1_14000").c_str(), 0700), 0);
  ASSERT_EQ(::chmod(key_.c_str(), 0602), 0);
  rs = Run("", "", renewer);
  r = Find(rs, "account key 127.0.0.1_14000/default");
  EXPECT_EQ(r->status, CheckStatus::kFail);
  EXPECT_NE(r->detail.find("writable by the user running renew"), std::string::npos) << r->detail;
}

TEST_F(DoctorRunTest, WorldWritableStateOrCertDirFailsWithoutWebUser) {
  std::string chal = dir_ + "/chal";
  ASSERT_TRUE(MakeDirs(chal, 0755).ok());
  AddCert("a", chal);
  ASSERT_EQ(::chmod(state_.c_str(), 0777), 0);
  std::vector<CheckResult> rs = Run();
  const CheckResult* r = Find(rs, "state dir");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, CheckStatus::kFail);
  EXPECT_NE(r->detail.find(state_ + " is mode 0777: every user may write it"), std::string::npos)
      << r->detail;
  EXPECT_EQ(r->fix, "chmod o-w " + state_);
  EXPECT_TRUE(AnyFailed(rs));

  ASSERT_EQ(::chmod(state_.c_str(), 0700), 0);
  std::string cert = state_ + "/certs/a";
  ASSERT_EQ(::chmod(cert.c_str(), 0777), 0);
  rs = Run();
  r = Find(rs, "state dir");
  EXPECT_EQ(r->status, CheckStatus::kFail);
  EXPECT_NE(r->detail.find(cert + " is mode 0777"), std::string::npos) << r->detail;
  // Without --web-user the certificate dir line only says it was skipped.
  EXPECT_EQ(Find(rs, "certificate dir")->status, CheckStatus::kInfo);
}

TEST_F(DoctorRunTest, WorldWritableCertDirWithWebUserFailsBothWays) {
  auto nobody = LookupUser("nobody");
  if (!nobody.ok() || nobody->uid == ::geteuid()) {
    GTEST_SKIP() << "needs a user nobody other than the one running the test";
  }
  std::string chal = dir_ + "/chal";
  ASSERT_TRUE(MakeDirs(chal, 0755).ok());
  AddCert("a", chal);
  std::string cert = state_ + "/certs/a";
  ASSERT_EQ(::chmod(cert.c_str(), 0777), 0);
  std::vector<CheckResult> rs = Run("nobody");
  // The web user may write it (the existing rule), and so may everyone.
  EXPECT_EQ(Find(rs, "certificate dir")->status, CheckStatus::kFail);
  EXPECT_NE(Find(rs, "certificate dir")->detail.find(cert + " is writable by nobody"),
            std::string::npos);
  EXPECT_EQ(Find(rs, "state dir")->status, CheckStatus::kFail);
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
  std::string chal = dir_ + "/chal";
  ASSERT_TRUE(MakeDirs(chal, 0755).ok());
  AddCert("a", chal);
  ASSERT_EQ(::chmod((state_ + "/certs/a/1/privkey.pem").c_str(), 0644), 0);
  std::vector<CheckResult> results = Run();
  const CheckResult* r = Find(results, "private keys a");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->status, CheckStatus::kFail);
}

TEST_F(DoctorRunTest, MissingChallengeDirFails) {
  AddCert("a", dir_ + "/nowhere");
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
  std::string chal = dir_ + "/chal";
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
  std::string chal = dir_ + "/chal";
  ASSERT_TRUE(MakeDirs(chal, 0755).ok());
  AddCert("a", chal);
  AddCert("b", dir_ + "/nowhere");
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
