// Replays every input saved under regressions/<target>/ (each one crashed a
// fuzzer once, see README.md) through the same entry point, so the fix stays
// fixed in the ordinary GCC build. A returning call is the pass: a regression
// aborts or trips a sanitizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "../support/files.h"
#include "fuzz_targets.h"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs_of(std::string_view target) {
  std::vector<fs::path> files;
  fs::path dir = fs::path(ZKTOOL_FUZZ_REGRESSIONS) / target;
  if (!fs::is_directory(dir)) return files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class FuzzRegression : public ::testing::TestWithParam<zktool::fuzz::Target> {};

TEST_P(FuzzRegression, EverySavedInputRunsCleanly) {
  for (const fs::path& input : inputs_of(GetParam().name)) {
    SCOPED_TRACE(input.string());
    GetParam().run(zktool::testing::read_file(input));
  }
}

TEST_P(FuzzRegression, RejectsGarbage) {
  EXPECT_FALSE(GetParam().run(""));
  EXPECT_FALSE(GetParam().run(std::string(100, '\xff')));
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzRegression, ::testing::ValuesIn(zktool::fuzz::targets()),
                         [](const auto& p) { return std::string(p.param.name); });

// The real files are the seeds: each must be accepted, so the properties the
// targets check (round trips, record tiling) hold on what ZooKeeper wrote.
void expect_all_accepted(std::string_view target, const fs::path& dir) {
  const zktool::fuzz::Target* t = zktool::fuzz::find_target(target);
  ASSERT_NE(t, nullptr);
  size_t files = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    ++files;
    EXPECT_TRUE(t->run(zktool::testing::read_file(e.path()))) << e.path();
  }
  EXPECT_GT(files, 0u);
}

TEST(FuzzSeeds, EveryRealSnapshotPassesTheSnapshotTarget) {
  expect_all_accepted("snapshot", fs::path(ZKTOOL_TEST_DATA_DIR) / "zk38/data/version-2");
}

TEST(FuzzSeeds, EveryRealLogPassesTheTxnLogTarget) {
  expect_all_accepted("txn_log", fs::path(ZKTOOL_TEST_DATA_DIR) / "zk38/logs/version-2");
}

}  // namespace
