#include "ops/epoch.h"

#include <gtest/gtest.h>

#include "../snapshot/fixtures.h"

namespace zktool {
namespace {

using testing::read_file;
using testing::ScratchDir;
using testing::write_file;

TEST(Epoch, ANewRoundStartsTheGenerationAboveEverythingSeen) {
  int64_t round = round_of("restore 0x100000abc");
  auto epoch = epoch_for_round(round, {1, 7, 3});
  ASSERT_TRUE(epoch);
  EXPECT_EQ(generation_of(*epoch), 1);
  EXPECT_TRUE(in_round(*epoch, round));
  // Above a cluster restored before, whatever its elections since.
  auto next = epoch_for_round(round_of("another archive"), {*epoch + 5});
  ASSERT_TRUE(next);
  EXPECT_EQ(generation_of(*next), 2);
  EXPECT_GT(*next, *epoch + 5);
}

TEST(Epoch, EveryMasterOfOneRoundInstallsTheSameEpoch) {
  int64_t round = round_of("restore 0x100000abc 42 m1 1700000000");
  // The first master sees only the old cluster's epochs...
  int64_t first = epoch_for_round(round, {5, 5}).value();
  // ...a later one may already have been synced by the restored quorum, whose
  // leader was elected at first + 1: it must not start a generation above it.
  EXPECT_EQ(epoch_for_round(round, {5, first + 1}).value(), first);
  EXPECT_EQ(epoch_for_round(round, {first + 3, 5}).value(), first);
  // It stays below the restored leader's epoch, so it follows it.
  EXPECT_LT(first, first + 1);
}

TEST(Epoch, RoundsDoNotCollideOnDifferentArchives) {
  EXPECT_NE(round_of("restore 0x100000abc 42"), round_of("restore 0x100000abd 42"));
  EXPECT_EQ(round_of("same"), round_of("same"));
  EXPECT_FALSE(in_round(5, round_of("x")));  // generation 0: no restore ever
}

TEST(Epoch, RefusesToOverflowTheZxid) {
  auto too_far = epoch_for_round(1, {(int64_t{1} << 31) - 1});
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
