// The backup/restore harness itself: a real 3-node ZooKeeper ensemble run as
// units of a real systemd user manager, controlled over D-Bus, with an
// Exhibitor status endpoint on its live nodes. Needs root.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cluster/systemd_ensemble.h"
#include "cluster/unit_file.h"
#include "health/exhibitor_client.h"
#include "support/files.h"
#include "support/tree_diff.h"
#include "support/zk_client.h"

namespace zktool::testsupport {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// Field 4 of /proc/<pid>/stat; the command name before it is in parentheses
// and may hold blanks, so parse from the last ')'.
pid_t parent_of(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream rest(stat.substr(stat.rfind(')') + 1));
  std::string state;
  pid_t parent = 0;
  rest >> state >> parent;
  return parent;
}

// /proc/<pid>/cmdline with the NULs between arguments made blanks.
std::string command_line(pid_t pid) {
  std::string text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  return text;
}

TEST(UnitFileTest, SystemdHandsQuotedArgumentsToTheProcessUnchanged) {
  auto manager = UserManager::start();
  ASSERT_TRUE(manager.ok()) << manager.error().message;
  const fs::path out = (*manager)->runtime_dir() / "argv.txt";
  const std::vector<std::string> args = {
      "two words", "it's", "say \"hi\"", "back\\slash", "end\\",   "100%",   "%n",
      "$HOME",     "${HOME}", "$$",      "tab\there",  "line\nbreak", "",    ";",
      "\\;",       "\xc3\xa9", "yyyy-MM-dd'T'HH:mm"};
  // The script's own `$@`, `$0` and `%s` must reach sh unchanged too.
  std::vector<std::string> argv = {"/bin/sh", "-c", "printf '[%s]\\n' \"$@\" > \"$0\"",
                                   out.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ASSERT_TRUE((*manager)
                  ->write_unit("argv.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\n"
                                               "ExecStart=" + exec_command_line(argv) + "\n")
                  .ok());
  ASSERT_TRUE((*manager)->reload().ok());
  auto services =
      service::ServiceManager::connect(service::BusTarget::direct((*manager)->private_address()));
  ASSERT_TRUE(services.ok()) << services.error().message;
  auto started = services->start_unit("argv.service", Clock::now() + 10s);
  ASSERT_TRUE(started.ok()) << started.error().message << "\n" << (*manager)->log();

  std::string expected;
  for (const auto& arg : args) expected += "[" + arg + "]\n";
  EXPECT_EQ(read_file(out), expected);
}

TEST(UnitFileTest, PathValuesDoublePercentAndRefuseWhatSystemdCannotTake) {
  auto value = unit_path_value("/tmp/100%/zookeeper.log");
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(*value, "/tmp/100%%/zookeeper.log");
  for (const char* bad : {"relative/dir", "/tmp/line\nbreak", "/tmp/trailing "}) {
    auto refused = unit_path_value(bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().kind, ErrorKind::Usage);
  }
}

class SystemdEnsembleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EnsembleConfig config;
    config.base_dir = dir_;
    auto started = SystemdEnsemble::start(config);
    ASSERT_TRUE(started.ok()) << started.error().message;
    ensemble_ = std::move(started).value();
  }

  void TearDown() override {
    if (HasFailure() && ensemble_) {
      std::cerr << "systemd's log:\n" << ensemble_->user_manager().log() << "\n";
    }
    ensemble_.reset();
  }

  // A node that follows right now, so stopping it needs no new election.
  size_t follower() const {
    for (size_t i = 0; i < ensemble_->size(); ++i) {
      auto info = ensemble_->node_srvr(i);
      if (info && info->serving && !info->leads()) return i;
    }
    ADD_FAILURE() << "no node follows";
    return 0;
  }

  // Exhibitor's answer for every node, in node order, as zk-tool's client reads it.
  std::vector<health::ExhibitorCode> exhibitor_codes(size_t* leaders = nullptr) const {
    auto servers = health::get_exhibitor_status(
        health::ExhibitorEndpoint(ensemble_->exhibitor_url()));
    EXPECT_TRUE(servers.ok()) << servers.error().message;
    std::vector<health::ExhibitorCode> codes;
    if (!servers.ok()) return codes;
    if (leaders != nullptr) *leaders = 0;
    for (size_t i = 0; i < ensemble_->size(); ++i) {
      for (const auto& server : *servers) {
        if (server.hostname != ensemble_->node(i).client_address()) continue;
        codes.push_back(server.code);
        if (leaders != nullptr && server.is_leader) ++*leaders;
      }
    }
    EXPECT_EQ(codes.size(), ensemble_->size()) << "Exhibitor must report each node once";
    return codes;
  }

