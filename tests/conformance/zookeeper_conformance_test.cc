// zk-tool's ZooKeeper format library against real ZooKeeper 3.8: a 3-node
// ensemble writes the conformance data set, then
//   - every snapshot it wrote reads the same through zk-tool as through
//     ZooKeeper's own SnapshotFormatter, node for node;
//   - each node's data directory, replayed by zk-tool, proves itself against
//     ZooKeeper's recorded digests and equals the tree clients read live;
//   - a snapshot zk-tool writes from that tree is loaded and served by a
//     fresh ZooKeeper server, which checks our digest as it loads.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "snapshot/snapshot_file.h"
#include "snapshot/txn_log.h"
#include "snapshot/zookeeper_state.h"
#include "support/ensemble.h"
#include "support/local_ensemble.h"
#include "support/populate.h"
#include "support/process.h"
#include "support/snapshot_formatter.h"
#include "support/test_dir.h"
#include "support/tree_diff.h"
#include "support/zk_client.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;
namespace ts = zktool::testsupport;
using namespace std::chrono_literals;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

// The znode as a client sees it, from zk-tool's replayed tree: clients see
// cversion as changes (2 x creations - children) and 0 as the owner of
// containers and TTL znodes.
ts::ZnodeInfo client_view(const zs::DataTree& tree, std::string_view path) {
  const zs::Node& node = *tree.find(path);
  ts::ZnodeInfo info;
  info.data_null = !node.data.has_value();
  if (node.data) info.data = std::string(*node.data);
  const zs::Stat& st = node.stat;
  info.stat.czxid = st.czxid;
  info.stat.mzxid = st.mzxid;
  info.stat.pzxid = st.pzxid;
  info.stat.ctime = st.ctime;
  info.stat.mtime = st.mtime;
  info.stat.version = st.version;
  info.stat.cversion = st.cversion * 2 - node.num_children;
  info.stat.aversion = st.aversion;
  info.stat.ephemeral_owner =
      zs::node_kind(st.ephemeral_owner) == zs::NodeKind::Ephemeral ? st.ephemeral_owner : 0;
  info.stat.data_length = node.data ? static_cast<int32_t>(node.data->size()) : 0;
  info.stat.num_children = node.num_children;
  for (const zs::Acl& a : tree.acl(node.acl_index)) {
    info.acl.push_back(ts::AclEntry{a.perms, std::string(a.scheme), std::string(a.id)});
  }
  return info;
}

ts::ZnodeTree client_view(const zs::DataTree& tree) {
  ts::ZnodeTree out;
  for (std::string_view path : tree.sorted_paths()) {
    out[path.empty() ? "/" : std::string(path)] = client_view(tree, path);
  }
  return out;
}

