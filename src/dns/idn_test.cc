#include "dns/idn.h"

#include <gtest/gtest.h>

namespace bulkhead::dns {
namespace {

TEST(IdnTest, UnicodeNamesBecomeALabels) {
  EXPECT_EQ(*ToAsciiName("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*ToAsciiName("BÜCHER.example"), "xn--bcher-kva.example");  // UTS #46 lower-cases.
  EXPECT_EQ(*ToAsciiName("*.bücher.example"), "*.xn--bcher-kva.example");
  EXPECT_EQ(*ToAsciiName("bücher.example."), "xn--bcher-kva.example.");
  EXPECT_EQ(*ToAsciiName("plain.example"), "plain.example");
  EXPECT_EQ(*ToAsciiName("xn--bcher-kva.example"), "xn--bcher-kva.example");
}

TEST(IdnTest, InvalidNamesAreUsageErrorsNamingThem) {
  for (std::string_view bad :
       {std::string_view("bad\xff.example"), std::string_view("a\xe2\x80.b")}) {
    Result<std::string> r = ToAsciiName(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUsage);
    EXPECT_NE(r.error().message.find("\\x"), std::string::npos) << r.error().message;
  }
}

TEST(IdnTest, DisplayShowsBothForms) {
  EXPECT_EQ(ToUnicodeName("xn--bcher-kva.example"), "bücher.example");
  EXPECT_EQ(ToUnicodeName("*.xn--bcher-kva.example"), "*.bücher.example");
  EXPECT_EQ(DisplayName("xn--bcher-kva.example"), "xn--bcher-kva.example (bücher.example)");
  EXPECT_EQ(DisplayName("plain.example"), "plain.example");
  EXPECT_EQ(ToUnicodeName("xn--zz.example"), "xn--zz.example");  // Not valid punycode: as is.
}

}  // namespace
}  // namespace bulkhead::dns
