// The crash-consistency campaign: SIGKILLs the zk-tool binary at each of its
// fault points (src/util/fault_point.h) and at random moments of backup, restore
// and rollback on node 0 of a real 3-node ensemble run by systemd, then
// checks after every kill that
//   (a) the archive's final name is absent or holds an archive that verifies;
//   (b) node 0's version-2 directories hold the old or the restored data,
//       never one of each; a directory may be absent while a
//       version-2.pre-restore-* beside it holds the old data;
//   (c) re-running the command exits 0 and leaves the unit running, the
//       ensemble healthy and serving the expected tree;
//   (d) the re-run names the killed run as a stale lock holder when the
//       killed run had taken the lock.
// Restore and rollback run with --no-wait on node 0 alone (nodes 1 and 2 keep
// serving the old tree); node 0 is reset between trials by wiping its data
// and letting the leader sync it again.
//
//   crash_campaign --campaign | --trials N [--seed S]
//                                          N trials: every point once, the rest
//                                          random kills (default: points + 20)
//   crash_campaign [gtest flags]           the CI sample: every point + 5 random
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster/systemd_ensemble.h"
#include "support/test_dir.h"
#include "support/tree_diff.h"
#include "support/zk_client.h"
#include "support/zk_tool.h"

namespace zktool::testsupport {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Every fault point, by the command that reaches it. The swap points carry
// the index of the directory: 0 the dataDir's version-2, 1 the dataLogDir's.
const std::vector<std::pair<std::string, std::vector<std::string>>> kPoints = {
    {"backup",
     {"backup.after-stop", "backup.after-copy", "backup.after-start", "backup.after-capture",
      "archive.between-entries", "archive.before-rename", "backup.after-commit"}},
    {"restore",
     {"restore.after-staging", "restore.after-epochs", "restore.after-stop",
      "restore.after-aside-0", "restore.after-rename-0", "restore.after-aside-1",
      "restore.after-rename-1", "restore.before-start", "restore.after-start"}},
    {"rollback",
     {"rollback.after-epochs", "rollback.after-stop", "rollback.after-aside-0",
      "rollback.after-rename-0", "rollback.after-aside-1", "rollback.after-rename-1",
      "rollback.after-start", "rollback.after-unlock"}},
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Run : CapturedRun {
  std::chrono::duration<double> took{};
};

// Runs zk-tool with ZKTOOL_FAULT_POINT=`point` (if any), SIGKILLing it after
// `kill_after` (if set) unless it has exited by then.
Run run_tool(const std::vector<std::string>& args, const std::string& point = {},
             std::optional<std::chrono::milliseconds> kill_after = {}) {
  RunSpec spec = zk_tool_spec(args);
  spec.environment["ZKTOOL_FAULT_POINT"] =
      point.empty() ? std::nullopt : std::optional<std::string>(point);
  spec.kill_after = kill_after;
  const auto started = Clock::now();
  Run run{run_captured(spec)};
  run.took = Clock::now() - started;
  return run;
}

// A version-2 directory's files by name, with a hash of their bytes; the
// epoch files are left out (every restore and rollback writes its own).
using Listing = std::map<std::string, uint64_t>;

std::optional<Listing> listing_of(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  Listing files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("acceptedEpoch", 0) == 0 || name.rfind("currentEpoch", 0) == 0) continue;
    uint64_t hash = 1469598103934665603ull;  // FNV-1a
    for (char c : read_file(e.path())) {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
    files[name] = hash;
  }
  return files;
}

// Node 0's data as (dataDir's version-2, dataLogDir's version-2).
struct NodeData {
  std::optional<Listing> snap, log;
  bool operator==(const NodeData&) const = default;
};

enum class Held { kAbsent, kOld, kRestored, kOther };

const char* to_string(Held h) {
  switch (h) {
    case Held::kAbsent: return "absent";
    case Held::kOld: return "old";
    case Held::kRestored: return "restored";
    case Held::kOther: return "neither old nor restored";
  }
  return "?";
}

struct Tally {
  int trials = 0, killed = 0, failures = 0;
};

class Campaign {
 public:
  Campaign(fs::path dir, uint64_t seed) : dir_(std::move(dir)), random_(seed), seed_(seed) {}