  void expect_stopped(size_t index, const Result<service::UnitState>& stopped, pid_t old_pid) {
    ASSERT_TRUE(stopped.ok()) << stopped.error().message;
    EXPECT_TRUE(stopped->stopped()) << stopped->describe();
    EXPECT_EQ(stopped->main_pid, 0u);
    EXPECT_FALSE(process_exists(old_pid)) << "the JVM " << old_pid << " survived the stop";
    const auto& node = ensemble_->node(index);
    EXPECT_FALSE(health::ruok("127.0.0.1", node.client_port, 1s).ok())
        << node.client_address() << " still answers";
  }

  void expect_rejoins(size_t index) {
    auto started = ensemble_->start_unit(index);
    ASSERT_TRUE(started.ok()) << started.error().message;
    EXPECT_NE(started->main_pid, 0u);
    auto healthy = ensemble_->wait_healthy(60s);
    ASSERT_TRUE(healthy.ok()) << healthy.error().message;
    auto info = ensemble_->node_srvr(index);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_TRUE(info->serving);
  }

  testing::TempDir scratch_{"zktool-cluster-", "/tmp"};
  fs::path dir_ = scratch_.path();
  std::unique_ptr<SystemdEnsemble> ensemble_;
};

TEST_F(SystemdEnsembleTest, RunsEveryNodeAsAUnitOfTheManagerAndServes) {
  size_t leaders = 0;
  for (size_t i = 0; i < ensemble_->size(); ++i) {
    EXPECT_EQ(ensemble_->unit_name(i), "zk-node" + std::to_string(i + 1) + ".service");
    auto state = ensemble_->unit_state(i);
    ASSERT_TRUE(state.ok()) << state.error().message;
    EXPECT_EQ(state->active_state, "active");
    EXPECT_EQ(state->sub_state, "running");
    ASSERT_NE(state->main_pid, 0u);
    const auto pid = static_cast<pid_t>(state->main_pid);
    EXPECT_EQ(parent_of(pid), ensemble_->user_manager().pid()) << "not a child of systemd";
    EXPECT_NE(command_line(pid).find(ensemble_->zoo_cfg(i).string()), std::string::npos)
        << command_line(pid);
    auto info = ensemble_->node_srvr(i);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_TRUE(info->serving);
    if (info->leads()) ++leaders;
    EXPECT_NE(read_file(ensemble_->node(i).log_file).find("QuorumPeerMain"), std::string::npos)
        << "the unit's output is not appended to " << ensemble_->node(i).log_file;
  }
  EXPECT_EQ(leaders, 1u);

  const service::BusTarget bus = ensemble_->bus_target();
  EXPECT_EQ(bus.kind(), service::BusTarget::Kind::Direct);
  EXPECT_EQ(bus.address(), ensemble_->user_manager().private_address());

  size_t exhibitor_leaders = 0;
  const auto codes = exhibitor_codes(&exhibitor_leaders);
  EXPECT_EQ(codes, std::vector<health::ExhibitorCode>(3, health::ExhibitorCode::kServing));
  EXPECT_EQ(exhibitor_leaders, 1u);

  auto client = ZkClient::connect(ensemble_->connect_string());
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE((*client)->create("/hello", "world").ok());
  auto read = (*client)->get("/hello");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->data, "world");
}

TEST_F(SystemdEnsembleTest, StoppingAUnitStopsItsNodeAndStartingItRejoins) {
  const size_t index = follower();
  auto before = ensemble_->unit_state(index);
  ASSERT_TRUE(before.ok()) << before.error().message;

  expect_stopped(index, ensemble_->stop_unit(index), static_cast<pid_t>(before->main_pid));
  auto state = ensemble_->unit_state(index);
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->active_state, "inactive") << "Java's exit 143 on SIGTERM counts as success";

  size_t leaders = 0;
  auto codes = exhibitor_codes(&leaders);
  ASSERT_EQ(codes.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(codes[i], i == index ? health::ExhibitorCode::kDown : health::ExhibitorCode::kServing)
        << "node " << i + 1;
  }
  EXPECT_EQ(leaders, 1u);

  // The other two still make a quorum, and take a write the stopped node misses.
  auto healthy = ensemble_->wait_healthy(30s);
  ASSERT_TRUE(healthy.ok()) << healthy.error().message;
  auto client = ZkClient::connect(ensemble_->connect_string());
  ASSERT_TRUE(client.ok()) << client.error().message;
  ASSERT_TRUE((*client)->create("/while-down", "missed").ok());

  expect_rejoins(index);
  EXPECT_EQ(exhibitor_codes(),
            std::vector<health::ExhibitorCode>(3, health::ExhibitorCode::kServing));
  auto direct = ZkClient::connect(ensemble_->node(index).client_address());
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  auto caught_up = (*direct)->get("/while-down");
  ASSERT_TRUE(caught_up.ok()) << caught_up.error().message;
  EXPECT_EQ(caught_up->data, "missed");
}

