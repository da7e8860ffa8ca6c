// The shipped zk-tool-backup.service and .timer under a real systemd user
// manager, against a real ZooKeeper run as its unit: the units as they ship
// (every sandboxing setting included), with only the schedule, the program's
// path, the test's directories and PrivateTmp= (the test's files live under
// /tmp) changed. The timer fires the service, backups land and verify; a run
// that cannot back up fails the unit with a non-zero status over D-Bus and
// leaves the earlier backups alone. Needs root.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "cluster/systemd_ensemble.h"
#include "service/service_manager.h"
#include "support/files.h"
#include "support/process.h"
#include "support/test_dir.h"
#include "support/zk_client.h"
#include "unit_files.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kService = "zk-tool-backup.service";
constexpr const char* kTimer = "zk-tool-backup.timer";

// Name and size of every entry of a backup directory.
std::map<std::string, uintmax_t> listing(const fs::path& dir) {
  std::map<std::string, uintmax_t> entries;
  for (const auto& e : fs::directory_iterator(dir)) {
    entries[e.path().filename().string()] = e.is_regular_file() ? e.file_size() : 0;
  }
  return entries;
}

size_t count_backups(const fs::path& dir) {
  size_t n = 0;
  for (const auto& [name, size] : listing(dir)) {
    if (name.starts_with("zk-backup-") && name.ends_with(".tar.zst")) ++n;
  }
  return n;
}

class ScheduledBackup : public ::testing::Test {
 protected:
  void SetUp() override {
    backups_ = dir_ / "backups";
    config_ = dir_ / "zk-tool.conf";
    fs::create_directory(backups_);
    fs::permissions(backups_, fs::perms::owner_all);
    ts::EnsembleConfig config;
    config.base_dir = dir_ / "ensemble";
    fs::create_directories(config.base_dir);
    config.nodes = 1;
    auto ensemble = ts::SystemdEnsemble::start(config);
    ASSERT_TRUE(ensemble) << ensemble.error().message;
    ensemble_ = std::move(ensemble.value());
    auto systemd = service::ServiceManager::connect(ensemble_->bus_target());
    ASSERT_TRUE(systemd) << systemd.error().message;
    systemd_ = std::make_unique<service::ServiceManager>(std::move(systemd.value()));
  }

  void TearDown() override {
    if (systemd_) (void)systemd_->stop_unit(kTimer, Clock::now() + 30s);
    systemd_.reset();
    if (HasFailure() && ensemble_) std::cerr << ensemble_->user_manager().log() << "\n";
    ensemble_.reset();
  }

  // The config file the service reads: how to reach the node and its unit,
  // then `node_lines`.
  void write_config(const std::string& node_lines) {
    testing::write_file(config_, "unit = " + ensemble_->unit_name(0) + "\n" +
                                     "systemd-address = " + ensemble_->bus_target().address() +
                                     "\nexhibitor-url = " + ensemble_->exhibitor_url() + "\n" +
                                     node_lines);
  }

  void install_units() {
    std::string service = testing::append_to_section(
        testing::read_file(ZKTOOL_BUILD_DIR "/units/zk-tool-backup.service"), "Service",
        "ExecStart=\n"
        "ExecStart=" ZKTOOL_BINARY " backup --dir " + backups_.string() + " --config " +
            config_.string() + "\n" +
            "ReadWritePaths=\n"
            "ReadWritePaths=" + backups_.string() + " " + ensemble_->node(0).data_dir.string() +
            "\nPrivateTmp=no\n"
            // In the sanitized build: LeakSanitizer stops threads with ptrace,
            // which the unit's SystemCallFilter= refuses; ASan still runs.
            "Environment=ASAN_OPTIONS=detect_leaks=0\n");
    std::string timer = testing::append_to_section(
        testing::read_file(ZKTOOL_UNITS_SOURCE_DIR "/zk-tool-backup.timer"), "Timer",
        "OnCalendar=\nOnActiveSec=1s\nOnUnitActiveSec=4s\nRandomizedDelaySec=0\n"
        "AccuracySec=100ms\nPersistent=false\n");
    const auto& manager = ensemble_->user_manager();
    // Sandboxing (ProtectHome=, InaccessiblePaths=) mounts the nodes a system
    // manager makes under /run/systemd/inaccessible at boot; the fixture's
    // /run/systemd is a fresh tmpfs, so a helper unit makes them in its namespace.
    ASSERT_TRUE(manager.write_unit(
        "inaccessible-nodes.service",
        "[Service]\nType=oneshot\nRemainAfterExit=yes\n"
        "ExecStart=/bin/sh -c 'd=/run/systemd/inaccessible; mkdir -p $$d && "
        "mkdir -m 0 $$d/dir && install -m 0 /dev/null $$d/reg && mkfifo -m 0 $$d/fifo && "
        "mknod -m 0 $$d/chr c 0 0 && mknod -m 0 $$d/blk b 0 0'\n"));
    ASSERT_TRUE(manager.write_unit(kService, service));
    ASSERT_TRUE(manager.write_unit(kTimer, timer));
    ASSERT_TRUE(manager.reload());
    auto nodes = systemd_->start_unit("inaccessible-nodes.service", Clock::now() + 30s);
    ASSERT_TRUE(nodes) << nodes.error().message;
  }