  // Starts the ensemble, writes the data, makes the archive to restore and
  // times one clean run of each command.
  Status set_up() {
    EnsembleConfig config;
    config.base_dir = dir_ / "ensemble";
    fs::create_directories(config.base_dir);
    fs::create_directories(dir_ / "archives");
    config.nodes = 3;
    auto ensemble = SystemdEnsemble::start(config);
    if (!ensemble) return ensemble.error();
    ensemble_ = std::move(*ensemble);
    if (Status s = write_znodes("/app", 200); !s) return s;
    archive_ = dir_ / "restore-me.tar.zst";
    Run made = run_tool(with_node_args({"backup", archive_.string()}));
    if (made.exit_code != 0) return make_error(ErrorKind::Internal, "backup: " + made.err);
    // The live data moves on from the archive: "old" and "restored" differ.
    if (Status s = write_znodes("/after", 50); !s) return s;
    auto tree = read_tree();
    if (!tree) return tree.error();
    expected_tree_ = std::move(*tree);

    Run backup = run_tool(with_node_args({"backup", next_archive().string(), "--cold"}));
    if (backup.exit_code != 0) return make_error(ErrorKind::Internal, "backup: " + backup.err);
    if (Status s = settle(); !s) return s;
    Run restore = run_tool(restore_args());
    if (restore.exit_code != 0) return make_error(ErrorKind::Internal, "restore: " + restore.err);
    restored_ = node_data();
    Run rollback = run_tool(rollback_args());
    if (rollback.exit_code != 0) {
      return make_error(ErrorKind::Internal, "rollback: " + rollback.err);
    }
    timing_ = {{"backup", backup.took}, {"restore", restore.took}, {"rollback", rollback.took}};
    return reset_node();
  }

  void run(int trials) {
    std::vector<std::pair<std::string, std::string>> plan;  // (command, point or "")
    for (const auto& [command, points] : kPoints) {
      for (const auto& point : points) plan.emplace_back(command, point);
    }
    const char* commands[] = {"backup", "restore", "rollback"};
    while (static_cast<int>(plan.size()) < trials) {
      plan.emplace_back(commands[random_() % 3], "");
    }
    for (size_t i = 0; i < plan.size(); ++i) {
      auto [command, point] = plan[i];
      std::optional<std::chrono::milliseconds> delay;
      if (point.empty()) {
        auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(timing_[command]);
        delay = std::chrono::milliseconds(random_() % static_cast<uint64_t>(limit.count() + 1));
      }
      std::string key = point.empty() ? "random " + command : point;
      std::vector<std::string> failures = trial(command, point, delay);
      Tally& t = tallies_[key];
      ++t.trials;
      t.failures += failures.empty() ? 0 : 1;
      std::cerr << "trial " << i + 1 << "/" << plan.size() << " " << key
                << (delay ? " after " + std::to_string(delay->count()) + " ms" : "")
                << (last_killed_ ? ": killed" : ": not killed") << ", "
                << (failures.empty() ? "ok" : "FAILED") << "\n";
      for (const auto& f : failures) std::cerr << "  " << f << "\n";
      t.killed += last_killed_ ? 1 : 0;
      if (!failures.empty()) failure_log_.push_back(key + ": " + failures.front());
    }
  }

  int total_failures() const {
    int n = 0;
    for (const auto& [k, t] : tallies_) n += t.failures;
    return n;
  }

  void print_summary(std::ostream& out) const {
    char line[160];
    out << "crash campaign: seed " << seed_ << "; clean runs: backup "
        << timing_.at("backup").count() << " s, restore " << timing_.at("restore").count()
        << " s, rollback " << timing_.at("rollback").count() << " s\n";
    std::snprintf(line, sizeof(line), "%-28s %7s %7s %9s\n", "point", "trials", "killed",
                  "failures");
    out << line;
    int trials = 0, killed = 0;
    for (const auto& [key, t] : tallies_) {
      std::snprintf(line, sizeof(line), "%-28s %7d %7d %9d\n", key.c_str(), t.trials, t.killed,
                    t.failures);
      out << line;
      trials += t.trials;
      killed += t.killed;
    }
    std::snprintf(line, sizeof(line), "%-28s %7d %7d %9d\n", "total", trials, killed,
                  total_failures());
    out << line;
    for (const auto& f : failure_log_) out << "  " << f << "\n";
  }