std::vector<fs::path> snapshots_in(const fs::path& data_dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(data_dir / "version-2")) {
    if (zs::zxid_from_file_name(e.path().filename().string(), "snapshot")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Every node of `file` as zk-tool reads it must equal what SnapshotFormatter prints.
void expect_reader_agrees_with_formatter(const fs::path& file) {
  SCOPED_TRACE(file.string());
  auto reference = ts::run_snapshot_formatter(file, /*dump_data=*/true);
  ASSERT_TRUE(reference) << reference.error().message;
  std::vector<zs::SnapshotNode> nodes;
  auto info = zs::read_snapshot(file, [&](const zs::SnapshotNode& n) { nodes.push_back(n); });
  ASSERT_TRUE(info) << info.error().message;
  ASSERT_EQ(nodes.size(), reference->znodes.size());
  EXPECT_EQ(static_cast<int64_t>(nodes.size()) + 1, reference->node_count);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const zs::SnapshotNode& ours = nodes[i];
    const ts::FormattedZnode& theirs = reference->znodes[i];
    std::string path = ours.path.empty() ? "/" : std::string(ours.path);
    ASSERT_EQ(path, theirs.path) << "node " << i;
    EXPECT_EQ(ours.stat.czxid, theirs.czxid) << path;
    EXPECT_EQ(ours.stat.mzxid, theirs.mzxid) << path;
    EXPECT_EQ(ours.stat.pzxid, theirs.pzxid) << path;
    EXPECT_EQ(ours.stat.ctime / 1000, theirs.ctime_s) << path;
    EXPECT_EQ(ours.stat.mtime / 1000, theirs.mtime_s) << path;
    EXPECT_EQ(ours.stat.cversion, theirs.cversion) << path;
    EXPECT_EQ(ours.stat.version, theirs.data_version) << path;
    EXPECT_EQ(ours.stat.aversion, theirs.acl_version) << path;
    EXPECT_EQ(ours.stat.ephemeral_owner, theirs.ephemeral_owner) << path;
    EXPECT_EQ(static_cast<int64_t>(ours.data ? ours.data->size() : 0), theirs.data_length) << path;
    ASSERT_TRUE(theirs.data.has_value());
    EXPECT_EQ(ours.data ? std::string(*ours.data) : std::string(), *theirs.data) << path;
  }
  ASSERT_EQ(info->sessions.size(), reference->sessions.size());
  for (size_t i = 0; i < info->sessions.size(); ++i) {
    bool found = false;
    for (const ts::FormattedSession& s : reference->sessions) {
      if (s.id == info->sessions[i].first) {
        found = true;
        EXPECT_EQ(s.timeout_ms, info->sessions[i].second);
      }
    }
    EXPECT_TRUE(found) << "session " << zs::zxid_hex(info->sessions[i].first);
  }
}

class Conformance : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir("zktool-conformance-");
    ts::EnsembleConfig config;
    config.base_dir = dir_->path();
    config.nodes = 3;
    config.snap_count = 400;  // several snapshots, several logs
    config.extended_types_enabled = true;
    config.container_check_interval_ms = 500;  // the leader reaps (deleteContainer) soon
    auto ensemble = ts::LocalEnsemble::start(config, ts::LocalEnsemble::Lifetime::kTiedToCaller);
    ASSERT_TRUE(ensemble) << ensemble.error().message;
    ensemble_ = ensemble->release();
    auto client = ts::ZkClient::connect(ensemble_->connect_string());
    ASSERT_TRUE(client) << client.error().message;
    client_ = client->release();
    auto data = ts::write_varied_data(*client_);
    ASSERT_TRUE(data) << data.error().message;
    // Wait until the leader has reaped the emptied container (so the logs hold
    // a deleteContainer) and the expired TTL znode: the tree is quiet after.
    auto reaped_by = std::chrono::steady_clock::now() + 30s;
    for (const std::string& path : data->reapable) {
      while (true) {
        auto exists = client_->exists(path);
        ASSERT_TRUE(exists);
        if (!*exists) break;
        ASSERT_LT(std::chrono::steady_clock::now(), reaped_by) << path << " was never reaped";
        std::this_thread::sleep_for(100ms);
      }
    }
    ASSERT_TRUE(client_->sync());
    auto tree = client_->snapshot_tree();
    ASSERT_TRUE(tree) << tree.error().message;
    live_tree_ = new ts::ZnodeTree(std::move(tree.value()));
    // Every member must have applied everything before their files are read.
    auto leader = ensemble_->leader();
    ASSERT_TRUE(leader);
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      auto lead = ensemble_->srvr(*leader);
      ASSERT_TRUE(lead);
      bool same = true;
      for (size_t i = 0; i < ensemble_->size(); ++i) {
        auto s = ensemble_->srvr(i);
        same = same && s && s->zxid == lead->zxid;
      }
      if (same) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "members did not converge";
      std::this_thread::sleep_for(100ms);
    }
  }

  static void TearDownTestSuite() {
    delete client_;
    delete ensemble_;
    delete live_tree_;
    if (!::testing::UnitTest::GetInstance()->Passed()) {
      std::cerr << "kept " << dir_->release() << " (each node's zookeeper.log is inside)\n";
    }
    delete dir_;
  }

  static Result<zs::ZkState> load_node(size_t i) {
    const ts::NodeLayout& node = ensemble_->node(i);
    auto dirs = zs::resolve_data_dirs(node.data_dir, node.data_log_dir);
    if (!dirs) return dirs.error();
    return zs::load_state(*dirs);
  }

  static testing::TempDir* dir_;
  static ts::LocalEnsemble* ensemble_;
  static ts::ZkClient* client_;
  static ts::ZnodeTree* live_tree_;
};

testing::TempDir* Conformance::dir_ = nullptr;
ts::LocalEnsemble* Conformance::ensemble_ = nullptr;
ts::ZkClient* Conformance::client_ = nullptr;
ts::ZnodeTree* Conformance::live_tree_ = nullptr;

