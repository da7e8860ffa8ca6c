// What the health tests share: a real 3-node ZooKeeper ensemble per test, its
// members as health endpoints, and a zoo.cfg for `zk-tool status --health zk`.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "health/ensemble_health.h"
#include "support/local_ensemble.h"
#include "support/test_dir.h"
#include "support/zk_tool.h"

namespace zktool::testsupport {

// A port on 127.0.0.1 that nothing listens on (bound, then released).
int unused_port();

using ZkToolRun = CapturedRun;

inline std::chrono::milliseconds elapsed_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

class LiveEnsembleTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The nodes in myid order, as zoo.cfg lists them.
  std::vector<health::Endpoint> endpoints() const;
  // A zoo.cfg naming every node with its own client port (server.N=...;host:port),
  // the way a real ensemble's config does when ports differ.
  std::filesystem::path write_status_zoo_cfg() const;
  // Index of a node that is not the leader right now.
  size_t follower() const;
  // Polls until `done` holds for the state `probe` returns, or `timeout` passes.
  static bool eventually(const health::HealthProbe& probe,
                         const std::function<bool(const health::EnsembleHealth&)>& done,
                         std::chrono::milliseconds timeout);

  std::optional<testing::TestDir> scratch_;
  std::filesystem::path dir_;  // scratch_'s
  std::unique_ptr<LocalEnsemble> ensemble_;
};

}  // namespace zktool::testsupport
