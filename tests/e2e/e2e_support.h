// What the binary-driven end-to-end tests share: running the zk-tool under
// test, and a scratch directory with a ZooKeeper ensemble of systemd units in
// it, kept for a look when the test fails and removed otherwise.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/systemd_ensemble.h"
#include "support/test_dir.h"
#include "support/zk_tool.h"

namespace zktool::e2e {

using testsupport::zk_tool;

// The names in `dir`, sorted.
inline std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

inline size_t lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

class EnsembleTest : public ::testing::Test {
 protected:
  // Creates dir_ as <temp>/zktool-<name>-XXXXXX.
  void make_scratch_dir(const std::string& name) {
    scratch_.emplace("zktool-" + name + "-");
    dir_ = scratch_->path();
  }

  std::filesystem::path ensemble_dir() const { return dir_ / "ensemble"; }

  // The ZooKeeper release this run tests (ZKTOOL_TEST_ZOOKEEPER; CTest runs
  // each end-to-end suite with 3.8 and with 3.4.14).
  static testsupport::ZooKeeperRelease release() { return testsupport::zookeeper_under_test(); }
  static bool on_3_4() { return release() == testsupport::ZooKeeperRelease::k3_4_14; }
  // What proves a backup of this release: 3.4 records no digests.
  static const char* expected_proof() { return on_3_4() ? "replay" : "digest"; }

  // Starts the ensemble in ensemble_dir() (config.base_dir is set here).
  // Skips the test, saying where it looked, when the 3.4.14 jar is absent.
  void start_ensemble(testsupport::EnsembleConfig config) {
    if (config.release == testsupport::ZooKeeperRelease::k3_4_14 &&
        !testsupport::zookeeper_3_4_14_jar()) {
      GTEST_SKIP() << "no ZooKeeper 3.4.14 jar at " << testsupport::zookeeper_3_4_14_jar_search();
    }
    config.base_dir = ensemble_dir();
    std::filesystem::create_directories(config.base_dir);
    auto ensemble = testsupport::SystemdEnsemble::start(config);
    ASSERT_TRUE(ensemble) << ensemble.error().message;
    ensemble_ = std::move(ensemble.value());
  }

  void TearDown() override {
    ensemble_.reset();
    scratch_.reset();
  }

  std::optional<testing::TestDir> scratch_;
  std::filesystem::path dir_;  // scratch_'s
  std::unique_ptr<testsupport::SystemdEnsemble> ensemble_;
};

}  // namespace zktool::e2e
