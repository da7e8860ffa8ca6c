#include "snapshot/zookeeper_state.h"

#include <gtest/gtest.h>

#include <set>

#include "fixtures.h"

namespace zktool::snapshot {
namespace {

using testing::read_file;
using testing::ScratchDir;
using testing::write_file;

Result<ZkState> load(const ScratchDir& dir) {
  return load_state(DataDirs{dir.data(), dir.logs()});
}

// Every node's data, stat, children count and ACL must be equal.
void expect_same_tree(const DataTree& a, const DataTree& b) {
  auto paths = a.sorted_paths();
  ASSERT_EQ(paths, b.sorted_paths());
  for (std::string_view path : paths) {
    const Node& x = *a.find(path);
    const Node& y = *b.find(path);
    EXPECT_EQ(x.data, y.data) << path;
    EXPECT_EQ(x.stat, y.stat) << path;
    EXPECT_EQ(x.num_children, y.num_children) << path;
    EXPECT_EQ(a.acl(x.acl_index), b.acl(y.acl_index)) << path;
  }
  EXPECT_EQ(a.sessions(), b.sessions());
  EXPECT_EQ(a.digest(), b.digest());
}

void remove_snapshots_newer_than(const ScratchDir& dir, Zxid zxid) {
  for (const auto& e : std::filesystem::directory_iterator(dir.data())) {
    auto z = zxid_from_file_name(e.path().filename().string(), "snapshot");
    if (z && *z > zxid) std::filesystem::remove(e.path());
  }
}

TEST(RestoreSet, PicksTheNewestLogAtOrBeforeTheSnapshotAndAllLater) {
  std::vector<ZkFile> logs = {{"log.1", 1}, {"log.28", 0x28}, {"log.4e", 0x4e}, {"log.67", 0x67}};
  auto pick = [&](Zxid z) {
    std::vector<Zxid> zs;
    for (const ZkFile& f : logs_for_snapshot(logs, z)) zs.push_back(f.zxid);
    return zs;
  };
  EXPECT_EQ(pick(0x4c), (std::vector<Zxid>{0x28, 0x4e, 0x67}));
  EXPECT_EQ(pick(0x4e), (std::vector<Zxid>{0x4e, 0x67}));
  EXPECT_EQ(pick(0), (std::vector<Zxid>{1, 0x28, 0x4e, 0x67}));
  EXPECT_EQ(pick(0x1000), (std::vector<Zxid>{0x67}));
}

TEST(ZookeeperState, LoadsTheNewestSnapshotAndReplaysTheRest) {
  ScratchDir dir;
  dir.copy_zk38();
  auto state = load(dir);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->snapshot.filename(), "snapshot.103");
  EXPECT_EQ(state->last_zxid, 0x11b);
  EXPECT_EQ(state->skipped.size(), 0u);
  // The newest snapshot and its logs were written with digests off.
  EXPECT_FALSE(state->digest.verified().has_value());
  EXPECT_TRUE(state->warnings.empty());
}

TEST(ZookeeperState, WithoutASnapshotEveryLogReplaysOverTheEmptyTree) {
  ScratchDir with_snapshots, logs_only;
  with_snapshots.copy_zk38();
  logs_only.copy_zk38();
  remove_snapshots_newer_than(logs_only, -1);
  auto expected = load(with_snapshots);
  ASSERT_TRUE(expected) << expected.error().message;
  auto state = load(logs_only);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_TRUE(state->from_empty_tree());
  EXPECT_EQ(state->snapshot_zxid, 0);
  EXPECT_EQ(state->logs.front().file.filename(), "log.1");
  EXPECT_EQ(state->last_zxid, expected->last_zxid);
  // The same tree, but for the /zookeeper/config node a 3.5+ server's empty
  // tree has and 3.4's (the one logs alone are loaded over) has not.
  std::vector<std::string_view> paths = expected->tree.sorted_paths();
  std::erase(paths, "/zookeeper/config");
  ASSERT_EQ(state->tree.sorted_paths(), paths);
  for (std::string_view path : paths) {
    const Node& got = *state->tree.find(path);
    const Node& want = *expected->tree.find(path);
    EXPECT_EQ(got.data, want.data) << path;
    EXPECT_EQ(got.stat, want.stat) << path;
    EXPECT_EQ(got.num_children + (path == "/zookeeper"), want.num_children) << path;
    EXPECT_EQ(state->tree.acl(got.acl_index), expected->tree.acl(want.acl_index)) << path;
  }
  EXPECT_EQ(state->tree.sessions(), expected->tree.sessions());
  EXPECT_EQ(state->tree.digest(), expected->tree.digest());  // /zookeeper/ is not hashed
  // The early logs carry ZooKeeper's digests: the empty tree they start from is ZooKeeper's.
  EXPECT_GT(state->digest.txn_digests, 10u);
  EXPECT_EQ(state->digest.mismatches(), 0u);
  EXPECT_EQ(state->digest.verified(), true);
}

TEST(ZookeeperState, WithoutASnapshotTheLogsMustStartAtTheFirstTransaction) {
  ScratchDir dir;
  dir.copy_zk38();
  remove_snapshots_newer_than(dir, -1);
  std::filesystem::remove(dir.logs() / "log.1");
  auto state = load(dir);
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(state.error().message.find("log.28: there is no snapshot and the first transaction "
                                       "is 0x28: the ones before it are missing"),
            std::string::npos)
      << state.error().message;
}

TEST(ZookeeperState, ProvesTheTreeAgainstZooKeepersDigests) {
  ScratchDir dir;
  dir.copy_zk38();
  remove_snapshots_newer_than(dir, 0xd1);
  auto state = load(dir);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->snapshot.filename(), "snapshot.d1.snappy");
  EXPECT_GT(state->digest.txn_digests, 10u);
  EXPECT_EQ(state->digest.verified(), true);
  EXPECT_STREQ(state->digest.charset(), "utf-8");  // the fixture has non-ASCII paths
}

