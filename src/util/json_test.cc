#include "util/json.h"

#include <gtest/gtest.h>

#include <string>

namespace bulkhead {
namespace {

TEST(ParseUntrustedJson, ParsesOrdinaryDocuments) {
  auto j = ParseUntrustedJson(R"({"a":[1,{"b":"[[[{{{"}]})");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["a"][1]["b"], "[[[{{{");
}

TEST(ParseUntrustedJson, RejectsDeepNestingAndGarbage) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_TRUE(ParseUntrustedJson(deep).is_discarded());
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_FALSE(ParseUntrustedJson(ok).is_discarded());
  EXPECT_TRUE(ParseUntrustedJson("<html>").is_discarded());
  // Brackets inside strings, including after escaped quotes, do not count.
  std::string in_string = "[\"\\\"" + std::string(1000, '[') + "\"]";
  EXPECT_FALSE(ParseUntrustedJson(in_string).is_discarded());
}

TEST(ReadJsonMembers, String) {
  auto j = ParseUntrustedJson(R"({"s":"v","n":1})");
  std::string out = "unchanged";
  EXPECT_TRUE(ReadJsonString(j, "s", &out, /*required=*/true));
  EXPECT_EQ(out, "v");
  out = "unchanged";
  EXPECT_TRUE(ReadJsonString(j, "absent", &out, /*required=*/false));
  EXPECT_EQ(out, "unchanged");
  EXPECT_FALSE(ReadJsonString(j, "absent", &out, /*required=*/true));
  EXPECT_FALSE(ReadJsonString(j, "n", &out, /*required=*/false));
  EXPECT_EQ(out, "unchanged");
}

TEST(ReadJsonMembers, Int) {
  auto j = ParseUntrustedJson(R"({"n":7,"neg":-1,"f":1.5,"s":"7"})");
  int64_t out = 42;
  EXPECT_TRUE(ReadJsonInt(j, "n", &out));
  EXPECT_EQ(out, 7);
  EXPECT_TRUE(ReadJsonInt(j, "neg", &out));
  EXPECT_EQ(out, -1);
  out = 42;
  EXPECT_FALSE(ReadJsonInt(j, "neg", &out, 0, 10));
  EXPECT_FALSE(ReadJsonInt(j, "n", &out, 0, 6));
  EXPECT_FALSE(ReadJsonInt(j, "f", &out));
  EXPECT_FALSE(ReadJsonInt(j, "s", &out));
  EXPECT_FALSE(ReadJsonInt(j, "absent", &out));
  EXPECT_EQ(out, 42);
}

TEST(ReadJsonMembers, Flag) {
  auto j = ParseUntrustedJson(R"({"t":true,"f":false,"s":"true","one":1})");
  EXPECT_TRUE(JsonFlag(j, "t"));
  EXPECT_FALSE(JsonFlag(j, "f"));
  EXPECT_FALSE(JsonFlag(j, "s"));
  EXPECT_FALSE(JsonFlag(j, "one"));
  EXPECT_FALSE(JsonFlag(j, "absent"));
}

}  // namespace
}  // namespace bulkhead
