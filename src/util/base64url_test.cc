#include "util/base64url.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace bulkhead {
namespace {

// RFC 4648 section 10 vectors, without padding.
const std::vector<std::pair<std::string, std::string>> kVectors = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

TEST(Base64UrlTest, EncodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded) << plain;
  }
}

TEST(Base64UrlTest, DecodesRfc4648Vectors) {
  for (const auto& [plain, encoded] : kVectors) {
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64UrlTest, UsesUrlAlphabet) {
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xef\xbe", 3)), "----");
  EXPECT_EQ(Base64UrlEncode(std::string("\xff\xff\xff", 3)), "____");
  auto decoded = Base64UrlDecode("-_8");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, std::string("\xfb\xff", 2));
}

TEST(Base64UrlTest, AcceptsPadding) {
  auto decoded = Base64UrlDecode("Zg==");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "f");
}

TEST(Base64UrlTest, RejectsCharactersOutsideAlphabet) {
  for (const char* bad : {"Zm9v+w", "Zm/v", "Zm9v!", "Zm 9v", "Zm9v\n", "Zm=v"}) {
    EXPECT_FALSE(Base64UrlDecode(bad).ok()) << bad;
  }
  EXPECT_FALSE(Base64UrlDecode(std::string("Zm\0v", 4)).ok());
}

TEST(Base64UrlTest, RejectsImpossibleLength) {
  EXPECT_FALSE(Base64UrlDecode("Z").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").ok());
}

TEST(Base64UrlTest, RoundTripsAllByteValuesAndLengths) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  for (size_t len = 0; len <= all.size(); len += 7) {
    std::string data = all.substr(all.size() - len);
    std::string encoded = Base64UrlEncode(data);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, data) << "length " << len;
  }
}

TEST(Base64UrlTest, IsBase64UrlToken) {
  EXPECT_TRUE(IsBase64UrlToken("abcXYZ019-_"));
  EXPECT_FALSE(IsBase64UrlToken(""));
  EXPECT_FALSE(IsBase64UrlToken("../etc"));
  EXPECT_FALSE(IsBase64UrlToken("a.b"));
  EXPECT_FALSE(IsBase64UrlToken("a/b"));
  EXPECT_FALSE(IsBase64UrlToken("abc="));
}

}  // namespace
}  // namespace bulkhead
