// zk-tool log backup / log restore --unit against a real systemd user manager
// (tests/systemd): the unit's process holds the replica open as a running
// scheduler does (replica_holder), so only a real stop lets zk-tool in.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "replicated_log/initialize.h"
#include "service/service_manager.h"
#include "systemd/user_manager.h"
#include "test_support.h"

namespace zktool::replicated_log {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using service::Deadline;
using testing::all_actions;
using testing::names_in;
using testing::raw_entries;
using testing::read_tree;
using testing::run_command;
using testing::shell_quote;
using testing::TempDir;
using testing::write_sample_replica;

constexpr const char* kUnit = "scheduler.service";

// What the unit's process reported once it held the replica.
struct Holder {
  pid_t pid = 0;
  long keys = 0;
};

class LogUnitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto systemd = testsupport::UserManager::start();
    ASSERT_TRUE(systemd.ok()) << systemd.error().message;
    systemd_ = std::move(systemd).value();
    auto services = service::ServiceManager::connect(
        service::BusTarget::direct(systemd_->private_address()));
    ASSERT_TRUE(services.ok()) << services.error().message;
    services_.emplace(std::move(services).value());
  }

  void TearDown() override {
    services_.reset();
    if (HasFailure() && systemd_) std::cerr << "systemd's log:\n" << systemd_->log() << "\n";
    systemd_.reset();
  }

  // A unit whose process holds `replica` open; `extra` goes into [Service].
  void install(const std::string& extra, bool ignore_term) {
    const std::string text = "[Service]\n" + extra + "ExecStart=" + REPLICA_HOLDER_BINARY + " " +
                             replica_.string() + " %t/holder.ready" +
                             (ignore_term ? " --ignore-term" : "") + "\n";
    auto written = systemd_->write_unit(kUnit, text);
    ASSERT_TRUE(written.ok()) << written.error().message;
    auto reloaded = systemd_->reload();
    ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  }

  void start() {
    auto started = services_->start_unit(kUnit, Deadline::clock::now() + 10s);
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  // Waits (up to 10 s) until the unit's current process, not `previous`,
  // holds the replica, and checks that the unit is active with it as MainPID.
  Holder wait_for_holder(pid_t previous) {
    const fs::path ready = systemd_->runtime_dir() / "holder.ready";
    const auto give_up = Deadline::clock::now() + 10s;
    Holder holder;
    while (Deadline::clock::now() < give_up) {
      std::ifstream in(ready);
      if (in >> holder.pid >> holder.keys && holder.pid != previous) break;
      holder = {};
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_NE(holder.pid, 0) << "no new process of " << kUnit << " holds " << replica_;
    auto state = services_->unit_state(kUnit, Deadline::clock::now() + 5s);
    EXPECT_TRUE(state.ok()) << state.error().message;
    if (state.ok()) {
      EXPECT_EQ(state->active_state, "active");
      EXPECT_EQ(static_cast<pid_t>(state->main_pid), holder.pid);
    }
    return holder;
  }

  // zk-tool `args` with this manager's unit flags.
  testing::CommandOutput zk_tool(const std::string& args, const std::string& unit_flags = "") {
    return run_command(shell_quote(ZKTOOL_BINARY) + " " + args + " --path " +
                       shell_quote(replica_.string()) + " --unit " + kUnit +
                       " --systemd-address " + shell_quote(systemd_->private_address()) +
                       unit_flags);
  }

  TempDir tmp_;
  const fs::path replica_ = tmp_.path() / "replica";
  std::unique_ptr<testsupport::UserManager> systemd_;
  std::optional<service::ServiceManager> services_;
};

TEST_F(LogUnitTest, BackupStopsTheUnitForTheReadAndStartsItAgain) {
  write_sample_replica(replica_);
  const auto expected = all_actions(replica_);
  install("", false);
  start();
  const Holder before = wait_for_holder(0);
  EXPECT_EQ(before.keys, 10);  // the metadata and 9 actions

  const fs::path archive = tmp_.path() / "log.tar.zst";
  // Without --unit the held replica is refused; with it, the unit is stopped first.
  auto refused = run_command(shell_quote(ZKTOOL_BINARY) + " log backup " +
                             shell_quote(archive.string()) + " --path " +
                             shell_quote(replica_.string()));
  EXPECT_EQ(refused.exit_code, 8) << refused.err;
  EXPECT_FALSE(fs::exists(archive));

  auto out = zk_tool("log backup " + shell_quote(archive.string()));
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const Holder after = wait_for_holder(before.pid);
  EXPECT_EQ(after.keys, 10);

  // The archive holds exactly the source's entries.
  const fs::path check = tmp_.path() / "check";
  auto restored = run_command(shell_quote(ZKTOOL_BINARY) + " log restore " +
                              shell_quote(archive.string()) + " --path " +
                              shell_quote(check.string()));
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(all_actions(check), expected);
}

TEST_F(LogUnitTest, RestoreSwapsTheReplicaWhileTheUnitIsStopped) {
  const fs::path source = tmp_.path() / "source";
  write_sample_replica(source);
  const fs::path archive = tmp_.path() / "log.tar";
  auto backed_up = run_command(shell_quote(ZKTOOL_BINARY) + " log backup " +
                               shell_quote(archive.string()) + " --compression none --path " +
                               shell_quote(source.string()));
  ASSERT_EQ(backed_up.exit_code, 0) << backed_up.err;

  ASSERT_TRUE(initialize(replica_));
  const auto blank = raw_entries(replica_);
  install("", false);
  start();
  const Holder before = wait_for_holder(0);
  EXPECT_EQ(before.keys, 1);

  auto out = zk_tool("log restore " + shell_quote(archive.string()));
  ASSERT_EQ(out.exit_code, 0) << out.err;
  // The unit's new process opened the restored replica.
  const Holder after = wait_for_holder(before.pid);
  EXPECT_EQ(after.keys, 10);

  auto stopped = services_->stop_unit(kUnit, Deadline::clock::now() + 10s);
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_EQ(all_actions(replica_), all_actions(source));
  std::vector<fs::path> aside;
  for (const std::string& name : names_in(tmp_.path())) {
    if (name.starts_with("replica.pre-restore-")) aside.push_back(tmp_.path() / name);
  }
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_EQ(raw_entries(aside[0]), blank);
}

TEST_F(LogUnitTest, AUnitThatDoesNotStopLeavesEverythingAsItWas) {
  write_sample_replica(replica_);
  const fs::path archive = tmp_.path() / "log.tar";
  auto backed_up = run_command(shell_quote(ZKTOOL_BINARY) + " log backup " +
                               shell_quote(archive.string()) + " --path " +
                               shell_quote(replica_.string()));
  ASSERT_EQ(backed_up.exit_code, 0) << backed_up.err;
  // Ignores SIGTERM; the stop job outlasts both runs and is never joined by a start.
  install("TimeoutStopSec=60\n", true);
  start();
  const Holder holder = wait_for_holder(0);
  const auto tree = read_tree(replica_);
  const auto names = names_in(tmp_.path());

  const fs::path second = tmp_.path() / "second.tar";
  for (const std::string& run : {"log backup " + shell_quote(second.string()),
                                 "log restore " + shell_quote(archive.string())}) {
    auto out = zk_tool(run, " --stop-timeout 1");
    EXPECT_EQ(out.exit_code, 5) << run << ": " << out.err;  // service control
    EXPECT_NE(out.err.find("stop " + std::string(kUnit)), std::string::npos) << out.err;
    EXPECT_NE(out.err.find("still pending"), std::string::npos) << out.err;
    EXPECT_EQ(read_tree(replica_), tree) << run;
    EXPECT_EQ(names_in(tmp_.path()), names) << run << ": nothing may be added or moved";
  }
  EXPECT_EQ(::kill(holder.pid, SIGKILL), 0);
}

}  // namespace
}  // namespace zktool::replicated_log
