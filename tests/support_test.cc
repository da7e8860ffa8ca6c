// Integration tests of the test environment itself, on real ZooKeeper 3.8
// servers: ensembles start, elect and rejoin; the data sets land as written;
// ZooKeeper's SnapshotFormatter agrees with what a client reads.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "health/four_letter.h"
#include "support/ensemble.h"
#include "support/local_ensemble.h"
#include "support/populate.h"
#include "support/process.h"
#include "support/snapshot_formatter.h"
#include "support/test_dir.h"
#include "support/tree_diff.h"
#include "support/zk_client.h"

namespace zktool::testsupport {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kContainerOwner = static_cast<int64_t>(0x8000000000000000ULL);

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Polls `done` every 100 ms until it holds or `timeout` passes.
template <typename Done>
bool eventually(Done done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

class EnsembleTest : public ::testing::Test {
 protected:
  void TearDown() override { ensemble_.reset(); }

  EnsembleConfig config(int nodes) const {
    EnsembleConfig c;
    c.base_dir = dir_;
    c.nodes = nodes;
    c.snap_count = 500;
    c.pre_alloc_size_kb = 4096;
    c.extended_types_enabled = true;
    c.container_check_interval_ms = 500;
    return c;
  }

  void start(const EnsembleConfig& c) {
    auto e = LocalEnsemble::start(c, LocalEnsemble::Lifetime::kTiedToCaller);
    ASSERT_TRUE(e) << e.error().message;
    ensemble_ = std::move(*e);
  }

  static std::unique_ptr<ZkClient> connect(const std::string& hosts, bool with_digest = true) {
    auto client = ZkClient::connect(hosts);
    EXPECT_TRUE(client) << client.error().message;
    if (!client) return nullptr;
    if (with_digest) {
      auto st = (*client)->add_auth("digest", kVariedDigestCredentials);
      EXPECT_TRUE(st) << st.error().message;
    }
    return std::move(*client);
  }

  // Writes the conformance data set and waits until the leader has reaped
  // what it reaps, so the tree is quiescent.
  static VariedDataSet write_varied(ZkClient& client, int bulk = 1000) {
    VariedOptions options;
    options.bulk_znodes = bulk;
    auto set = write_varied_data(client, options);
    EXPECT_TRUE(set) << set.error().message;
    if (!set) return {};
    for (const auto& path : set->reapable) {
      EXPECT_TRUE(eventually(
          [&] {
            auto exists = client.exists(path);
            return exists && !*exists;
          },
          30s))
          << path << " was not reaped";
    }
    return std::move(*set);
  }

  testing::TestDir scratch_{"zktool-testsupport-", " (each node's zookeeper.log is inside)"};
  fs::path dir_ = scratch_.path();
  std::unique_ptr<LocalEnsemble> ensemble_;
};

TEST_F(EnsembleTest, ThreeNodesElectOneLeaderAndAnswerFourLetterWords) {
  ASSERT_NO_FATAL_FAILURE(start(config(3)));
  int leaders = 0, followers = 0;
  for (size_t i = 0; i < ensemble_->size(); ++i) {
    const auto& node = ensemble_->node(i);
    auto ruok = health::four_letter_word("127.0.0.1", node.client_port, "ruok", 2s);
    ASSERT_TRUE(ruok) << ruok.error().message;
    EXPECT_EQ(*ruok, "imok");
    auto info = ensemble_->srvr(i);
    ASSERT_TRUE(info) << info.error().message;
    ASSERT_TRUE(info->serving);
    leaders += info->mode == health::ServerMode::kLeader;
    followers += info->mode == health::ServerMode::kFollower;
    // "/", /zookeeper, /zookeeper/config, /zookeeper/quota, and the root twice.
    EXPECT_EQ(info->node_count, 5);

    EXPECT_NE(node.data_dir, node.data_log_dir);
    EXPECT_EQ(read_file(node.data_dir / "myid"), std::to_string(node.id) + "\n");
    EXPECT_TRUE(fs::exists(node.data_dir / "version-2" / "snapshot.0"));
    EXPECT_TRUE(fs::is_directory(node.data_log_dir / "version-2"));
    EXPECT_TRUE(process_running_with_arg(ensemble_->pid(i), node.config_file.string()));
  }
  EXPECT_EQ(leaders, 1);
  EXPECT_EQ(followers, 2);

  auto argv = java_command(ensemble_->layout(), 0);
  EXPECT_NE(std::find(argv.begin(), argv.end(), "-Dzookeeper.extendedTypesEnabled=true"),
            argv.end());
  EXPECT_EQ(argv.back(), ensemble_->node(0).config_file.string());

  auto client = connect(ensemble_->connect_string(), false);
  ASSERT_TRUE(client);
  auto tree = client->snapshot_tree();
  ASSERT_TRUE(tree) << tree.error().message;
  EXPECT_EQ(tree->size(), 4u);
  EXPECT_TRUE(tree->count("/zookeeper/config"));
}

TEST_F(EnsembleTest, VariedDataSetIsVisibleInTheTree) {
  auto c = config(3);
  ASSERT_NO_FATAL_FAILURE(start(c));
  auto client = connect(ensemble_->connect_string());
  ASSERT_TRUE(client);
  VariedDataSet set = write_varied(*client);
  ASSERT_FALSE(set.present.empty());
  EXPECT_NE(set.open_session_id, set.closed_session_id);
  EXPECT_GT(set.writes, static_cast<size_t>(c.snap_count));

  auto tree = client->snapshot_tree();
  ASSERT_TRUE(tree) << tree.error().message;
  for (const auto& [path, expected] : set.present) {
    auto it = tree->find(path);
    ASSERT_NE(it, tree->end()) << path;
    const ZnodeInfo& got = it->second;
    EXPECT_EQ(got.data_null, !expected.data.has_value()) << path;
    if (expected.data) {
      EXPECT_EQ(got.data, *expected.data) << path;
    }
    EXPECT_EQ(got.stat.version, expected.version) << path;
    EXPECT_EQ(got.stat.aversion, expected.acl_version) << path;
    EXPECT_EQ(got.acl, expected.acl) << path;
    // Clients see 0 for containers and TTL znodes; their markers are only in
    // the snapshot (SnapshotFormatterAgreesWithTheClientWalk checks them).
    int64_t owner = expected.kind == ZnodeKind::kEphemeral ? set.open_session_id : 0;
    EXPECT_EQ(got.stat.ephemeral_owner, owner) << path;
  }
  for (const auto& path : set.absent) EXPECT_FALSE(tree->count(path)) << path;
  for (const auto& path : set.reapable) EXPECT_FALSE(tree->count(path)) << path;

  // Every kind the data set promises is really there.
  std::map<ZnodeKind, int> kinds;
  for (const auto& [path, expected] : set.present) ++kinds[expected.kind];
  EXPECT_GE(kinds[ZnodeKind::kEphemeral], 5);
  EXPECT_GE(kinds[ZnodeKind::kContainer], 1);
  EXPECT_GE(kinds[ZnodeKind::kTtl], 2);
  EXPECT_EQ(tree->at("/varied/unicodé/日本語/☃ snow").data, "データ 😀 /☃ snow");
  EXPECT_TRUE(tree->at("/varied/null").data_null);
  EXPECT_FALSE(tree->at("/varied/empty").data_null);
  EXPECT_EQ(tree->at("/varied/large/l0").stat.data_length, static_cast<int32_t>(kLargeZnodeSize));
  size_t deepest = 0;
  for (const auto& [path, info] : *tree) {
    deepest =
        std::max<size_t>(deepest, static_cast<size_t>(std::count(path.begin(), path.end(), '/')));
  }
  EXPECT_GE(deepest, 34u);
  EXPECT_EQ(tree->at("/varied/acl/ip").acl,
            (Acl{{kPermAll, "ip", "127.0.0.1"}, {kPermRead, "ip", "10.1.2.0/24"}}));

  // The single-znode reads agree with the walk.
  auto children = client->get_children("/varied/seq");
  ASSERT_TRUE(children) << children.error().message;
  ASSERT_EQ(children->size(), 7u);  // five items, two locks
  EXPECT_EQ(children->front(), "item-0000000000");
  auto acl = client->get_acl("/varied/acl/creator");
  ASSERT_TRUE(acl) << acl.error().message;
  EXPECT_EQ(*acl, tree->at("/varied/acl/creator").acl);
  EXPECT_EQ(acl->at(0).scheme, "digest");
  auto large = client->get("/varied/large/l1");
  ASSERT_TRUE(large) << large.error().message;
  EXPECT_EQ(large->data, tree->at("/varied/large/l1").data);
  EXPECT_EQ(large->stat, tree->at("/varied/large/l1").stat);

  // Without the digest credentials the protected znode is refused.
  auto stranger = connect(ensemble_->connect_string(), false);
  ASSERT_TRUE(stranger);
  auto refused = stranger->get("/varied/acl/digest");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::Usage);
  EXPECT_NE(refused.error().message.find("/varied/acl/digest"), std::string::npos);

  // srvr counts the root twice.
  auto leader = ensemble_->leader();
  ASSERT_TRUE(leader) << leader.error().message;
  auto info = ensemble_->srvr(*leader);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->node_count, static_cast<int64_t>(tree->size()) + 1);