  SystemdEnsemble& ensemble() { return *ensemble_; }

 private:
  std::vector<std::string> with_node_args(std::vector<std::string> args) const {
    std::vector<std::string> node = {"--zoo-cfg", ensemble_->zoo_cfg(0).string(),
                                     "--unit", ensemble_->unit_name(0),
                                     "--systemd-address", ensemble_->bus_target().address(),
                                     "--health", "zk"};
    args.insert(args.end(), node.begin(), node.end());
    return args;
  }
  std::vector<std::string> restore_args() const {
    return with_node_args({"restore", archive_.string(), "--no-wait"});
  }
  std::vector<std::string> rollback_args() const {
    return with_node_args({"rollback", "--no-wait"});
  }
  fs::path next_archive() {
    return dir_ / "archives" / ("backup-" + std::to_string(++archives_) + ".tar.zst");
  }

  // One kill and its checks; returns what went wrong.
  std::vector<std::string> trial(const std::string& command, const std::string& point,
                                 std::optional<std::chrono::milliseconds> delay) {
    std::vector<std::string> failures;
    // The old data: what a restore replaces, and what a rollback puts back.
    auto fail = [&](const std::string& what) { failures.push_back(what); };
    NodeData old = node_data();
    std::vector<std::string> args;
    fs::path archive;
    if (command == "backup") {
      archive = next_archive();
      args = with_node_args({"backup", archive.string(), "--cold"});
    } else if (command == "restore") {
      args = restore_args();
    } else {
      Run restore = run_tool(restore_args());
      if (restore.exit_code != 0) {
        fail("setting up: restore exited " + std::to_string(restore.exit_code) + ": " +
             restore.err);
      }
      args = rollback_args();
    }
    Run killed = run_tool(args, point, delay);
    last_killed_ = killed.exit_code == 128 + SIGKILL;
    if (!point.empty() && !last_killed_) {
      fail("the fault point was never reached: exit " + std::to_string(killed.exit_code) + " " +
           killed.err);
    }
    if (!last_killed_ && killed.exit_code != 0) {
      fail("the run exited " + std::to_string(killed.exit_code) + ": " + killed.err);
    }
    std::string record = read_file(ensemble_->node(0).data_dir / ".zk-tool.lock");
    bool held_lock = record.find("pid=" + std::to_string(killed.pid) + " ") != std::string::npos;

    // (a) and (b), before anything else runs.
    if (command == "backup") {
      check_archive(archive, fail);
    } else {
      check_node_data(old, fail);
    }

    // (c) a killed run is recovered by running the same command again, and
    // (d) that run names the killed one; a run that finished needs neither.
    Run finished = killed;
    bool rollback_had_finished = false;
    if (last_killed_) {
      std::vector<std::string> again = args;
      if (command == "backup" && fs::exists(archive)) {
        archive = next_archive();  // the final name is never overwritten
        again = with_node_args({"backup", archive.string(), "--cold"});
      }
      finished = run_tool(again);
      bool says_stale = finished.err.find("a previous run ended without releasing the lock: pid=" +
                                          std::to_string(killed.pid) + " ") != std::string::npos;
      if (held_lock && !says_stale) {
        fail("the re-run did not report the killed run (pid " + std::to_string(killed.pid) +
             ") as a stale lock holder: " + finished.err);
      }
      if (!held_lock && says_stale) fail("a stale holder reported for a run that took no lock");
      // A rollback killed after it had finished (its lock released) leaves
      // nothing to roll back: the re-run must say so, and the data be back.
      rollback_had_finished = command == "rollback" && !held_lock &&
                              finished.err.find("the last rollback finished") != std::string::npos;
      if (finished.exit_code != 0 && !rollback_had_finished) {
        fail("the re-run exited " + std::to_string(finished.exit_code) + ": " + finished.err);
      }
    }
    if (finished.exit_code == 0 && command == "backup") {
      check_archive(archive, fail);
      if (!fs::exists(archive)) fail(archive.string() + " is missing after a successful backup");
    } else if ((finished.exit_code == 0 || rollback_had_finished) &&
               !(node_data() == (command == "restore" ? restored_ : old))) {
      fail(std::string("node 0 does not hold the ") +
           (command == "restore" ? "restored" : "old") + " data in the end");
    }
    check_serving(command, fail);
    if (Status s = reset_node(); !s) fail("reset: " + s.error().message);
    return failures;
  }

