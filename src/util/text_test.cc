#include "util/text.h"

#include <vector>

#include <gtest/gtest.h>

namespace bulkhead {
namespace {

TEST(TextTest, LowerTouchesOnlyAsciiLetters) {
  EXPECT_EQ(AsciiLower("Content-TYPE: X\xC3\x89"), "content-type: x\xC3\x89");
}

TEST(TextTest, TrimBlanksBothEnds) {
  EXPECT_EQ(TrimBlanks(" \t value \r\n"), "value");
  EXPECT_EQ(TrimBlanks(" \t "), "");
  EXPECT_EQ(TrimBlanks("a b"), "a b");
}

TEST(TextTest, PrintableExcerptCutsAndMasks) {
  EXPECT_EQ(PrintableExcerpt("ok\x1b[2J\n", 64), "ok?[2J?");
  EXPECT_EQ(PrintableExcerpt("abcdef", 3), "abc...");
}

TEST(TextTest, HexRoundTrip) {
  std::string bytes("\x00\x7f\x80\xff", 4);
  std::string hex = HexEncode(bytes);
  EXPECT_EQ(hex, "007f80ff");
  for (size_t i = 0; i < bytes.size(); ++i) {
    int v = HexDigitValue(hex[2 * i]) * 16 + HexDigitValue(hex[2 * i + 1]);
    EXPECT_EQ(v, static_cast<unsigned char>(bytes[i]));
  }
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
}

TEST(TextTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("list", "list"), 0u);
  EXPECT_EQ(EditDistance("lst", "list"), 1u);
  EXPECT_EQ(EditDistance("renwe", "renew"), 2u);
  EXPECT_EQ(EditDistance("", "plan"), 4u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(TextTest, ClosestWordWithinDistance) {
  std::vector<std::string> words = {"issue", "list", "limits", "renew", "revoke"};
  EXPECT_EQ(ClosestWord("lst", words, 2), "list");
  EXPECT_EQ(ClosestWord("isue", words, 2), "issue");
  EXPECT_EQ(ClosestWord("revok", words, 2), "revoke");
  EXPECT_EQ(ClosestWord("certificates", words, 2), "");
  EXPECT_EQ(ClosestWord("x", {}, 2), "");
}

}  // namespace
}  // namespace bulkhead