  // snapCount 500 was passed well, so every node has rolled a snapshot.
  for (size_t i = 0; i < ensemble_->size(); ++i) {
    auto newest = newest_snapshot(ensemble_->node(i).data_dir);
    ASSERT_TRUE(newest) << newest.error().message;
    EXPECT_NE(newest->filename(), "snapshot.0");
  }
}

TEST_F(EnsembleTest, StoppedFollowerRejoinsAndCatchesUp) {
  ASSERT_NO_FATAL_FAILURE(start(config(3)));
  auto client = connect(ensemble_->connect_string());
  ASSERT_TRUE(client);
  write_varied(*client, 200);

  auto leader = ensemble_->leader();
  ASSERT_TRUE(leader) << leader.error().message;
  size_t follower = (*leader + 1) % ensemble_->size();
  pid_t old_pid = ensemble_->pid(follower);
  const auto& node = ensemble_->node(follower);
  ASSERT_TRUE(ensemble_->stop_node(follower));
  EXPECT_FALSE(ensemble_->running(follower));
  EXPECT_FALSE(process_running_with_arg(old_pid, node.config_file.string()));
  EXPECT_FALSE(health::four_letter_word("127.0.0.1", node.client_port, "ruok", 1s));
  // Two of three still make a quorum.
  auto st = ensemble_->wait_healthy(30s);
  ASSERT_TRUE(st) << st.error().message;

  // Writes the stopped node misses.
  R1Options r1;
  r1.znodes = 500;
  r1.data_size = 256;
  auto written = write_r1_data(*client, r1);
  ASSERT_TRUE(written) << written.error().message;

  ASSERT_TRUE(ensemble_->start_node(follower));
  st = ensemble_->wait_healthy();
  ASSERT_TRUE(st) << st.error().message;
  auto info = ensemble_->srvr(follower);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->mode, health::ServerMode::kFollower);

  auto direct = connect(node.client_address());
  ASSERT_TRUE(direct);
  auto rejoined_tree = direct->snapshot_tree();
  ASSERT_TRUE(rejoined_tree) << rejoined_tree.error().message;
  EXPECT_TRUE(rejoined_tree->count(r1_path(r1.znodes - 1)));
  auto tree = client->snapshot_tree();
  ASSERT_TRUE(tree) << tree.error().message;
  auto diffs = diff_trees(*tree, *rejoined_tree);
  EXPECT_TRUE(diffs.empty()) << join(diffs);
}

