// A full disk, through the zk-tool binary, on a real ZooKeeper node run by a
// real systemd user manager: a backup whose archive directory fills up, and
// a restore whose data directory has no room to stage the archive. Each is a
// clean one-line error (exit 4) that leaves no partial file behind and the
// live data untouched.
//
// The small file systems are tmpfs mounts (size= for bytes, nr_inodes= for
// files) in a mount namespace private to this test process, made before the
// manager starts so that the manager, ZooKeeper and zk-tool all see them;
// they vanish with the namespace whatever happens to the test.
#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster/systemd_ensemble.h"
#include "e2e/e2e_support.h"
#include "support/process.h"
#include "support/zk_client.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;
using namespace std::chrono_literals;

using e2e::lines;
using e2e::listing;
using e2e::zk_tool;

void mount_tmpfs(const fs::path& at, const std::string& options) {
  fs::create_directories(at);
  ASSERT_EQ(::mount("tmpfs", at.c_str(), "tmpfs", 0, options.c_str()), 0)
      << at << ": " << std::strerror(errno);
}

void remount_tmpfs(const fs::path& at, const std::string& options) {
  ASSERT_EQ(::mount("tmpfs", at.c_str(), "tmpfs", MS_REMOUNT, options.c_str()), 0)
      << at << " " << options << ": " << std::strerror(errno);
}

struct statvfs usage(const fs::path& at) {
  struct statvfs vfs {};
  EXPECT_EQ(::statvfs(at.c_str(), &vfs), 0);
  return vfs;
}

class Exhaustion : public e2e::EnsembleTest {
 protected:
  static void SetUpTestSuite() {
    // This thread, and what it forks, get a mount table of their own.
    ASSERT_EQ(::unshare(CLONE_NEWNS), 0) << "needs root: " << std::strerror(errno);
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  }

  void SetUp() override {
    make_scratch_dir("exhaustion");
    ts::EnsembleConfig config;
    config.nodes = 1;
    config.pre_alloc_size_kb = 1024;
    // The node's whole directory (data, logs, zoo.cfg) on a file system of its own.
    node_fs_ = ensemble_dir() / "node1";
    mount_tmpfs(node_fs_, "size=256m,mode=0755");
    if (HasFatalFailure()) return;
    mounts_.push_back(node_fs_);
    start_ensemble(config);
    if (HasFatalFailure()) return;
    write_data();
  }

  void TearDown() override {
    ensemble_.reset();  // before its file systems go
    for (const fs::path& m : mounts_) ::umount2(m.c_str(), MNT_DETACH);
    e2e::EnsembleTest::TearDown();
  }

  // About 2 MB of znode data that does not compress.
  void write_data() {
    auto client = ts::ZkClient::connect(ensemble_->connect_string());
    ASSERT_TRUE(client) << client.error().message;
    ASSERT_TRUE((*client)->create("/big", std::nullopt));
    std::mt19937 engine(7);
    std::string bytes(1024, '\0');
    for (int i = 0; i < 2000; ++i) {
      for (char& c : bytes) c = static_cast<char>(engine() & 0xff);
      ASSERT_TRUE((*client)->create("/big/n" + std::to_string(i), bytes));
    }
  }

  std::vector<std::string> node_args() const {
    return {"--zoo-cfg", ensemble_->zoo_cfg(0).string(), "--unit", ensemble_->unit_name(0),
            "--systemd-address", ensemble_->bus_target().address(), "--health", "exhibitor",
            "--exhibitor-url", ensemble_->exhibitor_url()};
  }

  ts::CapturedRun run_node(std::vector<std::string> args) const {
    auto extra = node_args();
    args.insert(args.end(), extra.begin(), extra.end());
    return zk_tool(args);
  }