TEST_F(Conformance, EverySnapshotReadsAsSnapshotFormatterReadsIt) {
  size_t checked = 0;
  for (size_t i = 0; i < ensemble_->size(); ++i) {
    auto files = snapshots_in(ensemble_->node(i).data_dir);
    ASSERT_GE(files.size(), 2u) << "node " << i << " rolled too few snapshots";
    // Every snapshot of one node, the newest of the others.
    if (i == 0) {
      for (const fs::path& f : files) expect_reader_agrees_with_formatter(f);
      checked += files.size();
    } else {
      expect_reader_agrees_with_formatter(files.back());
      ++checked;
    }
  }
  EXPECT_GE(checked, 4u);
}

TEST_F(Conformance, EachReplayedDataDirectoryIsProvenAndEqualsTheLiveTree) {
  for (size_t i = 0; i < ensemble_->size(); ++i) {
    SCOPED_TRACE("node " + std::to_string(i));
    auto state = load_node(i);
    ASSERT_TRUE(state) << state.error().message;
    auto srvr = ensemble_->srvr(i);
    ASSERT_TRUE(srvr);
    EXPECT_EQ(state->last_zxid, srvr->zxid);
    EXPECT_EQ(static_cast<int64_t>(state->tree.node_count()) + 1, srvr->node_count);
    EXPECT_EQ(state->digest.verified(), true);
    // Proof needs at least one recorded digest: the transactions' after the
    // snapshot, or, when a member snapshotted after the last write, the
    // snapshot's own at its zxid.
    EXPECT_TRUE(state->digest.txn_digests > 0 ||
                state->digest.snapshot == zs::DigestReport::SnapshotDigest::Matched);
    EXPECT_NE(state->digest.snapshot, zs::DigestReport::SnapshotDigest::Unreached);
    EXPECT_GE(state->logs.size(), 1u);
    // A transaction may race ZooKeeper's fuzzy snapshot digest; nothing else may warn.
    for (const std::string& w : state->warnings) EXPECT_NE(w.find("raced"), std::string::npos) << w;
    // The open session and its ephemerals are part of the state.
    EXPECT_TRUE(state->tree.sessions().contains(client_->session_id()));
    EXPECT_GT(state->tree.ephemeral_count(), 0u);
    auto diff = ts::diff_trees(*live_tree_, client_view(state->tree));
    EXPECT_TRUE(diff.empty()) << join(diff);
  }
}

TEST_F(Conformance, TheLogsHoldEveryKindOfTransactionTheDataSetMakes) {
  const ts::NodeLayout& node = ensemble_->node(0);
  std::set<int32_t> types;
  bool close_with_paths = false;
  auto note = [&](int32_t type, const zs::TxnBody& body) {
    types.insert(type);
    if (type == zs::kOpCloseSession) {
      const auto& paths = std::get<zs::CloseSessionTxn>(body).paths_to_delete;
      close_with_paths = close_with_paths || (paths && !paths->empty());
    }
  };
  for (const auto& e : fs::directory_iterator(node.data_log_dir / "version-2")) {
    auto log = zs::read_txn_log(e.path());
    ASSERT_TRUE(log) << log.error().message;
    for (const zs::TxnRecord& r : log->records) {
      note(r.txn.header.type, r.txn.body);
      if (r.txn.header.type == zs::kOpMulti) {
        for (const zs::SubTxn& sub : std::get<zs::MultiTxn>(r.txn.body).txns) {
          note(sub.type, sub.body);
        }
      }
    }
  }
  for (int32_t t : {zs::kOpCreate, zs::kOpDelete, zs::kOpSetData, zs::kOpSetAcl, zs::kOpCheck,
                    zs::kOpMulti, zs::kOpCreate2, zs::kOpCreateContainer, zs::kOpDeleteContainer,
                    zs::kOpCreateTtl, zs::kOpCreateSession, zs::kOpCloseSession, zs::kOpError}) {
    EXPECT_TRUE(types.contains(t)) << zs::op_name(t) << " never appeared";
  }
  EXPECT_TRUE(close_with_paths) << "no closeSession carried the paths it deleted";
}