TEST_F(EnsembleTest, SnapshotFormatterAgreesWithTheClientWalk) {
  ASSERT_NO_FATAL_FAILURE(start(config(3)));
  auto client = connect(ensemble_->connect_string());
  ASSERT_TRUE(client);
  VariedDataSet set = write_varied(*client, 300);
  auto old_leader = ensemble_->leader();
  ASSERT_TRUE(old_leader) << old_leader.error().message;
  auto before = ensemble_->srvr(*old_leader);
  ASSERT_TRUE(before) << before.error().message;

  // A new leader snapshots the whole tree as it takes over: a snapshot of
  // this exact, quiescent state.
  ASSERT_TRUE(ensemble_->stop_node(*old_leader));
  auto st = ensemble_->wait_healthy();
  ASSERT_TRUE(st) << st.error().message;
  auto leader = ensemble_->leader();
  ASSERT_TRUE(leader) << leader.error().message;
  auto snapshot = newest_snapshot(ensemble_->node(*leader).data_dir);
  ASSERT_TRUE(snapshot) << snapshot.error().message;

  auto formatted = run_snapshot_formatter(*snapshot, true);
  ASSERT_TRUE(formatted) << formatted.error().message;
  EXPECT_EQ(formatted->last_zxid, before->zxid);
  EXPECT_EQ(formatted->node_count, before->node_count);
  // Read the tree from the server that wrote the snapshot: /zookeeper/config
  // differs between servers.
  auto on_leader = connect(ensemble_->node(*leader).client_address());
  ASSERT_TRUE(on_leader);
  auto tree = on_leader->snapshot_tree();
  ASSERT_TRUE(tree) << tree.error().message;
  ASSERT_EQ(formatted->znodes.size(), tree->size());
  for (const auto& z : formatted->znodes) {
    auto it = tree->find(z.path);
    ASSERT_NE(it, tree->end()) << z.path;
    const ZnodeStat& s = it->second.stat;
    EXPECT_EQ(z.czxid, s.czxid) << z.path;
    EXPECT_EQ(z.mzxid, s.mzxid) << z.path;
    EXPECT_EQ(z.pzxid, s.pzxid) << z.path;
    EXPECT_EQ(z.ctime_s, s.ctime / 1000) << z.path;
    EXPECT_EQ(z.mtime_s, s.mtime / 1000) << z.path;
    // Snapshots count child creations; clients see changes, and every
    // creation but those of the children still there has been undone by a
    // deletion (DataNode.copyStat).
    EXPECT_EQ(z.cversion * 2 - s.num_children, s.cversion) << z.path;
    EXPECT_EQ(z.data_version, s.version) << z.path;
    EXPECT_EQ(z.acl_version, s.aversion) << z.path;
    auto kind = set.present.count(z.path) ? set.present.at(z.path).kind : ZnodeKind::kPersistent;
    if (kind == ZnodeKind::kContainer) {
      EXPECT_EQ(z.ephemeral_owner, kContainerOwner) << z.path;
    } else if (kind == ZnodeKind::kTtl) {
      EXPECT_EQ(static_cast<uint64_t>(z.ephemeral_owner) >> 56, 0xFFu) << z.path;
    } else {
      EXPECT_EQ(z.ephemeral_owner, s.ephemeral_owner) << z.path;
    }
    EXPECT_EQ(z.data_length, s.data_length < 0 ? 0 : s.data_length) << z.path;
    EXPECT_EQ(z.data, it->second.data) << z.path;
  }
  bool found_session = false;
  for (const auto& session : formatted->sessions) {
    if (session.id != set.open_session_id) continue;
    found_session = true;
    EXPECT_EQ(session.ephemeral_count, 5);  // open-0..2 and two sequential locks
  }
  EXPECT_TRUE(found_session);
}