// Rewrites snapshot.4c with its recorded digest altered (and, optionally, the
// digest's zxid moved to the snapshot's own), as a racing transaction leaves it.
void alter_snapshot_digest(const ScratchDir& dir, bool at_snapshot_zxid) {
  std::vector<SnapshotNode> nodes;
  auto info = read_snapshot(dir.data() / "snapshot.4c",
                            [&](const SnapshotNode& n) { nodes.push_back(n); });
  ASSERT_TRUE(info);
  ASSERT_TRUE(info->digest);
  ZxidDigest digest = *info->digest;
  digest.digest += 1;
  if (at_snapshot_zxid) digest.zxid = 0x4c;
  auto bytes = serialize_snapshot(SnapshotContents{info->sessions, info->acls, nodes, digest},
                                  SnapshotCompression::None);
  ASSERT_TRUE(bytes);
  write_file(dir.data() / "snapshot.4c", *bytes);
}

TEST(ZookeeperState, ARacedSnapshotDigestIsSettledByTheTransactionDigests) {
  ScratchDir dir;
  dir.copy_zk38();
  remove_snapshots_newer_than(dir, 0x4c);
  alter_snapshot_digest(dir, false);
  auto state = load(dir);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->digest.snapshot, DigestReport::SnapshotDigest::Mismatched);
  EXPECT_GT(state->digest.txn_digests, 0u);
  EXPECT_EQ(state->digest.verified(), true);
  ASSERT_EQ(state->warnings.size(), 1u);
  EXPECT_NE(state->warnings[0].find("raced"), std::string::npos);
}

TEST(ZookeeperState, AMismatchedSnapshotDigestWithNothingAfterItIsNotProof) {
  ScratchDir dir;
  dir.copy_zk38();
  remove_snapshots_newer_than(dir, 0x4c);
  alter_snapshot_digest(dir, true);
  LoadOptions options;
  options.up_to_zxid = 0x4c;  // no transaction digest after the snapshot's
  auto state = load_state(DataDirs{dir.data(), dir.logs()}, options);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->digest.snapshot, DigestReport::SnapshotDigest::Mismatched);
  EXPECT_EQ(state->digest.verified(), false);
}