  void start_timer() {
    auto started = systemd_->start_unit(kTimer, Clock::now() + 30s);
    ASSERT_TRUE(started) << started.error().message;
  }

  // Stops the timer, then waits for a run in progress to end.
  void stop_timer() {
    auto stopped = systemd_->stop_unit(kTimer, Clock::now() + 30s);
    ASSERT_TRUE(stopped) << stopped.error().message;
    wait_for_service([](const service::UnitState& s) { return s.active_state != "activating"; },
                     "a run to end");
  }

  service::UnitState wait_for_service(bool (*done)(const service::UnitState&), const char* what) {
    auto deadline = Clock::now() + 90s;
    for (;;) {
      auto state = systemd_->unit_state(kService, Clock::now() + 10s);
      EXPECT_TRUE(state) << state.error().message;
      if (!state) return {};
      if (done(*state)) return *state;
      if (Clock::now() > deadline) {
        ADD_FAILURE() << "waited for " << what << "; " << state->describe();
        return *state;
      }
      std::this_thread::sleep_for(200ms);
    }
  }

  testing::TestDir scratch_{"zktool-timer-"};
  fs::path dir_ = scratch_.path();
  fs::path backups_;
  fs::path config_;
  std::unique_ptr<ts::SystemdEnsemble> ensemble_;
  std::unique_ptr<service::ServiceManager> systemd_;
};

TEST_F(ScheduledBackup, TimerRunsVerifiedBackupsAndAFailedRunKeepsThem) {
  {
    auto client = ts::ZkClient::connect(ensemble_->connect_string());
    ASSERT_TRUE(client) << client.error().message;
    ASSERT_TRUE((*client)->create("/scheduled", std::string_view("hourly")));
  }
  write_config("zoo-cfg = " + ensemble_->zoo_cfg(0).string() + "\n");
  install_units();
  start_timer();

  // The timer fires again and again: two backups land.
  auto deadline = Clock::now() + 120s;
  while (count_backups(backups_) < 2) {
    ASSERT_LT(Clock::now(), deadline) << "no second backup; service "
                                      << systemd_->unit_state(kService, Clock::now() + 10s)
                                             ->describe();
    std::this_thread::sleep_for(200ms);
  }
  stop_timer();
  auto ok = systemd_->unit_state(kService, Clock::now() + 10s);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->result, "success") << ok->describe();
  EXPECT_EQ(ok->exec_main_status, 0) << ok->describe();

  const auto before = listing(backups_);
  for (const auto& [name, size] : before) {
    ASSERT_TRUE(name.starts_with("zk-backup-") && name.ends_with(".tar.zst")) << name;
    auto verify = ts::run_captured({ZKTOOL_BINARY, "verify", (backups_ / name).string()});
    EXPECT_EQ(verify.exit_code, 0) << name << ": " << verify.err;
  }

  // A data directory that is not there: the next run fails the unit.
  write_config("data-dir = " + (dir_ / "no-such-dir").string() + "\n");
  start_timer();
  auto failed = wait_for_service(
      [](const service::UnitState& s) { return s.active_state == "failed"; }, "a failed run");
  stop_timer();
  EXPECT_EQ(failed.result, "exit-code") << failed.describe();
  EXPECT_NE(failed.exec_main_status, 0) << failed.describe();
  EXPECT_EQ(listing(backups_), before) << "a failed run must leave the backups as they were";
}

}  // namespace
}  // namespace zktool