class CompressedSnapshotTest : public EnsembleTest,
                               public ::testing::WithParamInterface<const char*> {};

TEST_P(CompressedSnapshotTest, StandaloneWritesCompressedSnapshotsTheFormatterReads) {
  auto c = config(1);
  c.snapshot_compression = GetParam();
  c.separate_log_dir = false;
  c.snap_count = 200;
  ASSERT_NO_FATAL_FAILURE(start(c));
  auto mode = ensemble_->srvr(0);
  ASSERT_TRUE(mode) << mode.error().message;
  EXPECT_EQ(mode->mode, health::ServerMode::kStandalone);
  auto client = connect(ensemble_->connect_string(), false);
  ASSERT_TRUE(client);
  R1Options r1;
  r1.znodes = 600;
  r1.data_size = 256;
  r1.window = 100;
  auto written = write_r1_data(*client, r1);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_EQ(written->znodes, r1.znodes);
  EXPECT_EQ(written->updates, 60u);
  EXPECT_EQ(written->parents, 8u);  // four trees, one group each

  // One directory holds snapshots and logs alike.
  const auto& node = ensemble_->node(0);
  EXPECT_EQ(node.data_dir, node.data_log_dir);
  bool has_log = false;
  for (const auto& e : fs::directory_iterator(node.data_dir / "version-2")) {
    has_log |= e.path().filename().string().rfind("log.", 0) == 0;
  }
  EXPECT_TRUE(has_log);

  // A restarted standalone server snapshots what it loaded.
  auto before = ensemble_->srvr(0);
  ASSERT_TRUE(before) << before.error().message;
  client->close();
  ASSERT_TRUE(ensemble_->stop_node(0));
  ASSERT_TRUE(ensemble_->start_node(0));
  auto st = ensemble_->wait_healthy();
  ASSERT_TRUE(st) << st.error().message;
  auto snapshot = newest_snapshot(node.data_dir);
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  EXPECT_EQ(snapshot->extension(), std::string(".") + GetParam());

  auto formatted = run_snapshot_formatter(*snapshot);
  ASSERT_TRUE(formatted) << formatted.error().message;
  EXPECT_GE(formatted->last_zxid, before->zxid);
  auto after = ensemble_->srvr(0);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(formatted->node_count, after->node_count);
  std::map<std::string, const FormattedZnode*> by_path;
  for (const auto& z : formatted->znodes) by_path[z.path] = &z;
  for (size_t i = 0; i < r1.znodes; ++i) {
    auto it = by_path.find(r1_path(i));
    ASSERT_NE(it, by_path.end()) << r1_path(i);
    EXPECT_EQ(it->second->data_length, 256) << r1_path(i);
    EXPECT_EQ(it->second->data_version, i % 10 == 0 ? 1 : 0) << r1_path(i);
  }
}