TEST(ZookeeperState, ATransactionDigestMismatchIsReportedAtItsZxid) {
  ScratchDir dir;
  dir.copy_zk38();
  remove_snapshots_newer_than(dir, 0x4c);
  // Replay from a snapshot whose tree lacks a node: every digest after differs.
  std::vector<SnapshotNode> nodes;
  auto info = read_snapshot(dir.data() / "snapshot.4c",
                            [&](const SnapshotNode& n) {
                              if (n.path != "/a/n2") nodes.push_back(n);
                            });
  ASSERT_TRUE(info);
  auto bytes = serialize_snapshot(SnapshotContents{info->sessions, info->acls, nodes, std::nullopt},
                                  SnapshotCompression::None);
  ASSERT_TRUE(bytes);
  write_file(dir.data() / "snapshot.4c", *bytes);
  auto state = load(dir);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->digest.verified(), false);
  ASSERT_TRUE(state->digest.first_mismatch());
  EXPECT_EQ(*state->digest.first_mismatch(), 0x4d);
  EXPECT_EQ(state->digest.mismatches(), state->digest.txn_digests);
}

TEST(ZookeeperState, ReplayFromAnOlderSnapshotGivesTheIdenticalTree) {
  ScratchDir newest;
  newest.copy_zk38();
  auto from_newest = load(newest);
  ASSERT_TRUE(from_newest);
  for (Zxid start : {Zxid{0}, Zxid{0x26}, Zxid{0x4c}, Zxid{0x88}, Zxid{0xa4}}) {
    ScratchDir older;
    older.copy_zk38();
    remove_snapshots_newer_than(older, start);
    auto replayed = load(older);
    ASSERT_TRUE(replayed) << replayed.error().message;
    EXPECT_EQ(replayed->snapshot_zxid, start);
    EXPECT_EQ(replayed->last_zxid, from_newest->last_zxid);
    EXPECT_EQ(replayed->digest.verified(), true) << "from " << zxid_hex(start);
    expect_same_tree(replayed->tree, from_newest->tree);
  }
}

TEST(ZookeeperState, FallsBackPastACorruptNewestSnapshotAsZooKeeperDoes) {
  ScratchDir dir;
  dir.copy_zk38();
  auto good = load(dir);
  ASSERT_TRUE(good);
  std::string bytes = read_file(dir.data() / "snapshot.103");
  bytes[bytes.size() / 2] ^= 0x10;
  write_file(dir.data() / "snapshot.103", bytes);
  auto state = load(dir);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->snapshot.filename(), "snapshot.e2");
  ASSERT_EQ(state->skipped.size(), 1u);
  EXPECT_EQ(state->skipped[0].file.filename(), "snapshot.103");
  EXPECT_FALSE(state->warnings.empty());
  expect_same_tree(state->tree, good->tree);
}

TEST(ZookeeperState, MissingTransactionsAreAnError) {
  ScratchDir dir;
  dir.copy_zk38();
  remove_snapshots_newer_than(dir, 0x4c);
  std::filesystem::remove(dir.logs() / "log.4e");
  auto state = load(dir);
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(state.error().message.find("missing"), std::string::npos) << state.error().message;
}

TEST(ZookeeperState, ACorruptLogInTheRestoreSetIsAnError) {
  ScratchDir dir;
  dir.copy_zk38();
  std::string bytes = read_file(dir.logs() / "log.105");
  bytes[100] ^= 0x01;
  write_file(dir.logs() / "log.105", bytes);
  auto state = load(dir);
  ASSERT_FALSE(state);
  EXPECT_NE(state.error().message.find("log.105"), std::string::npos) << state.error().message;
}