TEST_F(Conformance, ZooKeeperServesASnapshotZkToolWrote) {
  auto state = load_node(0);
  ASSERT_TRUE(state) << state.error().message;
  for (auto compression : {zs::SnapshotCompression::None, zs::SnapshotCompression::Snappy}) {
    SCOPED_TRACE(compression == zs::SnapshotCompression::None ? "plain" : "snappy");
    testing::TestDir dir("zktool-writer-");
    ts::EnsembleConfig config;
    config.base_dir = dir.path();
    config.nodes = 1;
    config.extended_types_enabled = true;
    auto layout = ts::plan_ensemble(config);
    ASSERT_TRUE(layout) << layout.error().message;
    ASSERT_TRUE(ts::write_ensemble_files(*layout));
    fs::path snap_dir = layout->nodes[0].data_dir / "version-2";
    fs::create_directories(snap_dir);
    auto contents = state->tree.to_snapshot(state->last_zxid, state->digest.server_charset());
    auto written = zs::write_snapshot_file(contents, state->last_zxid, snap_dir, compression);
    ASSERT_TRUE(written) << written.error().message;

    auto server = ts::LocalEnsemble::start(config, ts::LocalEnsemble::Lifetime::kTiedToCaller);
    ASSERT_TRUE(server) << server.error().message;
    auto client = ts::ZkClient::connect((*server)->connect_string());
    ASSERT_TRUE(client);
    ASSERT_TRUE((*client)->add_auth("digest", ts::kVariedDigestCredentials));
    auto served = (*client)->snapshot_tree();
    ASSERT_TRUE(served) << served.error().message;
    // The session that owned the live ephemerals is restored with the tree,
    // so even those are served until the session expires.
    auto diff = ts::diff_trees(*live_tree_, *served);
    EXPECT_TRUE(diff.empty()) << join(diff);

    // ZooKeeper compared our digest with its own as it loaded the snapshot.
    std::string log = read_text((*server)->node(0).log_file);
    ASSERT_TRUE(contents.digest);
    EXPECT_NE(log.find("digest value as " + std::to_string(contents.digest->digest)),
              std::string::npos)
        << "ZooKeeper did not report loading our digest";
    EXPECT_EQ(log.find("Digests are not matching"), std::string::npos);
    server->reset();
  }
}

// One standalone server with a twist in how it writes its files: its
// snapshots compressed, or its JVM hashing paths as US-ASCII (a server under
// the C locale). ZooKeeper's own reader and digests must still agree with ours.
struct Variant {
  const char* name;
  std::string compression;
  std::vector<std::string> jvm_options;
  const char* expected_charset;
};

class ServerVariant : public ::testing::TestWithParam<Variant> {};

TEST_P(ServerVariant, ReaderAndReplayAgreeWithZooKeeper) {
  const Variant& variant = GetParam();
  testing::TestDir dir("zktool-variant-");
  ts::EnsembleConfig config;
  config.base_dir = dir.path();
  config.nodes = 1;
  config.snap_count = 200;
  config.extended_types_enabled = true;
  config.snapshot_compression = variant.compression;
  config.extra_jvm_options = variant.jvm_options;
  auto server = ts::LocalEnsemble::start(config, ts::LocalEnsemble::Lifetime::kTiedToCaller);
  ASSERT_TRUE(server) << server.error().message;
  auto client = ts::ZkClient::connect((*server)->connect_string());
  ASSERT_TRUE(client);
  ts::VariedOptions options;
  options.large_znodes = 1;
  options.bulk_znodes = 300;
  auto data = ts::write_varied_data(**client, options);
  ASSERT_TRUE(data) << data.error().message;
  auto live = (*client)->snapshot_tree();
  ASSERT_TRUE(live);

  const ts::NodeLayout& node = (*server)->node(0);
  auto files = snapshots_in(node.data_dir);
  ASSERT_GE(files.size(), 2u);
  if (!variant.compression.empty()) {
    EXPECT_EQ(files.back().extension(), "." + variant.compression);
  }
  expect_reader_agrees_with_formatter(files.back());

  auto dirs = zs::resolve_data_dirs(node.data_dir, node.data_log_dir);
  ASSERT_TRUE(dirs);
  auto state = zs::load_state(*dirs);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->digest.verified(), true);
  EXPECT_STREQ(state->digest.charset(), variant.expected_charset);
  auto diff = ts::diff_trees(*live, client_view(state->tree));
  EXPECT_TRUE(diff.empty()) << join(diff);
  server->reset();
}

INSTANTIATE_TEST_SUITE_P(
    Conformance, ServerVariant,
    ::testing::Values(Variant{"gzip", "gz", {}, "utf-8"},
                      Variant{"snappy", "snappy", {}, "utf-8"},
                      Variant{"c_locale", "", {"-Dfile.encoding=US-ASCII"}, "us-ascii"}),
    [](const ::testing::TestParamInfo<Variant>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace zktool