  fs::path backup_to_disk() {
    fs::create_directories(dir_ / "archives");
    fs::path archive = dir_ / "archives" / "node1.tar.zst";
    auto run = run_node({"backup", archive.string(), "--cold"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_TRUE(ensemble_->wait_healthy());
    return archive;
  }

  // What a restore must leave alone: the live files, and a unit not restarted.
  struct Live {
    std::vector<std::string> data_dir, snap_dir, log_dir;
    uint32_t main_pid = 0;
  };
  Live live() {
    const auto& node = ensemble_->node(0);
    auto state = ensemble_->unit_state(0);
    EXPECT_TRUE(state);
    return {listing(node.data_dir), listing(node.data_dir / "version-2"),
            listing(node.data_log_dir / "version-2"), state ? state->main_pid : 0};
  }
  void expect_unchanged(const Live& before) {
    Live after = live();
    EXPECT_EQ(after.data_dir, before.data_dir) << "a staging directory or pre-restore copy left";
    EXPECT_EQ(after.snap_dir, before.snap_dir);
    EXPECT_EQ(after.log_dir, before.log_dir);
    EXPECT_EQ(after.main_pid, before.main_pid) << "the unit was restarted";
    EXPECT_NE(after.main_pid, 0u);
    expect_every_znode_served();
  }
  void expect_every_znode_served() {
    auto client = ts::ZkClient::connect(ensemble_->connect_string());
    ASSERT_TRUE(client);
    auto children = (*client)->get_children("/big");
    ASSERT_TRUE(children) << children.error().message;
    EXPECT_EQ(children->size(), 2000u);
  }

  fs::path node_fs_;
  std::vector<fs::path> mounts_;
};

TEST_F(Exhaustion, BackupIntoAFullDirectoryFailsCleanlyAndTheNodeServesOn) {
  const fs::path small = dir_ / "small";
  mount_tmpfs(small, "size=512k");
  ASSERT_FALSE(HasFatalFailure());
  mounts_.push_back(small);
  // ZooKeeper may add a snapshot as it starts again; what was there stays.
  const auto data_before = listing(ensemble_->node(0).data_dir / "version-2");
  const fs::path archive = small / "node1.tar.zst";

  auto run = run_node({"backup", archive.string(), "--cold"});
  EXPECT_EQ(run.exit_code, 4) << run.err;
  EXPECT_EQ(lines(run.err), 1u) << run.err;
  EXPECT_NE(run.err.find("No space left on device"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(small.string()), std::string::npos) << run.err;
  // Neither the archive, nor its .part, nor the copy it was made from.
  EXPECT_TRUE(listing(small).empty()) << run.err;
  EXPECT_EQ(usage(small).f_bfree, usage(small).f_blocks);
  // The cold backup started the node again and its data is as it was.
  ASSERT_TRUE(ensemble_->wait_healthy());
  auto state = ensemble_->unit_state(0);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->active_state, "active");
  const auto data_after = listing(ensemble_->node(0).data_dir / "version-2");
  EXPECT_TRUE(std::includes(data_after.begin(), data_after.end(), data_before.begin(),
                            data_before.end()));
  expect_every_znode_served();
}

TEST_F(Exhaustion, RestoreRefusesBeforeStagingWhenTheDataFileSystemIsShort) {
  fs::path archive = backup_to_disk();
  ASSERT_FALSE(HasFailure());
  // Leave 2 MiB free: less than the archive's files and the margin.
  const auto vfs = usage(node_fs_);
  const uint64_t used = (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
  remount_tmpfs(node_fs_, "size=" + std::to_string(used + (2 << 20)));
  ASSERT_FALSE(HasFatalFailure());
  const Live before = live();
  const auto free_before = usage(node_fs_).f_bfree;

  const auto started = std::chrono::steady_clock::now();
  auto run = run_node({"restore", archive.string()});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(run.exit_code, 4) << run.err;
  EXPECT_EQ(lines(run.err), 1u) << run.err;
  const std::string expected_start = "zk-tool restore: not enough space to stage " +
                                     archive.string() + ": " +
                                     ensemble_->node(0).data_dir.string() + " has ";
  EXPECT_TRUE(run.err.starts_with(expected_start)) << run.err;
  EXPECT_NE(run.err.find(" MiB margin need "), std::string::npos) << run.err;
  EXPECT_TRUE(run.err.ends_with("; nothing was changed\n")) << run.err;
  EXPECT_LT(took, 20s);
  expect_unchanged(before);
  // Nothing was staged: the free space is what it was, but for ZooKeeper's
  // own log, which shares this file system.
  EXPECT_GE(usage(node_fs_).f_bfree + 16, free_before);
}

TEST_F(Exhaustion, StagingThatRunsOutOfSpaceLeavesTheLiveDataAndThenSucceedsWithRoom) {
  fs::path archive = backup_to_disk();
  ASSERT_FALSE(HasFailure());
  // Bytes to spare, but room for only two more files or directories: the
  // byte check passes and staging itself meets ENOSPC.
  const auto vfs = usage(node_fs_);
  remount_tmpfs(node_fs_, "nr_inodes=" + std::to_string(vfs.f_files - vfs.f_ffree + 2));
  ASSERT_FALSE(HasFatalFailure());
  const Live before = live();

  auto run = run_node({"restore", archive.string()});
  EXPECT_EQ(run.exit_code, 4) << run.err;
  EXPECT_EQ(lines(run.err), 1u) << run.err;
  EXPECT_TRUE(run.err.starts_with("zk-tool restore: " + archive.string() + ": entry \""))
      << run.err;
  EXPECT_NE(run.err.find("No space left on device"), std::string::npos) << run.err;
  expect_unchanged(before);

  // With room again the same archive restores.
  remount_tmpfs(node_fs_, "nr_inodes=100000");
  ASSERT_FALSE(HasFatalFailure());
  auto again = run_node({"restore", archive.string(), "--wait-timeout", "120"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  ASSERT_TRUE(ensemble_->wait_healthy());
}

}  // namespace
}  // namespace zktool
