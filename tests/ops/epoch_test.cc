#include "epoch.h"

#include <gtest/gtest.h>

#include "../snapshot/fixtures.h"

namespace zktool {
namespace {

using testing::read_file;
using testing::ScratchDir;
using testing::write_file;

TEST(Epoch, TheNextGenerationIsAboveEveryEpochOfThePreviousOne) {
  auto first = next_generation_epoch(1);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, int64_t{1} << kGenerationShift);
  // Elections within the generation do not change which one comes next...
  EXPECT_EQ(next_generation_epoch(*first + 5).value(), int64_t{2} << kGenerationShift);
  // ...so every master restored in one round installs the same epoch.
  EXPECT_EQ(next_generation_epoch(3).value(), next_generation_epoch(17).value());
  EXPECT_GT(generation_of(next_generation_epoch(*first + 1000).value()), generation_of(*first));
}

TEST(Epoch, RefusesToOverflowTheZxid) {
  auto too_far = next_generation_epoch((int64_t{1} << 31) - 1);
  ASSERT_FALSE(too_far);
  EXPECT_EQ(too_far.error().kind, ErrorKind::Unsafe);
}

TEST(Epoch, ReadsAndWritesZooKeepersEpochFiles) {
  ScratchDir dir;
  EXPECT_FALSE(highest_epoch_in(dir.path()));
  write_file(dir.path() / "acceptedEpoch", "7");
  write_file(dir.path() / "currentEpoch", "6");
  EXPECT_EQ(highest_epoch_in(dir.path()), 7);
  ASSERT_TRUE(write_epochs(dir.path(), 1048576));
  // ZooKeeper writes the bare decimal number.
  EXPECT_EQ(read_file(dir.path() / "acceptedEpoch"), "1048576");
  EXPECT_EQ(read_file(dir.path() / "currentEpoch"), "1048576");
}

}  // namespace
}  // namespace zktool
