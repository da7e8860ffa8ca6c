// backup, verify, restore and rollback end to end, as operators run them: the
// zk-tool binary against a real 3-node ZooKeeper ensemble whose nodes are
// units of a real systemd user manager, driven over D-Bus, with ensemble
// health from the members' four-letter words or from Exhibitor's status API
// (served from the live nodes).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "cluster/systemd_ensemble.h"
#include "e2e/e2e_support.h"
#include "ops/lock.h"
#include "support/files.h"
#include "support/populate.h"
#include "support/process.h"
#include "support/tree_diff.h"
#include "support/zk_client.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;
using namespace std::chrono_literals;

using ToolRun = ts::CapturedRun;
using e2e::listing;
using e2e::zk_tool;

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

class BackupRestore : public e2e::EnsembleTest {
 protected:
  void SetUp() override {
    make_scratch_dir("e2e");
    start_ensemble(ensemble_config());
  }

  // Three nodes that snapshot and roll their logs every few hundred writes.
  virtual ts::EnsembleConfig ensemble_config() const {
    ts::EnsembleConfig config;
    config.nodes = 3;
    config.snap_count = 500;
    if (!on_3_4()) config.container_check_interval_ms = 500;
    return config;
  }

  // The flags that point zk-tool at node i, its unit, systemd and the members.
  std::vector<std::string> node_args(size_t i) const {
    return {"--zoo-cfg", ensemble_->zoo_cfg(i).string(), "--unit", ensemble_->unit_name(i),
            "--systemd-address", ensemble_->bus_target().address(), "--health", "zk"};
  }

  ToolRun run_on(size_t i, std::vector<std::string> args) const {
    auto extra = node_args(i);
    args.insert(args.end(), extra.begin(), extra.end());
    return zk_tool(args);
  }

  // Writes the data set through a session that is then closed (so the tree
  // holds no ephemerals that could expire under a comparison). After a
  // backup, `avoid` names the node it restarted: a session there may still
  // be settling, so the writes go to the others.
  void write_data(const std::string& root, int bulk, std::optional<size_t> avoid = {}) {
    std::string hosts;
    for (size_t i = 0; i < ensemble_->size(); ++i) {
      if (avoid && *avoid == i) continue;
      hosts += (hosts.empty() ? "" : ",") + ensemble_->node(i).client_address();
    }
    auto client = ts::ZkClient::connect(hosts);
    ASSERT_TRUE(client) << client.error().message;
    // A member restarted by a backup is synced by the leader as it rejoins;
    // writes can stall meanwhile. Wait until one goes through.
    auto settled_by = std::chrono::steady_clock::now() + 60s;
    while (!(*client)->create(root + "-settle", std::nullopt)) {
      ASSERT_LT(std::chrono::steady_clock::now(), settled_by) << "writes never went through";
      std::this_thread::sleep_for(500ms);
    }
    ASSERT_TRUE((*client)->remove(root + "-settle"));
    ts::VariedOptions options;
    options.root = root;
    options.ttl = false;
    options.containers = !on_3_4();
    options.ip_ranges = !on_3_4();
    options.bulk_znodes = bulk;
    options.large_znodes = 1;
    auto data = ts::write_varied_data(**client, options);
    ASSERT_TRUE(data) << data.error().message;
    // The leader reaps the emptied container soon; wait, so that every tree
    // read afterwards is one a restore can reproduce.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (const std::string& path : data->reapable) {
      for (;;) {
        auto exists = (*client)->exists(path);
        ASSERT_TRUE(exists);
        if (!*exists) break;
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << path << " was never reaped";
        std::this_thread::sleep_for(100ms);
      }
    }
  }

  ts::ZnodeTree read_tree() {
    auto client = ts::ZkClient::connect(ensemble_->connect_string());
    EXPECT_TRUE(client);
    if (!client) return {};
    EXPECT_TRUE((*client)->add_auth("digest", ts::kVariedDigestCredentials));
    auto tree = (*client)->snapshot_tree();
    EXPECT_TRUE(tree) << tree.error().message;
    return tree ? *tree : ts::ZnodeTree{};
  }

  // A hot backup, the default.
  fs::path backup_node(size_t i, const std::string& name) {
    fs::path archive = dir_ / name;
    ToolRun run = run_on(i, {"backup", archive.string()});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return archive;
  }

  // Runs zk-tool on every node at once, as one shell per master would, with
  // `args` then the node's own flags (adjusted by `adjust`, if given).
  std::vector<ToolRun> run_on_all(
      const std::vector<std::string>& args,
      const std::function<void(std::vector<std::string>&)>& adjust = {}) {
    std::vector<std::future<ToolRun>> runs;
    for (size_t i = 0; i < ensemble_->size(); ++i) {
      runs.push_back(std::async(std::launch::async, [this, i, args, adjust] {
        std::vector<std::string> all = args;
        auto own = node_args(i);
        all.insert(all.end(), own.begin(), own.end());
        if (adjust) adjust(all);
        return zk_tool(all);
      }));
    }
    std::vector<ToolRun> results;
    for (auto& r : runs) results.push_back(r.get());
    return results;
  }

  std::vector<ToolRun> restore_all(const fs::path& archive) {
    return run_on_all({"restore", archive.string(), "--wait-timeout", "120"});
  }

  void expect_tree(const ts::ZnodeTree& expected) {
    auto diff = ts::diff_trees(expected, read_tree());
    EXPECT_TRUE(diff.empty()) << join(diff);
  }
};