  void check_archive(const fs::path& archive, const std::function<void(std::string)>& fail) {
    if (!fs::exists(archive)) return;
    Run verify = run_tool({"verify", archive.string()});
    if (verify.exit_code != 0) {
      fail(archive.string() + " exists but does not verify: " + verify.err);
    }
  }

  // (b): each version-2 holds the old or the restored data, or is absent
  // with the old data beside it; never old in one and restored in the other.
  void check_node_data(const NodeData& old, const std::function<void(std::string)>& fail) {
    NodeData now = node_data();
    const auto& node = ensemble_->node(0);
    std::vector<Held> held;
    for (int i = 0; i < 2; ++i) {
      const auto& live = i == 0 ? now.snap : now.log;
      const fs::path parent = i == 0 ? node.data_dir : node.data_log_dir;
      Held h = Held::kOther;
      if (!live) {
        h = Held::kAbsent;
        bool kept = false;
        for (const auto& e : fs::directory_iterator(parent)) {
          if (e.path().filename().string().rfind("version-2.pre-restore-", 0) == 0) {
            kept = kept || listing_of(e.path()) == (i == 0 ? old.snap : old.log);
          }
        }
        if (!kept) {
          fail(parent.string() + ": version-2 is absent, and no pre-restore copy holds the "
               "old data");
        }
      } else if (live == (i == 0 ? old.snap : old.log)) {
        h = Held::kOld;
      } else if (live == (i == 0 ? restored_.snap : restored_.log)) {
        h = Held::kRestored;
      }
      if (h == Held::kOther) fail(parent.string() + "/version-2 holds " + to_string(h));
      held.push_back(h);
    }
    bool mixed = (held[0] == Held::kOld && held[1] == Held::kRestored) ||
                 (held[0] == Held::kRestored && held[1] == Held::kOld);
    if (mixed) {
      fail(std::string("a mix: the dataDir's version-2 holds the ") + to_string(held[0]) +
           " data, the dataLogDir's the " + to_string(held[1]));
    }
  }

  // (c): node 0's unit runs, and nodes 1 and 2 serve the expected tree.
  void check_serving(const std::string& command, const std::function<void(std::string)>& fail) {
    auto unit = ensemble_->unit_state(0);
    if (!unit || unit->active_state != "active") {
      fail(ensemble_->unit_name(0) + " is " + (unit ? unit->active_state : unit.error().message) +
           " after the re-run");
    }
    if (command == "backup") {
      // Node 0 serves too: it rejoined with the data it had.
      if (Status s = ensemble_->wait_healthy(60s); !s) fail("not healthy: " + s.error().message);
      auto srvr = ensemble_->node_srvr(0);
      if (!srvr || !srvr->serving) fail("node 0 does not serve after the backup");
    } else {
      // Node 0 now holds a newer generation than its peers, which it will
      // not follow: the quorum is nodes 1 and 2.
      int leaders = 0;
      for (size_t i : {1, 2}) {
        auto srvr = ensemble_->node_srvr(i);
        if (!srvr || !srvr->serving) fail("node " + std::to_string(i) + " does not serve");
        leaders += srvr && srvr->leads() ? 1 : 0;
      }
      if (leaders != 1) fail(std::to_string(leaders) + " leaders among nodes 1 and 2");
    }
    auto tree = read_tree();
    if (!tree) {
      fail("cannot read the tree: " + tree.error().message);
      return;
    }
    auto diff = diff_trees(expected_tree_, *tree, 3);
    if (!diff.empty()) fail("the ensemble serves another tree: " + diff.front());
  }

  NodeData node_data() const {
    const auto& node = ensemble_->node(0);
    return {listing_of(node.data_dir / "version-2"), listing_of(node.data_log_dir / "version-2")};
  }

  // Wipes node 0's data and lets the leader sync it again; waits until its
  // files stop changing, and keeps them as the old data of the next trial.
  Status reset_node() {
    if (auto s = ensemble_->stop_unit(0); !s) return s.error();
    const auto& node = ensemble_->node(0);
    for (const fs::path& dir : {node.data_dir, node.data_log_dir}) {
      for (const auto& e : fs::directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        if (name.rfind("version-2", 0) == 0 || name.rfind(".zk-tool-staging-", 0) == 0) {
          fs::remove_all(e.path());
        }
      }
    }
    if (auto s = ensemble_->start_unit(0); !s) return s.error();
    return settle();
  }

