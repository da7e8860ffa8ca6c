#include "snapshot/jute.h"

#include <gtest/gtest.h>

namespace zktool::snapshot {
namespace {

TEST(Jute, RoundTripsEveryType) {
  std::string bytes;
  JuteWriter w(bytes);
  w.write_int(-7);
  w.write_long(0x0123456789abcdefLL);
  w.write_bool(true);
  w.write_string("/path");
  w.write_buffer(std::nullopt);
  w.write_buffer(std::string_view{});

  JuteReader r(bytes);
  EXPECT_EQ(r.read_int(), -7);
  EXPECT_EQ(r.read_long(), 0x0123456789abcdefLL);
  EXPECT_TRUE(r.read_bool());
  EXPECT_EQ(r.read_string(), "/path");
  EXPECT_FALSE(r.read_buffer().has_value());
  auto empty = r.read_buffer();
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.failed());
}

TEST(Jute, EncodesBigEndian) {
  std::string bytes;
  JuteWriter(bytes).write_int(0x5A4B534E);
  EXPECT_EQ(bytes, "ZKSN");
}

TEST(Jute, LengthPastEndIsAnErrorNotAnAllocation) {
  std::string bytes;
  JuteWriter w(bytes);
  w.write_int(1000);
  bytes += "abc";
  JuteReader r(bytes, 100);
  r.read_buffer();
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.error().find("offset 100"), std::string::npos) << r.error();
}

TEST(Jute, LengthAboveMaxBufferIsRefused) {
  std::string bytes;
  JuteWriter(bytes).write_int(0x7fffffff);
  JuteReader r(bytes);
  r.read_buffer();
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.error().find("unreasonable length"), std::string::npos);
}

TEST(Jute, NegativeLengthOtherThanNullIsRefused) {
  std::string bytes;
  JuteWriter(bytes).write_int(-2);
  JuteReader r(bytes);
  r.read_buffer();
  EXPECT_TRUE(r.failed());
}

TEST(Jute, NullStringWhereAPathIsExpectedFails) {
  std::string bytes;
  JuteWriter(bytes).write_int(-1);
  JuteReader r(bytes);
  r.read_string();
  EXPECT_TRUE(r.failed());
}

TEST(Jute, VectorCountMustFitTheRemainingBytes) {
  std::string bytes;
  JuteWriter w(bytes);
  w.write_int(1000000);
  w.write_long(1);
  JuteReader r(bytes);
  EXPECT_EQ(r.read_count(12), 0);
  EXPECT_TRUE(r.failed());
}

TEST(Jute, FirstFailureIsSticky) {
  std::string bytes = "ab";
  JuteReader r(bytes);
  EXPECT_EQ(r.read_int(), 0);
  EXPECT_TRUE(r.failed());
  std::string first = r.error();
  r.read_long();
  EXPECT_EQ(r.error(), first);
}

}  // namespace
}  // namespace zktool::snapshot
