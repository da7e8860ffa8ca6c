// zk-tool log backup / log restore (src/ops/log_backup.h) on replicas written
// through the store, without systemd (no --unit).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive/archive_writer.h"
#include "ops/lock.h"
#include "ops/log_backup.h"
#include "replicated_log/initialize.h"
#include "replicated_log/replica_store.h"
#include "test_support.h"

namespace zktool::replicated_log {
namespace {

namespace fs = std::filesystem;
using testing::all_actions;
using testing::names_in;
using testing::raw_entries;
using testing::read_tree;
using testing::run_command;
using testing::shell_quote;
using testing::TempDir;
using testing::write_sample_replica;

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

TEST(LogBackup, RestoresEveryPositionAndTheTruncation) {
  TempDir tmp;
  const fs::path source = tmp.path() / "source";
  write_sample_replica(source);
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
  // Only the replicas, their lock files (beside them, never inside) and the
  // archive remain: no scratch directory, no journal is left behind.
  EXPECT_EQ(names_in(tmp.path()),
            (std::set<std::string>{"log.tar.zst", "source", "source.zk-tool.lock", "target",
                                   "target.zk-tool.lock"}));
  EXPECT_FALSE(fs::exists(target / ".zk-tool.lock"));
}

TEST(LogBackup, MovesTheOldReplicaAsideAndKeepsIt) {
  TempDir tmp;
  write_sample_replica(tmp.path() / "source");
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
  manifest.summary = archive::ZooKeeperSummary{1, 1, 1, 0, 0, std::nullopt, ""};
  manifest.source.paths = {"/var/lib/zookeeper"};
  auto written = writer->commit(manifest);
  ASSERT_TRUE(written) << written.error().message;

  const fs::path target = tmp.path() / "target";
  write_sample_replica(target);
  const auto before = read_tree(target);
  auto names = names_in(tmp.path());
  names.insert("target.zk-tool.lock");  // the run's lock, beside the replica: nothing else
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
  write_sample_replica(tmp.path() / "source");
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
  auto names = names_in(tmp.path());
  names.insert("target.zk-tool.lock");  // the run's lock, beside the replica: nothing else
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
  write_sample_replica(target);

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
  write_sample_replica(source);
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
  write_sample_replica(tmp.path() / "source");
  const std::string bin = shell_quote(ZKTOOL_BINARY);
  const std::string archive = shell_quote((tmp.path() / "log.tar.zst").string());
  auto out = run_command(bin + " log backup " + archive + " --path " +
                         shell_quote((tmp.path() / "source").string()) + " --json");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const auto backed_up = nlohmann::json::parse(out.out);
  out = run_command(bin + " log restore " + archive + " --path " +
                    shell_quote((tmp.path() / "target").string()) + " --json");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const auto restored = nlohmann::json::parse(out.out);
  EXPECT_EQ(restored["log"], backed_up["log"]);
  EXPECT_GT(restored["log"]["entries"].get<uint64_t>(), 0u);
  EXPECT_EQ(restored["blank"], false);
  EXPECT_EQ(all_actions(tmp.path() / "target"), all_actions(tmp.path() / "source"));
  out = run_command(bin + " log restore --path " + shell_quote((tmp.path() / "x").string()));
  EXPECT_NE(out.exit_code, 0);
  EXPECT_NE(out.err.find("--blank"), std::string::npos) << out.err;
}

// A scheduler's state holds its secrets too: log backup encrypts with the
// key, and log restore opens with it alone, leaving the target untouched when
// the key is missing.
TEST(LogBackupCli, AnEncryptedArchiveRestoresOnlyWithItsKey) {
  TempDir tmp;
  write_sample_replica(tmp.path() / "source");
  const std::string bin = shell_quote(ZKTOOL_BINARY);
  const std::string key = shell_quote((tmp.path() / "log.key").string());
  const std::string archive = shell_quote((tmp.path() / "log.tar.zst.enc").string());
  ASSERT_EQ(run_command(bin + " keygen " + key).exit_code, 0);
  auto out = run_command(bin + " log backup " + archive + " --encrypt-key-file " + key +
                         " --path " + shell_quote((tmp.path() / "source").string()));
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const std::string target = shell_quote((tmp.path() / "target").string());
  out = run_command(bin + " log restore " + archive + " --path " + target);
  EXPECT_EQ(out.exit_code, 11) << out.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "target"));
  out = run_command(bin + " log restore " + archive + " --encrypt-key-file " + key + " --path " +
                    target);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(all_actions(tmp.path() / "target"), all_actions(tmp.path() / "source"));
}