  // Until every unit runs, node 0 serves and its files hold still.
  Status settle() {
    auto unit = ensemble_->unit_state(0);
    if (unit && unit->active_state != "active") {
      if (auto s = ensemble_->start_unit(0); !s) return s.error();
    }
    if (Status s = ensemble_->wait_healthy(60s); !s) return s;
    auto deadline = Clock::now() + 30s;
    NodeData last;
    for (;;) {
      auto srvr = ensemble_->node_srvr(0);
      NodeData now = node_data();
      if (srvr && srvr->serving && now == last && now.snap) return Ok{};
      if (Clock::now() > deadline) return make_error(ErrorKind::Unhealthy, "node 0 never settled");
      last = std::move(now);
      std::this_thread::sleep_for(500ms);
    }
  }

  Status write_znodes(const std::string& root, int count) {
    auto client = ZkClient::connect(ensemble_->connect_string());
    if (!client) return client.error();
    if (auto made = (*client)->create(root, std::nullopt); !made) return made.error();
    for (int i = 0; i < count; ++i) {
      std::string data(200, static_cast<char>('a' + i % 26));
      if (auto made = (*client)->create(root + "/n-" + std::to_string(i), data); !made) {
        return made.error();
      }
    }
    return Ok{};
  }

  // Through nodes 1 and 2, which every trial leaves serving the old data.
  Result<ZnodeTree> read_tree() {
    auto client = ZkClient::connect(ensemble_->node(1).client_address() + "," +
                                    ensemble_->node(2).client_address());
    if (!client) return client.error();
    return (*client)->snapshot_tree();
  }

  fs::path dir_;
  std::mt19937_64 random_;
  uint64_t seed_;
  std::unique_ptr<SystemdEnsemble> ensemble_;
  fs::path archive_;
  int archives_ = 0;
  ZnodeTree expected_tree_;
  NodeData restored_;
  std::map<std::string, std::chrono::duration<double>> timing_;
  std::map<std::string, Tally> tallies_;
  std::vector<std::string> failure_log_;
  bool last_killed_ = false;
};

int points_count() {
  int n = 0;
  for (const auto& [command, points] : kPoints) n += static_cast<int>(points.size());
  return n;
}

TEST(CrashCampaign, EveryFaultPointOnceAndFiveRandomKillsKeepEveryInvariant) {
  testing::TestDir dir("zktool-crash-");
  uint64_t seed = std::random_device{}();
  Campaign campaign(dir.path(), seed);
  Status ready = campaign.set_up();
  ASSERT_TRUE(ready) << ready.error().message;
  campaign.run(points_count() + 5);
  campaign.print_summary(std::cerr);
  EXPECT_EQ(campaign.total_failures(), 0);
}

}  // namespace
}  // namespace zktool::testsupport

int main(int argc, char** argv) {
  using namespace zktool::testsupport;
  bool campaign_mode = false;
  int trials = points_count() + 20;
  uint64_t seed = std::random_device{}();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--trials" && has_value) {
      trials = std::stoi(argv[++i]);
    } else if (arg == "--seed" && has_value) {
      seed = std::stoull(argv[++i]);
    } else if (arg != "--campaign") {
      continue;
    }
    campaign_mode = true;
  }
  if (!campaign_mode) {
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
  }
  zktool::testing::TempDir dir("zktool-crash-");
  auto started = Clock::now();
  Campaign campaign(dir.path(), seed);
  if (zktool::Status ready = campaign.set_up(); !ready) {
    std::cerr << "set-up failed: " << ready.error().message << " (kept " << dir.release()
              << ")\n";
    return 1;
  }
  campaign.run(std::max(trials, points_count()));
  campaign.print_summary(std::cout);
  std::cout << "wall time " << std::chrono::duration<double>(Clock::now() - started).count()
            << " s\n";
  bool ok = campaign.total_failures() == 0;
  if (!ok) std::cout << "kept " << dir.release() << "\n";
  return ok ? 0 : 1;
}
