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

}  // namespace
}  // namespace bulkhead