TEST(ZookeeperState, NoIntactSnapshotIsAnError) {
  ScratchDir dir;
  dir.copy_zk38();
  for (const auto& e : std::filesystem::directory_iterator(dir.data())) {
    write_file(e.path(), "garbage");
  }
  auto state = load(dir);
  ASSERT_FALSE(state);
  EXPECT_EQ(state.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(state.error().message.find("no intact snapshot"), std::string::npos);
}

TEST(ZookeeperState, CutsReplayAtARequestedZxid) {
  ScratchDir dir;
  dir.copy_zk38();
  LoadOptions options;
  options.up_to_zxid = 0x110;
  auto state = load_state(DataDirs{dir.data(), dir.logs()}, options);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->last_zxid, 0x110);
  ASSERT_FALSE(state->logs.empty());
  EXPECT_TRUE(state->logs.back().cut);
  EXPECT_EQ(state->logs.back().last_zxid, 0x110);

  // The files as used (later logs gone, the last one ending at end_offset)
  // are what a hot backup archives: on their own they load to the same state.
  std::set<std::filesystem::path> used;
  for (const LogUsed& log : state->logs) {
    used.insert(log.file);
    std::filesystem::resize_file(log.file, log.end_offset);
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir.logs())) {
    if (entry.path().filename().string().rfind("log.", 0) == 0 && !used.count(entry.path())) {
      std::filesystem::remove(entry.path());
    }
  }
  auto trimmed = load_state(DataDirs{dir.data(), dir.logs()});
  ASSERT_TRUE(trimmed) << trimmed.error().message;
  EXPECT_EQ(trimmed->last_zxid, 0x110);
  EXPECT_EQ(trimmed->tree.digest().value(DigestCharset::Utf8),
            state->tree.digest().value(DigestCharset::Utf8));
  EXPECT_EQ(trimmed->logs.back().end, LogEnd::EndOfFile);
}

TEST(SnapshotWriter, WritesASnapshotOfTheReplayedTreeThatLoadsBackIdentically) {
  ScratchDir dir;
  dir.copy_zk38();
  remove_snapshots_newer_than(dir, 0xd1);
  auto state = load(dir);
  ASSERT_TRUE(state);
  ScratchDir out;
  std::filesystem::create_directories(out.path() / "version-2");
  for (auto compression :
       {SnapshotCompression::None, SnapshotCompression::Gzip, SnapshotCompression::Snappy}) {
    auto written = write_snapshot_file(
        state->tree.to_snapshot(state->last_zxid, state->digest.server_charset()),
        state->last_zxid, out.path() / "version-2", compression);
    ASSERT_TRUE(written) << written.error().message;
    auto reloaded = load_state(DataDirs{out.path() / "version-2", out.path() / "version-2"});
    ASSERT_TRUE(reloaded) << reloaded.error().message;
    EXPECT_EQ(reloaded->snapshot, *written);
    EXPECT_EQ(reloaded->snapshot_zxid, state->last_zxid);
    // The digest we wrote is for the snapshot's own zxid: it is checked at load.
    EXPECT_EQ(reloaded->digest.verified(), true);
    expect_same_tree(reloaded->tree, state->tree);
    std::filesystem::remove(*written);
  }
  // No temporary is left behind.
  EXPECT_TRUE(std::filesystem::is_empty(out.path() / "version-2"));
}

TEST(DataDirs, ResolvesEveryLayout) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.path() / "dcos" / "snapshot" / "version-2");
  std::filesystem::create_directories(dir.path() / "dcos" / "transactions" / "version-2");
  auto dcos = resolve_data_dirs(dir.path() / "dcos", std::nullopt);
  ASSERT_TRUE(dcos) << dcos.error().message;
  EXPECT_EQ(dcos->log_dir, dir.path() / "dcos" / "transactions" / "version-2");
  dir.copy_zk38();
  auto plain = resolve_data_dirs(dir.path() / "data", dir.path() / "logs");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->snap_dir, dir.data());
  EXPECT_EQ(plain->log_dir, dir.logs());
  auto missing = resolve_data_dirs(dir.path() / "nope", std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::Io);
  auto foreign = resolve_data_dirs(dir.path(), std::nullopt);
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("not a ZooKeeper data directory"), std::string::npos);
}

}  // namespace
}  // namespace zktool::snapshot
