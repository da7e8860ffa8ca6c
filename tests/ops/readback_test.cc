// read_back() against a real ZooKeeper server: the tree it serves, read back
// through the client API, compared with a tree zk-tool replayed from the
// server's own files. Runs on every release line (ZKTOOL_TEST_ZOOKEEPER).
#include "ops/readback.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "snapshot/zookeeper_state.h"
#include "support/files.h"
#include "support/local_ensemble.h"
#include "support/populate.h"
#include "support/zk_client.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;
namespace zs = zktool::snapshot;

class ReadBack : public ::testing::Test {
 protected:
  void SetUp() override {
    ts::EnsembleConfig config;
    if (config.release == ts::ZooKeeperRelease::k3_4_14 && !ts::zookeeper_3_4_14_jar()) {
      GTEST_SKIP() << "no ZooKeeper 3.4.14 jar at " << ts::zookeeper_3_4_14_jar_search();
    }
    config.base_dir = dir_.path();
    config.nodes = 1;
    auto ensemble = ts::LocalEnsemble::start(config, ts::LocalEnsemble::Lifetime::kTiedToCaller);
    ASSERT_TRUE(ensemble) << ensemble.error().message;
    ensemble_ = std::move(*ensemble);
    auto client = ts::ZkClient::connect(ensemble_->node(0).client_address());
    ASSERT_TRUE(client) << client.error().message;
    client_ = std::move(*client);
    ts::VariedOptions options;
    options.ttl = false;
    options.containers = config.release == ts::ZooKeeperRelease::k3_8;
    options.ip_ranges = options.containers;
    options.bulk_znodes = 200;
    auto data = ts::write_varied_data(*client_, options);
    ASSERT_TRUE(data) << data.error().message;
    client_->close();  // its ephemerals go: the tree stays as replayed below
  }

  // The tree zk-tool replays from the server's own files, cut at `cut` when given.
  zs::ZkState replayed(std::optional<zs::Zxid> cut = {}) {
    const auto& node = ensemble_->node(0);
    auto dirs = zs::resolve_data_dirs(node.data_dir, node.data_log_dir);
    EXPECT_TRUE(dirs);
    zs::LoadOptions options;
    options.up_to_zxid = cut;
    auto state = zs::load_state(*dirs, options);
    EXPECT_TRUE(state) << state.error().message;
    return state ? std::move(*state) : zs::ZkState{};
  }

  health::Endpoint endpoint() const {
    return {ensemble_->node(0).host, ensemble_->node(0).client_port};
  }

  // The zxid the server has applied.
  zs::Zxid applied() const {
    auto srvr = ensemble_->srvr(0);
    EXPECT_TRUE(srvr) << srvr.error().message;
    return srvr ? srvr->zxid : 0;
  }

  testing::TempDir dir_;
  std::unique_ptr<ts::LocalEnsemble> ensemble_;
  std::unique_ptr<ts::ZkClient> client_;
};

TEST_F(ReadBack, TheServedTreeEqualsTheReplayedOneZnodeForZnode) {
  const zs::Zxid zxid = applied();
  zs::ZkState state = replayed(zxid);
  auto report = read_back(endpoint(), state.tree, zxid, {});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->count_checked);
  EXPECT_EQ(report->served_znodes, state.tree.node_count());
  EXPECT_EQ(report->changed_since, 0u);
  EXPECT_FALSE(report->sampled);
  // The digest-only znode is compared by its stat; everything else in full,
  // except ZooKeeper's own /zookeeper subtree, which is not walked.
  EXPECT_GE(report->unreadable, 1u);
  EXPECT_GT(report->compared, 200u);
  EXPECT_LT(report->compared, state.tree.node_count());
}

TEST_F(ReadBack, ATreeThatLacksTheLastWritesIsRefusedNamingAZnode) {
  const zs::Zxid zxid = applied();
  // The archive as if the last transactions (the bulk updates) had never happened.
  zs::ZkState state = replayed(zxid - 5);
  auto report = read_back(endpoint(), state.tree, zxid, {});
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::Unsafe);
  EXPECT_NE(report.error().message.find(" serves a tree other than the archive's: /"),
            std::string::npos)
      << report.error().message;
}

TEST_F(ReadBack, WritesAfterTheRestoreAreCountedNotCompared) {
  const zs::Zxid zxid = applied();
  zs::ZkState state = replayed(zxid);
  auto client = ts::ZkClient::connect(ensemble_->node(0).client_address());
  ASSERT_TRUE(client) << client.error().message;
  ASSERT_TRUE((*client)->create("/written-after", "x"));
  auto report = read_back(endpoint(), state.tree, zxid, {});
  ASSERT_TRUE(report) << report.error().message;
  // The new znode, and the root whose children changed.
  EXPECT_GE(report->changed_since, 2u);
  EXPECT_FALSE(report->count_checked);
}

TEST_F(ReadBack, ALargeTreeIsSampledAndSaysSo) {
  const zs::Zxid zxid = applied();
  zs::ZkState state = replayed(zxid);
  health::ServedWalkOptions options;
  options.max_znodes = 50;
  auto report = read_back(endpoint(), state.tree, zxid, options);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->sampled);
  EXPECT_EQ(report->compared, 50u);
  EXPECT_NE(report->summary().find("a sample"), std::string::npos) << report->summary();
}

TEST_F(ReadBack, AServerThatIsGoneIsUnhealthyNotADifference) {
  zs::ZkState state = replayed();
  ASSERT_TRUE(ensemble_->stop_node(0));
  health::ServedWalkOptions options;
  options.timeout = std::chrono::seconds(3);
  auto report = read_back(endpoint(), state.tree, state.last_zxid, options);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().kind, ErrorKind::Unsafe) << report.error().message;
}

}  // namespace
}  // namespace zktool
