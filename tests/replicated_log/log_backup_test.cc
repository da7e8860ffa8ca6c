// zk-tool log backup / log restore (src/log_backup.h) on replicas written
// through the store, without systemd (no --unit).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "archive/archive_writer.h"
#include "log_backup.h"
#include "replicated_log/initialize.h"
#include "replicated_log/replica_store.h"
#include "test_support.h"

namespace zktool::replicated_log {
namespace {

namespace fs = std::filesystem;
using testing::append_action;
using testing::nop_action;
using testing::raw_entries;
using testing::read_tree;
using testing::run_command;
using testing::shell_quote;
using testing::TempDir;
using testing::truncate_action;

// Appends, an unlearned append, a filler, a tombstone below the truncation
// and a learned truncation to 3: begin 3, end 8.
void write_source(const fs::path& dir) {
  auto store = ReplicaStore::open_writable(dir);
  ASSERT_TRUE(store) << store.error().message;
  Metadata metadata;
  metadata.set_status(Metadata::VOTING);
  metadata.set_promised(7);
  ASSERT_TRUE(store->write_metadata(metadata));
  std::vector<Action> actions = {append_action(0, "zero"),
                                 nop_action(1, true),
                                 append_action(2, "two"),
                                 append_action(3, std::string("three\n\0x", 8)),
                                 nop_action(4),
                                 truncate_action(5, 3),
                                 append_action(6, "six"),
                                 append_action(7, "seven", false),
                                 nop_action(8)};
  ASSERT_TRUE(store->write_actions(actions));
}

std::vector<std::string> all_actions(const fs::path& dir) {
  auto store = ReplicaStore::open_read_only(dir);
  EXPECT_TRUE(store) << store.error().message;
  std::vector<std::string> out;
  auto state = store->recover();
  EXPECT_TRUE(state) << state.error().message;
  Status read = store->for_each_action(0, state->end, [&](const Action& action) {
    out.push_back(action.SerializeAsString());
    return Status(Ok{});
  });
  EXPECT_TRUE(read) << read.error().message;
  return out;
}

archive::Manifest backup(const fs::path& archive, const fs::path& replica,
                         archive::Compression compression = archive::Compression::Zstd) {
  LogBackupRequest request;
  request.archive = archive;
  request.replica = replica;
  request.write.compression = compression;
  auto manifest = backup_replicated_log(request);
  EXPECT_TRUE(manifest) << manifest.error().message;
  return manifest ? *manifest : archive::Manifest{};
}

Result<LogRestoreReport> restore(const fs::path& archive, const fs::path& replica) {
  LogRestoreRequest request;
  request.archive = archive;
  request.replica = replica;
  return restore_replicated_log(request);
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

TEST(LogBackup, RestoresEveryPositionAndTheTruncation) {
  TempDir tmp;
  const fs::path source = tmp.path() / "source";
  write_source(source);
  const auto before = read_tree(source);

  const archive::Manifest manifest = backup(tmp.path() / "log.tar.zst", source);
  EXPECT_EQ(manifest.kind(), archive::Kind::ReplicatedLog);
  EXPECT_EQ(std::get<archive::ReplicatedLogSummary>(manifest.summary),
            (archive::ReplicatedLogSummary{3, 8, 9}));
  EXPECT_EQ(read_tree(source), before) << "backup changed the source replica";

  const fs::path target = tmp.path() / "target";
  auto report = restore(tmp.path() / "log.tar.zst", target);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_FALSE(report->moved_aside);
  EXPECT_EQ(all_actions(target), all_actions(source));
  auto store = ReplicaStore::open_read_only(target);
  ASSERT_TRUE(store);
  auto state = store->recover();
  ASSERT_TRUE(state);
  EXPECT_EQ(state->begin, 3u);
  EXPECT_EQ(state->end, 8u);
  EXPECT_EQ(state->metadata.status(), Metadata::VOTING);
  EXPECT_EQ(state->metadata.promised(), 7u);
  // Only the replica and the archive remain: no scratch directory is left behind.
  EXPECT_EQ(names_in(tmp.path()), (std::set<std::string>{"log.tar.zst", "source", "target"}));
}

TEST(LogBackup, MovesTheOldReplicaAsideAndKeepsIt) {
  TempDir tmp;
  write_source(tmp.path() / "source");
  backup(tmp.path() / "log.tar", tmp.path() / "source", archive::Compression::None);
  const fs::path target = tmp.path() / "target";
  ASSERT_TRUE(initialize(target));
  const auto old_tree = read_tree(target);

  auto report = restore(tmp.path() / "log.tar", target);
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_TRUE(report->moved_aside);
  EXPECT_TRUE(report->moved_aside->filename().string().starts_with("target.pre-restore-"));
  EXPECT_EQ(read_tree(*report->moved_aside), old_tree);
  EXPECT_EQ(all_actions(target), all_actions(tmp.path() / "source"));
}

TEST(LogBackup, RefusesAZooKeeperArchiveLeavingTheTargetAlone) {
  TempDir tmp;
  const fs::path snapshot = tmp.path() / "snapshot.1";
  std::ofstream(snapshot) << "ZKSN";
  auto writer = archive::ArchiveWriter::open(tmp.path() / "zk.tar.zst");
  ASSERT_TRUE(writer);
  ASSERT_TRUE(writer->add_file("zookeeper/snapshot/version-2/snapshot.1", snapshot));
  archive::Manifest manifest;
  manifest.host = "test";
  manifest.tool_version = "0";
  manifest.summary = archive::ZooKeeperSummary{1, 1, 1, 0, 0, std::nullopt};
  manifest.source.paths = {"/var/lib/zookeeper"};
  auto written = writer->commit(manifest);
  ASSERT_TRUE(written) << written.error().message;

  const fs::path target = tmp.path() / "target";
  write_source(target);
  const auto before = read_tree(target);
  const auto names = names_in(tmp.path());
  auto report = restore(tmp.path() / "zk.tar.zst", target);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(report.error().message.find("zookeeper archive"), std::string::npos)
      << report.error().message;
  EXPECT_EQ(read_tree(target), before);
  EXPECT_EQ(names_in(tmp.path()), names);
}

TEST(LogBackup, RefusesACorruptedArchiveLeavingTheTargetAlone) {
  TempDir tmp;
  write_source(tmp.path() / "source");
  const fs::path archive = tmp.path() / "log.tar";
  backup(archive, tmp.path() / "source", archive::Compression::None);
  std::string bytes;
  {
    std::ifstream in(archive, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const size_t at = bytes.find("seven");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'S';
  std::ofstream(archive, std::ios::binary | std::ios::trunc) << bytes;

  const fs::path target = tmp.path() / "target";
  ASSERT_TRUE(initialize(target));
  const auto before = read_tree(target);
  const auto names = names_in(tmp.path());
  auto report = restore(archive, target);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::Corrupt) << report.error().message;
  EXPECT_EQ(read_tree(target), before);
  EXPECT_EQ(names_in(tmp.path()), names);
}

TEST(LogBackup, BlankRestoreWritesExactlyWhatInitializeWrites) {
  TempDir tmp;
  const fs::path initialized = tmp.path() / "initialized";
  ASSERT_TRUE(initialize(initialized));
  const fs::path target = tmp.path() / "target";
  write_source(target);

  LogRestoreRequest request;
  request.replica = target;
  request.blank = true;
  auto report = restore_replicated_log(request);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(raw_entries(target), raw_entries(initialized));
  ASSERT_TRUE(report->moved_aside);
  EXPECT_EQ(all_actions(*report->moved_aside).size(), 9u);
}

// A replica held by another process (here the test, held against the binary).
TEST(LogBackupCli, RefusesAReplicaInUse) {
  TempDir tmp;
  const fs::path source = tmp.path() / "source";
  write_source(source);
  auto held = ReplicaStore::open_writable(source);
  ASSERT_TRUE(held);
  const fs::path archive = tmp.path() / "log.tar";
  auto out = run_command(shell_quote(ZKTOOL_BINARY) + " log backup " +
                         shell_quote(archive.string()) + " --path " +
                         shell_quote(source.string()));
  EXPECT_EQ(out.exit_code, 8) << out.err;  // kExitLocked
  EXPECT_FALSE(fs::exists(archive));
}

TEST(LogBackupCli, BacksUpAndRestoresThroughTheBinary) {
  TempDir tmp;
  write_source(tmp.path() / "source");
  const std::string bin = shell_quote(ZKTOOL_BINARY);
  const std::string archive = shell_quote((tmp.path() / "log.tar.zst").string());
  auto out = run_command(bin + " log backup " + archive + " --path " +
                         shell_quote((tmp.path() / "source").string()));
  ASSERT_EQ(out.exit_code, 0) << out.err;
  out = run_command(bin + " log restore " + archive + " --path " +
                    shell_quote((tmp.path() / "target").string()));
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(all_actions(tmp.path() / "target"), all_actions(tmp.path() / "source"));
  out = run_command(bin + " log restore --path " + shell_quote((tmp.path() / "x").string()));
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE(out.err.find("--blank"), std::string::npos) << out.err;
}

}  // namespace
}  // namespace zktool::replicated_log