TEST_F(BackupRestore, BackupFromOneNodeWhileTheOthersServe) {
  write_data("/app", 500);
  // Writes keep landing on the other members while node 0 is backed up.
  std::atomic<bool> done{false};
  std::atomic<int> writes{0}, failures{0};
  std::thread writer([&] {
    const auto& n1 = ensemble_->node(1);
    auto client = ts::ZkClient::connect(n1.client_address());
    if (!client) return;
    for (int i = 0; !done; ++i) {
      auto made = (*client)->create("/during-" + std::to_string(i), "x");
      (made ? writes : failures)++;
      std::this_thread::sleep_for(20ms);
    }
  });
  fs::path archive = dir_ / "node0.tar.zst";
  ToolRun run = run_on(0, {"backup", archive.string(), "--cold", "--json"});
  done = true;
  writer.join();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(failures, 0);
  EXPECT_GT(writes, 0);
  auto report = nlohmann::json::parse(run.out);
  EXPECT_EQ(report["proof"], expected_proof());
  EXPECT_LT(report["downtime_seconds"].get<double>(), 30.0);
  ASSERT_TRUE(ensemble_->wait_healthy());

  ToolRun verify = zk_tool({"verify", archive.string(), "--json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  auto v = nlohmann::json::parse(verify.out);
  EXPECT_EQ(v["manifest"], true);
  EXPECT_EQ(v["last_zxid"], report["last_zxid"]);
  EXPECT_EQ(v["proof"], expected_proof());
  // Nothing but the archive is left beside it.
  EXPECT_EQ(listing(dir_), (std::vector<std::string>{"ensemble", "node0.tar.zst"}));
}

// Sequential creates /load/n-<i> on one session until stopped: any
// consistent state of the ensemble holds exactly n-0 .. n-(k-1) for some k.
// A write that fails (a connection lost under load) is retried.
class SequentialLoad {
 public:
  explicit SequentialLoad(std::string hosts) : thread_([this, hosts] { run(hosts); }) {}
  ~SequentialLoad() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Waits until `count` writes have been acknowledged; false after a minute.
  bool wait_for(int count) const {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (written_ < count) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }
  int written() const { return written_; }

 private:
  void run(const std::string& hosts) {
    auto client = ts::ZkClient::connect(hosts);
    if (!client) return;  // wait_for() reports it
    // A write whose answer was lost may still have been applied: ask.
    const auto write = [&](const std::string& path, std::optional<std::string_view> data) {
      if ((*client)->create(path, data)) return true;
      auto there = (*client)->exists(path);
      return there && *there;
    };
    const std::string data(512, 'L');
    bool root = false;
    for (int i = 0; !done_;) {
      if (!root) {
        root = write("/load", std::nullopt);
      } else if (write("/load/n-" + std::to_string(i), data)) {
        written_ = ++i;
        continue;
      }
      std::this_thread::sleep_for(50ms);
    }
  }

  std::atomic<bool> done_{false};
  std::atomic<int> written_{0};
  std::thread thread_;
};

TEST_F(BackupRestore, HotBackupsUnderWriteLoadAreConsistentPrefixesAndStopNothing) {
  write_data("/app", 200);
  // The fixture's snapCount of 500 makes ZooKeeper snapshot and roll its log
  // every few hundred of these writes, racing each copy.
  SequentialLoad load(ensemble_->node(1).client_address() + "," +
                      ensemble_->node(2).client_address());
  auto pid_before = ensemble_->unit_state(0);
  ASSERT_TRUE(pid_before) << pid_before.error().message;
  std::vector<fs::path> archives;
  std::vector<int> written_before;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(load.wait_for(600 * (i + 1))) << "the write load stalled at " << load.written();
    written_before.push_back(load.written());
    fs::path archive = dir_ / ("hot-" + std::to_string(i) + ".tar.zst");
    ToolRun run = run_on(0, {"backup", archive.string(), "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto report = nlohmann::json::parse(run.out);
    EXPECT_EQ(report["mode"], "hot");
    EXPECT_EQ(report["proof"], expected_proof());
    archives.push_back(archive);
  }
  load.stop();
  // Never stopped, never restarted.
  auto pid_after = ensemble_->unit_state(0);
  ASSERT_TRUE(pid_after) << pid_after.error().message;
  EXPECT_EQ(pid_after->active_state, "active");
  EXPECT_EQ(pid_after->main_pid, pid_before->main_pid);

  // Each archive replays to a prefix of the write history that includes
  // every write acknowledged before its backup began.
  size_t last_archived = 0;
  for (size_t i = 0; i < archives.size(); ++i) {
    ToolRun nodes = zk_tool({"inspect", archives[i].string(), "--json", "--nodes"});
    ASSERT_EQ(nodes.exit_code, 0) << nodes.err;
    auto j = nlohmann::json::parse(nodes.out);
    EXPECT_EQ(j["proof"], expected_proof());
    std::set<int> seen;
    for (const auto& node : j["nodes"]) {
      std::string path = node["path"];
      if (path.rfind("/load/n-", 0) == 0) seen.insert(std::stoi(path.substr(8)));
    }
    ASSERT_FALSE(seen.empty());
    EXPECT_EQ(*seen.begin(), 0);
    EXPECT_EQ(*seen.rbegin() + 1, static_cast<int>(seen.size())) << "a gap in " << archives[i];
    EXPECT_GE(static_cast<int>(seen.size()), written_before[i]) << archives[i];
    last_archived = seen.size();
  }

  // And the last one restores to exactly that prefix.
  for (const ToolRun& r : restore_all(archives.back())) ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t restored = 0;
  for (const auto& entry : read_tree()) restored += entry.first.rfind("/load/n-", 0) == 0;
  EXPECT_EQ(restored, last_archived);
}

TEST_F(BackupRestore, HotBackupOfANodeThatIsDownSaysToUseCold) {
  ASSERT_TRUE(ensemble_->stop_unit(0));
  fs::path archive = dir_ / "down.tar.zst";
  ToolRun run = run_on(0, {"backup", archive.string()});
  EXPECT_EQ(run.exit_code, 6) << run.err;
  EXPECT_NE(run.err.find("--cold"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(archive));
  // The cold mode backs up a node that is down without starting it.
  ToolRun cold = run_on(0, {"backup", archive.string(), "--cold"});
  EXPECT_EQ(cold.exit_code, 0) << cold.err;
  auto state = ensemble_->unit_state(0);
  ASSERT_TRUE(state);
  EXPECT_NE(state->active_state, "active");
}

TEST_F(BackupRestore, WholeClusterRestoreBringsBackExactlyTheBackedUpTree) {
  write_data("/app", 500);
  ts::ZnodeTree at_backup = read_tree();
  fs::path archive = backup_node(1, "node1.tar.zst");
  ASSERT_TRUE(ensemble_->wait_healthy());
  // Changes after the backup: all of them must be gone after the restore.
  write_data("/after", 50, 1);
  {
    auto client = ts::ZkClient::connect(ensemble_->connect_string());
    ASSERT_TRUE(client);
    ASSERT_TRUE((*client)->add_auth("digest", ts::kVariedDigestCredentials));
    ASSERT_TRUE((*client)->set("/app/persistent/p1", std::string_view("changed after")));
  }
  auto started = std::chrono::steady_clock::now();
  for (const ToolRun& run : restore_all(archive)) {
    EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
    // Each node read its tree back and found the archive's.
    EXPECT_NE(run.out.find("read back: "), std::string::npos) << run.out;
    EXPECT_EQ(run.err.find("not read back"), std::string::npos) << run.err;
  }
  std::cerr << "restore of 3 nodes took "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
            << " s\n";
  ASSERT_TRUE(ensemble_->wait_healthy());
  expect_tree(at_backup);
  // Each node kept its own myid and its previous data beside the restored.
  for (size_t i = 0; i < ensemble_->size(); ++i) {
    const auto& node = ensemble_->node(i);
    std::ifstream myid(node.data_dir / "myid");
    int id = 0;
    myid >> id;
    EXPECT_EQ(id, node.id);
    bool aside = false;
    for (const std::string& name : listing(node.data_dir)) {
      aside = aside || name.rfind("version-2.pre-restore-", 0) == 0;
    }
    EXPECT_TRUE(aside) << "node " << i;
  }

  // Rollback on every master puts the pre-restore state back, later changes included.
  for (const ToolRun& run : run_on_all({"rollback", "--wait-timeout", "120", "--json"})) {
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto report = nlohmann::json::parse(run.out);
    EXPECT_FALSE(report["restored_from"].empty()) << run.out;
    EXPECT_EQ(report["restored_from"].size(), report["moved_aside"].size()) << run.out;
    EXPECT_EQ(report["healthy"], true) << run.out;
    // The unit was stopped and started again, which takes a JVM some time.
    EXPECT_GT(report["downtime_seconds"].get<double>(), 0.01) << run.out;
    EXPECT_LT(report["downtime_seconds"].get<double>(), 60.0) << run.out;
  }
  ASSERT_TRUE(ensemble_->wait_healthy());
  // A second rollback (say, after the first one's terminal died) has nothing to do, and says
  // that the first one finished.
  ToolRun again = run_on(0, {"rollback"});
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_NE(again.err.find("nothing to roll back"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("the last rollback finished"), std::string::npos) << again.err;
  auto client = ts::ZkClient::connect(ensemble_->connect_string());
  ASSERT_TRUE(client);
  auto after = (*client)->exists("/after");
  ASSERT_TRUE(after);
  EXPECT_TRUE(*after) << "rollback did not bring back the post-backup data";
}

// An encrypted backup, taken hot into a backup directory as the timer takes
// them: it carries no readable byte of the tree, verifies only with its key,
// and restores every master, byte for byte, given the key.
TEST_F(BackupRestore, AnEncryptedBackupRestoresTheClusterWithItsKeyAndOnlyWithIt) {
  write_data("/app", 300);
  {
    auto client = ts::ZkClient::connect(ensemble_->connect_string());
    ASSERT_TRUE(client);
    ASSERT_TRUE((*client)->create("/vault", ""));
    ASSERT_TRUE((*client)->create("/vault/secret", "token=s3cr3t-value-in-the-tree"));
  }
  ts::ZnodeTree at_backup = read_tree();
  const fs::path key = dir_ / "archive.key";
  ASSERT_EQ(zk_tool({"keygen", key.string()}).exit_code, 0);
  const fs::path backups = dir_ / "backups";
  fs::create_directory(backups);
  ToolRun run = run_on(0, {"backup", "--dir", backups.string(), "--encrypt-key-file",
                           key.string(), "--keep-last", "3", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const fs::path archive = nlohmann::json::parse(run.out)["archive"].get<std::string>();
  EXPECT_TRUE(archive.filename().string().ends_with(".tar.zst.enc")) << archive;
  const std::string bytes = zktool::testing::read_file(archive);
  for (const char* plain : {"s3cr3t-value", "/vault", "zk-tool-manifest", "snapshot."}) {
    EXPECT_EQ(bytes.find(plain), std::string::npos) << plain << " shows through";
  }
  EXPECT_EQ(zk_tool({"verify", archive.string()}).exit_code, 11);
  ToolRun verified = zk_tool({"verify", archive.string(), "--encrypt-key-file", key.string()});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;

  write_data("/after", 20, 1);
  for (const ToolRun& r : run_on_all({"restore", archive.string(), "--wait-timeout", "120",
                                      "--encrypt-key-file", key.string()})) {
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  ASSERT_TRUE(ensemble_->wait_healthy());
  expect_tree(at_backup);
}

TEST_F(BackupRestore, ARestoredNodeRefusesMembersStillServingTheOldDataInAnyOrder) {
  write_data("/app", 200);
  ts::ZnodeTree at_backup = read_tree();
  fs::path archive = backup_node(0, "node0.tar.zst");
  ASSERT_TRUE(ensemble_->wait_healthy());
  write_data("/after", 50, 0);

  // Node 0 alone: it is restored and started, but will not join the two
  // members still serving the newer, pre-restore data, and says so.
  ToolRun alone = run_on(0, {"restore", archive.string(), "--wait-timeout", "15"});
  EXPECT_EQ(alone.exit_code, 7) << alone.err;
  EXPECT_NE(alone.err.find("still serve the pre-restore data"), std::string::npos) << alone.err;
  auto srvr = ensemble_->node_srvr(0);
  EXPECT_TRUE(!srvr || !srvr->serving) << "the restored node joined the stale ensemble";
  // The stale members still serve their own data, untouched by node 0.
  {
    auto client = ts::ZkClient::connect(ensemble_->node(1).client_address());
    ASSERT_TRUE(client);
    auto after = (*client)->exists("/after");
    EXPECT_TRUE(after && *after);
  }

  // The next master, then the last: each completes, no deadlock either way.
  ToolRun second = run_on(1, {"restore", archive.string(), "--wait-timeout", "120"});
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find(ensemble_->unit_name(1) + " was down "), std::string::npos)
      << second.out;
  ToolRun third = run_on(2, {"restore", archive.string(), "--wait-timeout", "120"});
  EXPECT_EQ(third.exit_code, 0) << third.err;
  ASSERT_TRUE(ensemble_->wait_healthy());
  expect_tree(at_backup);
}

TEST_F(BackupRestore, RestoresADcosZkArchive) {
  write_data("/app", 200);
  ts::ZnodeTree at_backup = read_tree();
  // dcos-zk's way: stop the node, tar its ZooKeeper directory with gzip.
  ASSERT_TRUE(ensemble_->stop_unit(2));
  const auto& node = ensemble_->node(2);
  fs::path tree = dir_ / "dcos" / "zookeeper";
  fs::create_directories(tree / "snapshot");
  fs::create_directories(tree / "transactions");
  fs::copy(node.data_dir / "version-2", tree / "snapshot" / "version-2");
  fs::copy(node.data_dir / "myid", tree / "snapshot" / "myid");
  fs::copy(node.data_log_dir / "version-2", tree / "transactions" / "version-2");
  ASSERT_TRUE(ensemble_->start_unit(2));
  ASSERT_TRUE(ensemble_->wait_healthy());
  fs::path archive = dir_ / "dcos-zk.tar.gz";
  auto made = ts::run_captured({"/bin/tar", "-czf", archive.string(), "-C",
                                (dir_ / "dcos").string(), "./zookeeper"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  write_data("/after", 50, 2);
  for (const ToolRun& run : restore_all(archive)) {
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.err.find("no manifest"), std::string::npos) << run.err;
  }
  ASSERT_TRUE(ensemble_->wait_healthy());
  expect_tree(at_backup);
}

TEST_F(BackupRestore, ACorruptArchiveIsRejectedBeforeAnythingIsTouched) {
  write_data("/app", 100);
  fs::path archive = backup_node(0, "node0.tar.zst");
  ASSERT_TRUE(ensemble_->wait_healthy());
  std::string bytes;
  {
    std::ifstream in(archive, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x5a;
  fs::path bad = dir_ / "bad.tar.zst";
  std::ofstream(bad, std::ios::binary) << bytes;
  auto before = listing(ensemble_->node(0).data_dir / "version-2");
  auto pid_before = ensemble_->unit_state(0)->main_pid;
  ToolRun run = run_on(0, {"restore", bad.string()});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_EQ(e2e::lines(run.err), 1u) << run.err;
  EXPECT_EQ(ensemble_->unit_state(0)->main_pid, pid_before) << "the unit was restarted";
  EXPECT_EQ(listing(ensemble_->node(0).data_dir / "version-2"), before);
  for (const std::string& name : listing(ensemble_->node(0).data_dir)) {
    EXPECT_EQ(name.find("pre-restore"), std::string::npos) << name;
    EXPECT_EQ(name.find("staging"), std::string::npos) << name;
  }
  ToolRun verify = zk_tool({"verify", bad.string()});
  EXPECT_EQ(verify.exit_code, 3);
}

TEST_F(BackupRestore, AUnitThatWillNotStopIsAClearErrorAndNothingIsWritten) {
  // The JVM ignores the stop signal; systemd kills it only after 10 s.
  ASSERT_TRUE(ensemble_->replace_unit(0, "KillSignal=SIGCONT\nTimeoutStopSec=10"));
  fs::path archive = dir_ / "never.tar.zst";
  ToolRun run = run_on(0, {"backup", archive.string(), "--cold", "--stop-timeout", "3"});
  EXPECT_EQ(run.exit_code, 5) << run.err;
  EXPECT_NE(run.err.find(ensemble_->unit_name(0)), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(archive));
  EXPECT_FALSE(fs::exists(archive.string() + ".part"));
}

TEST_F(BackupRestore, AnUnreachableExhibitorStopsARestoreBeforeItStarts) {
  write_data("/app", 50);
  fs::path archive = backup_node(0, "node0.tar.zst");
  ASSERT_TRUE(ensemble_->wait_healthy());
  auto pid_before = ensemble_->unit_state(0)->main_pid;
  auto args = node_args(0);
  args.insert(args.begin(), {"restore", archive.string()});
  // Replace the health source: Exhibitor on a port where nothing listens.
  auto health = std::find(args.begin(), args.end(), "zk");
  *health = "exhibitor";
  args.push_back("--exhibitor-url");
  args.push_back("http://127.0.0.1:9/exhibitor/v1/cluster/status");
  ToolRun run = zk_tool(args);
  EXPECT_EQ(run.exit_code, 6) << run.err;
  EXPECT_NE(run.err.find("nothing was changed"), std::string::npos) << run.err;
  EXPECT_EQ(ensemble_->unit_state(0)->main_pid, pid_before);
}

TEST_F(BackupRestore, RestoreWithExhibitorHealth) {
  write_data("/app", 100);
  ts::ZnodeTree at_backup = read_tree();
  fs::path archive = backup_node(0, "node0.tar.zst");
  ASSERT_TRUE(ensemble_->wait_healthy());
  write_data("/after", 20, 0);
  auto use_exhibitor = [this](std::vector<std::string>& args) {
    *std::find(args.begin(), args.end(), "zk") = "exhibitor";
    args.push_back("--exhibitor-url");
    args.push_back(ensemble_->exhibitor_url());
  };
  for (const ToolRun& run :
       run_on_all({"restore", archive.string(), "--wait-timeout", "120"}, use_exhibitor)) {
    EXPECT_EQ(run.exit_code, 0) << run.err;
  }
  expect_tree(at_backup);
}

TEST_F(BackupRestore, ASecondConcurrentRunIsRefusedAsLocked) {
  auto held = DirectoryLock::acquire(ensemble_->node(0).data_dir, "restore");
  ASSERT_TRUE(held);
  ToolRun run = run_on(0, {"backup", (dir_ / "x.tar.zst").string(), "--cold"});
  EXPECT_EQ(run.exit_code, 8) << run.err;
  EXPECT_NE(run.err.find("pid=" + std::to_string(::getpid())), std::string::npos) << run.err;
  ToolRun restore = run_on(0, {"restore", (dir_ / "x.tar.zst").string()});
  EXPECT_EQ(restore.exit_code, 8) << restore.err;
}

TEST_F(BackupRestore, DryRunSaysWhatWouldHappenAndChangesNothing) {
  write_data("/app", 50);
  fs::path archive = backup_node(0, "node0.tar.zst");
  ASSERT_TRUE(ensemble_->wait_healthy());
  auto before = listing(ensemble_->node(0).data_dir);
  auto pid_before = ensemble_->unit_state(0)->main_pid;
  ToolRun run = run_on(0, {"restore", archive.string(), "--dry-run"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("stop " + ensemble_->unit_name(0)), std::string::npos) << run.out;
  EXPECT_EQ(listing(ensemble_->node(0).data_dir), before);
  EXPECT_EQ(ensemble_->unit_state(0)->main_pid, pid_before);
}

// ZooKeeper 3.4 writes no snapshot when an ensemble starts and its first only
// after about snapCount transactions, so a young or quiet member holds logs
// alone, and 3.4 loads that as its empty tree plus every log.
class LogsOnlyBackupRestore : public BackupRestore {
 protected:
  void SetUp() override {
    if (!on_3_4()) GTEST_SKIP() << "ZooKeeper 3.5 and later write a snapshot when they start";
    BackupRestore::SetUp();
  }
  ts::EnsembleConfig ensemble_config() const override {
    ts::EnsembleConfig config = BackupRestore::ensemble_config();
    config.snap_count = 100000;  // ZooKeeper's default
    return config;
  }
};

TEST_F(LogsOnlyBackupRestore, AMemberWithoutASnapshotBacksUpVerifiesInspectsAndRestores) {
  write_data("/app", 3000);
  ts::ZnodeTree at_backup = read_tree();
  // The leader never snapshotted (a follower that joined it by SNAP did).
  std::optional<size_t> logs_only;
  for (size_t i = 0; i < ensemble_->size() && !logs_only; ++i) {
    auto names = listing(ensemble_->node(i).data_dir / "version-2");
    if (std::none_of(names.begin(), names.end(),
                     [](const std::string& n) { return n.rfind("snapshot.", 0) == 0; })) {
      logs_only = i;
    }
  }
  ASSERT_TRUE(logs_only) << "every member has a snapshot";
  const auto& node = ensemble_->node(*logs_only);
  ToolRun live = zk_tool({"inspect", node.data_dir.string(), "--data-log-dir",
                          node.data_log_dir.string(), "--json"});
  ASSERT_EQ(live.exit_code, 0) << live.err;
  EXPECT_EQ(nlohmann::json::parse(live.out)["from_empty_tree"], true) << live.out;

  fs::path archive = backup_node(*logs_only, "logs-only.tar.zst");
  ASSERT_TRUE(ensemble_->wait_healthy());
  ToolRun verify = zk_tool({"verify", archive.string(), "--json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  auto v = nlohmann::json::parse(verify.out);
  EXPECT_EQ(v["from_empty_tree"], true);
  EXPECT_EQ(v["proof"], "replay");
  EXPECT_EQ(v["znode_count"].get<size_t>(), at_backup.size()) << verify.out;
  ToolRun inspect = zk_tool({"inspect", archive.string()});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("no snapshot: the logs replay over ZooKeeper's empty tree"),
            std::string::npos)
      << inspect.out;

  write_data("/after", 50, *logs_only);
  for (const ToolRun& run : restore_all(archive)) EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(ensemble_->wait_healthy());
  expect_tree(at_backup);
}

}  // namespace
}  // namespace zktool
