#include "manager/account_ops.h"

#include <gtest/gtest.h>

namespace bulkhead::manager {
namespace {

constexpr const char* kDirectory = "https://127.0.0.1:14000/dir";
constexpr const char* kAccount = "https://127.0.0.1:14000/my-account/1";

CaConfig Ca() {
  CaConfig ca;
  ca.directory_url = kDirectory;
  return ca;
}

AccountFacts Facts(bool registered) {
  AccountFacts f;
  f.account_dir = "/state/accounts/ca/default";
  f.key_exists = registered;
  f.account_url = registered ? kAccount : "";
  return f;
}

struct AccountCase {
  AccountCommand command;
  acme::SignOperation operation;
  roles::AccountKeyMode mode;
  std::string account_url;  // What the signer and net are bound to.
};

TEST(PlanAccountCommandTest, TheSignerMaySignOnlyTheCommandGiven) {
  const std::vector<AccountCase> cases = {
      {AccountCommand::kRegister, acme::SignOperation::kRegister,
       roles::AccountKeyMode::kCreate, ""},
      {AccountCommand::kShow, acme::SignOperation::kShow, roles::AccountKeyMode::kExisting,
       kAccount},
      {AccountCommand::kDeactivate, acme::SignOperation::kDeactivate,
       roles::AccountKeyMode::kExisting, kAccount},
      {AccountCommand::kRollover, acme::SignOperation::kRollover,
       roles::AccountKeyMode::kRollover, kAccount},
  };
  for (const AccountCase& c : cases) {
    SCOPED_TRACE(static_cast<int>(c.command));
    AccountRequest request;
    request.command = c.command;
    request.contact = {"mailto:ops@example.org"};
    request.agree_tos = true;
    auto plan = PlanAccountCommand(request, Ca(),
                                   Facts(/*registered=*/c.command != AccountCommand::kRegister));
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    const acme::SignPolicy& p = plan->role.policy;
    EXPECT_EQ(p.operation, c.operation);
    EXPECT_EQ(p.origin, "https://127.0.0.1:14000");
    EXPECT_EQ(p.account_url, c.account_url);
    EXPECT_EQ(plan->net.account_url, c.account_url);
    EXPECT_EQ(plan->role.account_url, c.account_url);
    EXPECT_EQ(plan->role.mode, c.mode);
    EXPECT_EQ(plan->role.account_dir, "/state/accounts/ca/default");
    EXPECT_EQ(plan->net.command, c.command);
    EXPECT_TRUE(p.names.empty());
    EXPECT_TRUE(p.revoke_cert_der.empty());
    // Only register may carry the contact and the terms.
    if (c.command == AccountCommand::kRegister) {
      EXPECT_EQ(p.contact, request.contact);
      EXPECT_TRUE(p.agree_tos);
    } else {
      EXPECT_TRUE(p.contact.empty());
      EXPECT_FALSE(p.agree_tos);
    }
  }
}

TEST(PlanAccountCommandTest, RegisterWithAnExistingKeyKeepsIt) {
  AccountRequest request;
  request.command = AccountCommand::kRegister;
  auto plan = PlanAccountCommand(request, Ca(), Facts(/*registered=*/true));
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->net.key_existed);
  EXPECT_EQ(plan->role.mode, roles::AccountKeyMode::kExisting);
}

TEST(PlanAccountCommandTest, TheEabKeyGoesOnlyToTheAccountRole) {
  AccountRequest request;
  request.command = AccountCommand::kRegister;
  request.eab_kid = "kid-1";
  request.eab_hmac_key = Secret(std::string("c2VjcmV0LWhtYWMta2V5"));
  auto plan = PlanAccountCommand(request, Ca(), Facts(/*registered=*/false));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_TRUE(plan->net.eab);
  EXPECT_EQ(plan->role.eab_kid, "kid-1");
  EXPECT_EQ(plan->role.eab_hmac_key.view(), "c2VjcmV0LWhtYWMta2V5");
  EXPECT_TRUE(request.eab_hmac_key.view().empty());

  AccountRequest bad;
  bad.command = AccountCommand::kRegister;
  bad.eab_kid = "kid-1";
  bad.eab_hmac_key = Secret(std::string("not base64url!"));
  auto refused = PlanAccountCommand(bad, Ca(), Facts(/*registered=*/false));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUsage);
}

TEST(PlanRevokeTest, TheSignerMaySignOnlyThisRevocation) {
  RevokeRequest request;
  request.cert_der = "DER";
  request.reason = 1;
  RevokePlan by_account = PlanRevoke(request, Ca(), kAccount, "/state/account.key");
  EXPECT_EQ(by_account.signer.policy.operation, acme::SignOperation::kRevoke);
  EXPECT_EQ(by_account.signer.policy.origin, "https://127.0.0.1:14000");
  EXPECT_EQ(by_account.signer.policy.account_url, kAccount);
  EXPECT_EQ(by_account.signer.policy.revoke_cert_der, "DER");
  EXPECT_EQ(by_account.signer.policy.revoke_reason, 1);
  EXPECT_FALSE(by_account.signer.policy.with_cert_key);
  EXPECT_EQ(by_account.signer.key_path, "/state/account.key");
  EXPECT_EQ(by_account.net.account_url, kAccount);

  request.cert_key_path = "/etc/ssl/private/leaf.pem";
  RevokePlan by_key = PlanRevoke(request, Ca(), "", request.cert_key_path);
  EXPECT_TRUE(by_key.signer.policy.with_cert_key);
  EXPECT_TRUE(by_key.signer.policy.account_url.empty());
  EXPECT_TRUE(by_key.net.with_cert_key);
  EXPECT_EQ(by_key.signer.key_path, "/etc/ssl/private/leaf.pem");
}

}  // namespace
}  // namespace bulkhead::manager
