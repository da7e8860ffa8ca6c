#include "replicated_log/keys.h"

#include <gtest/gtest.h>

#include "replicated_log/escape.h"

namespace zktool::replicated_log {
namespace {

TEST(ReplicaKeys, GoldenPositionKeys) {
  EXPECT_EQ(kMetadataKey, "0000000000");
  EXPECT_EQ(position_key(0), "0000000001");
  EXPECT_EQ(position_key(41), "0000000042");
  EXPECT_EQ(position_key(2147483647), "2147483648");  // past INT32_MAX (MESOS-10186)
  EXPECT_EQ(position_key(9999999998), "9999999999");
  EXPECT_EQ(position_key(9999999999), "A00000000010000000000");
  EXPECT_EQ(position_key(kMaxPosition), "A18446744073709551615");
}

TEST(ReplicaKeys, ByteOrderIsPositionOrder) {
  const uint64_t positions[] = {0, 1, 9, 10, 99, 9999999998, 9999999999, 10000000000,
                                kMaxPosition - 1, kMaxPosition};
  for (size_t i = 1; i < std::size(positions); ++i) {
    EXPECT_LT(position_key(positions[i - 1]), position_key(positions[i])) << positions[i];
    EXPECT_GT(position_key(positions[i]), std::string(kMetadataKey));
  }
}

TEST(ReplicaKeys, ParsesWhatItWrites) {
  for (uint64_t position : {uint64_t{0}, uint64_t{7}, uint64_t{9999999998},
                            uint64_t{9999999999}, kMaxPosition}) {
    auto parsed = parse_key(position_key(position));
    ASSERT_TRUE(parsed.has_value()) << position;
    EXPECT_FALSE(parsed->is_metadata);
    EXPECT_EQ(parsed->position, position);
  }
  auto metadata = parse_key(kMetadataKey);
  ASSERT_TRUE(metadata.has_value());
  EXPECT_TRUE(metadata->is_metadata);
}

TEST(ReplicaKeys, RejectsEverythingElse) {
  for (const char* key : {"", "000000001", "00000000001", "000000000a", "+000000001",
                          "-000000001", " 000000001", "A0000000001",
                          "A00000000009999999999",   // a small position in the long form
                          "A00000000000000000000",   //
                          "A18446744073709551616",   // past 2^64 - 1
                          "B00000000010000000000", "a00000000010000000000", "hello"}) {
    EXPECT_FALSE(parse_key(key).has_value()) << key;
  }
  EXPECT_FALSE(parse_key(std::string("000000000\0", 10)).has_value());
}

TEST(EscapeBytes, KeepsPrintableAsciiAndEscapesTheRest) {
  EXPECT_EQ(escape_bytes("plain text 123"), "plain text 123");
  EXPECT_EQ(escape_bytes(std::string("a\"b\\c\n\r\t\0\x7f\xff", 11)),
            "a\\\"b\\\\c\\n\\r\\t\\x00\\x7f\\xff");
}

}  // namespace
}  // namespace zktool::replicated_log
