#include "manager/dry_run.h"

#include <gtest/gtest.h>

#include "manager/session.h"

namespace bulkhead::manager {
namespace {

TEST(DryRunTest, LetsEncryptProductionBecomesStagingOthersStay) {
  EXPECT_EQ(DryRunServer(kLetsEncrypt), kLetsEncryptStaging);
  EXPECT_EQ(DryRunServer(kLetsEncryptStaging), kLetsEncryptStaging);
  EXPECT_EQ(DryRunServer("https://ca.internal/directory"), "https://ca.internal/directory");
}

}  // namespace
}  // namespace bulkhead::manager