// One run at a time: the lock is on the replica's parent, its record beside
// the replica, and a second run is refused with exit 8, naming the holder.
TEST(LogBackupCli, ASecondRunIsRefusedNamingTheHolder) {
  TempDir tmp;
  const fs::path replica = tmp.path() / "replica";
  write_sample_replica(replica);
  auto held = DirectoryLock::acquire_in(tmp.path(), "replica.zk-tool.lock", replica,
                                        "log restore");
  ASSERT_TRUE(held) << held.error().message;
  const auto before = read_tree(replica);
  const std::string bin = shell_quote(ZKTOOL_BINARY);
  const std::string path = " --path " + shell_quote(replica.string() + "/");
  for (const std::string& run :
       {" log backup " + shell_quote((tmp.path() / "log.tar").string()) + path,
        " log restore --blank" + path}) {
    auto out = run_command(bin + run);
    EXPECT_EQ(out.exit_code, 8) << run << ": " << out.err;
    EXPECT_NE(out.err.find("pid=" + std::to_string(::getpid())), std::string::npos) << out.err;
    EXPECT_NE(out.err.find("command=log restore"), std::string::npos) << out.err;
  }
  EXPECT_EQ(read_tree(replica), before);
  EXPECT_EQ(names_in(tmp.path()), (std::set<std::string>{"replica", "replica.zk-tool.lock"}));
}

// The journal a restore keeps while it swaps replicas.
std::string staged_in_journal(const fs::path& journal) {
  std::ifstream in(journal);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("staged=")) return line.substr(7);
  }
  return {};
}

// A restore killed between its two renames (strace kills it as it makes the
// second): the next run refuses and says where both replicas are; once the
// operator has moved one back, runs go on and clear what was left.
TEST(LogBackupCli, ARestoreKilledBetweenItsRenamesIsReportedAndSettled) {
  TempDir tmp;
  const fs::path replica = tmp.path() / "replica";
  write_sample_replica(replica);
  const auto expected = all_actions(replica);
  const std::string bin = shell_quote(ZKTOOL_BINARY);
  const std::string path = " --path " + shell_quote(replica.string());
  // --blank stages with LevelDB (rename(2)); the swap's renames are the only renameat2 calls.
  auto killed = run_command("strace -f -qq -o /dev/null -e trace=renameat2 "
                            "-e inject=renameat2:error=EIO:signal=KILL:when=2 " +
                            bin + " log restore --blank" + path);
  ASSERT_NE(killed.exit_code, 0) << killed.err;
  ASSERT_FALSE(fs::exists(replica)) << "the restore was not stopped between its renames";
  const fs::path journal = tmp.path() / "replica.zk-tool-restore";
  ASSERT_TRUE(fs::exists(journal));
  const fs::path staged = staged_in_journal(journal);
  ASSERT_TRUE(fs::is_directory(staged)) << staged;
  fs::path aside;
  for (const std::string& name : names_in(tmp.path())) {
    if (name.starts_with("replica.pre-restore-")) aside = tmp.path() / name;
  }
  ASSERT_FALSE(aside.empty());
  EXPECT_EQ(all_actions(aside), expected) << "the old replica must be intact aside";

  for (const std::string& run : {" log restore --blank" + path,
                                 " log backup " + shell_quote((tmp.path() / "x.tar").string()) +
                                     path}) {
    auto out = run_command(bin + run);
    EXPECT_EQ(out.exit_code, 7) << run << ": " << out.err;  // refused as unsafe
    EXPECT_NE(out.err.find("mv " + staged.string() + " " + replica.string()), std::string::npos)
        << out.err;
    EXPECT_NE(out.err.find("mv " + aside.string() + " " + replica.string()), std::string::npos)
        << out.err;
  }
  EXPECT_FALSE(fs::exists(replica));
  EXPECT_FALSE(fs::exists(tmp.path() / "x.tar"));

  // The operator goes back to the previous replica, as the message says.
  fs::rename(aside, replica);
  auto out = run_command(bin + " log backup " + shell_quote((tmp.path() / "log.tar").string()) +
                         path);
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_EQ(names_in(tmp.path()),
            (std::set<std::string>{"log.tar", "replica", "replica.zk-tool.lock"}))
      << "the journal and the unused staged replica are removed";
  EXPECT_EQ(all_actions(replica), expected);
}

}  // namespace
}  // namespace zktool::replicated_log