INSTANTIATE_TEST_SUITE_P(Compression, CompressedSnapshotTest, ::testing::Values("gz", "snappy"));

// zk-ensemble runs servers that outlive it; a failed test still stops them.
class ZkEnsembleToolTest : public EnsembleTest {
 protected:
  void TearDown() override {
    if (auto left = LocalEnsemble::attach(dir_)) (void)(*left)->stop_all();
    EnsembleTest::TearDown();
  }

  static CapturedRun run(std::vector<std::string> args, std::vector<std::string>* lines = nullptr) {
    args.insert(args.begin(), ZK_ENSEMBLE_BIN);
    RunSpec spec{std::move(args)};
    spec.on_line = [&](std::string_view line) {
      if (lines) lines->emplace_back(line);
    };
    auto result = run_captured(spec);
    EXPECT_NE(result.exit_code, -1) << result.err;
    return result;
  }
};

TEST_F(ZkEnsembleToolTest, StartsDetachedReportsAndStops) {
  std::vector<std::string> lines;
  auto started = run({"start", "--dir", dir_.string(), "--nodes", "1"}, &lines);
  ASSERT_EQ(started.exit_code, 0) << started.err;
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("connect=127.0.0.1:", 0), 0u) << lines[0];

  // The command has exited; the server it started still serves.
  auto attached = LocalEnsemble::attach(dir_);
  ASSERT_TRUE(attached) << attached.error().message;
  auto& ensemble = **attached;
  ASSERT_TRUE(ensemble.running(0));
  EXPECT_NE(lines[1].find("pid=" + std::to_string(ensemble.pid(0))), std::string::npos);
  EXPECT_NE(lines[1].find("data_dir=" + ensemble.node(0).data_dir.string()), std::string::npos);
  auto info = ensemble.srvr(0);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->mode, health::ServerMode::kStandalone);

  EXPECT_EQ(run({"status", "--dir", dir_.string()}).exit_code, 0);
  auto again = run({"start", "--dir", dir_.string(), "--nodes", "1"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already running"), std::string::npos) << again.err;

  pid_t pid = ensemble.pid(0);
  auto stopped = run({"stop", "--dir", dir_.string()});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_FALSE(process_running_with_arg(pid, ensemble.node(0).config_file.string()));
  EXPECT_FALSE(health::four_letter_word("127.0.0.1", ensemble.node(0).client_port, "ruok", 1s));
  EXPECT_EQ(run({"status", "--dir", dir_.string()}).exit_code, 1);
}

TEST(SnapshotFormatterParser, RejectsOutputThatEndsEarly) {
  SnapshotFormatterParser parser;
  parser.feed("ZNode Details (count=2):");
  parser.feed("----");
  parser.feed("/");
  parser.feed("  cZxid = 0x00000000000000");
  auto result = parser.finish();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::Corrupt);
}

TEST(SnapshotFormatterParser, RejectsAZnodeWithMissingFields) {
  SnapshotFormatterParser parser;
  for (const char* line :
       {"ZNode Details (count=2):", "----", "/", "  cZxid = 0x0", "----",
        "Session Details (sid, timeout, ephemeralCount):", "----", "Last zxid: 0x0"}) {
    parser.feed(line);
  }
  auto result = parser.finish();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("fields"), std::string::npos) << result.error().message;
}

}  // namespace
}  // namespace zktool::testsupport