TEST_F(SystemdEnsembleTest, DataSurvivesAFullStopAndStartOfEveryUnit) {
  ZnodeTree written;
  {
    auto client = ZkClient::connect(ensemble_->connect_string());
    ASSERT_TRUE(client.ok()) << client.error().message;
    ASSERT_TRUE((*client)->create("/kept", "root").ok());
    for (int i = 0; i < 200; ++i) {
      const std::string path = "/kept/n" + std::to_string(i);
      ASSERT_TRUE((*client)->create(path, std::string(static_cast<size_t>(i), 'x')).ok());
      if (i % 3 == 0) {
        ASSERT_TRUE((*client)->set(path, "updated").ok());
      }
      if (i % 7 == 0) {
        ASSERT_TRUE((*client)->remove(path).ok());
      }
    }
    auto tree = (*client)->snapshot_tree();
    ASSERT_TRUE(tree.ok()) << tree.error().message;
    written = std::move(*tree);
  }
  ASSERT_EQ(written.count("/kept/n1"), 1u);

  std::vector<pid_t> pids;
  for (size_t i = 0; i < ensemble_->size(); ++i) {
    auto state = ensemble_->unit_state(i);
    ASSERT_TRUE(state.ok()) << state.error().message;
    pids.push_back(static_cast<pid_t>(state->main_pid));
  }
  auto stopped = ensemble_->stop_all();
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  for (size_t i = 0; i < ensemble_->size(); ++i) {
    expect_stopped(i, ensemble_->unit_state(i), pids[i]);
  }
  EXPECT_EQ(exhibitor_codes(), std::vector<health::ExhibitorCode>(3, health::ExhibitorCode::kDown));

  auto started = ensemble_->start_all();
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto healthy = ensemble_->wait_healthy(60s);
  ASSERT_TRUE(healthy.ok()) << healthy.error().message;
  auto client = ZkClient::connect(ensemble_->connect_string());
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto tree = (*client)->snapshot_tree();
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  EXPECT_EQ(diff_trees(written, *tree), std::vector<std::string>{});
}

TEST_F(SystemdEnsembleTest, ReplacedUnitThatIgnoresTheStopSignalIsKilledAtItsTimeout) {
  const size_t index = follower();
  auto before = ensemble_->unit_state(index);
  ASSERT_TRUE(before.ok()) << before.error().message;
  // The JVM leaves SIGCONT alone, so only the SIGKILL after TimeoutStopSec ends it.
  ASSERT_TRUE(ensemble_->replace_unit(index, "KillSignal=SIGCONT\nTimeoutStopSec=2\n").ok());
  auto still = ensemble_->node_srvr(index);
  ASSERT_TRUE(still.ok() && still->serving) << "replacing the unit must not restart the node";

  const auto begin = Clock::now();
  auto stopped = ensemble_->stop_unit(index);
  const auto took = Clock::now() - begin;
  expect_stopped(index, stopped, static_cast<pid_t>(before->main_pid));
  EXPECT_GE(took, 1900ms) << "systemd waits TimeoutStopSec=2 before SIGKILL";
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->result, "timeout") << stopped->describe();

  ASSERT_TRUE(ensemble_->replace_unit(index).ok());
  expect_rejoins(index);
}

TEST_F(SystemdEnsembleTest, ReplacedUnitThatFailsToStartLeavesTheOthersServing) {
  const size_t index = follower();
  ASSERT_TRUE(ensemble_->stop_unit(index).ok());
  ASSERT_TRUE(ensemble_->replace_unit(index, "ExecStartPre=/bin/false\n").ok());

  auto refused = ensemble_->start_unit(index);
  ASSERT_FALSE(refused.ok()) << refused->describe();
  EXPECT_EQ(refused.error().kind, ErrorKind::ServiceControl);
  EXPECT_NE(refused.error().message.find(ensemble_->unit_name(index)), std::string::npos)
      << refused.error().message;
  auto state = ensemble_->unit_state(index);
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->active_state, "failed");
  auto healthy = ensemble_->wait_healthy(30s);
  EXPECT_TRUE(healthy.ok()) << "a failed unit is left out: " << healthy.error().message;

  ASSERT_TRUE(ensemble_->replace_unit(index).ok());
  expect_rejoins(index);
}

}  // namespace
}  // namespace zktool::testsupport
