// Scheduled backups end to end, as a timer runs them: the zk-tool binary
// backing up a node of a real 3-node ZooKeeper ensemble (units of a real
// systemd user manager) into a backup directory, with its options in the
// config file and the clock simulated through ZKTOOL_NOW; then retention,
// `list --json`, the metrics file, and failing runs.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../support/files.h"
#include "cluster/systemd_ensemble.h"
#include "e2e/e2e_support.h"
#include "ops/metrics.h"
#include "ops/retention.h"
#include "support/process.h"
#include "support/zk_client.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;
using namespace std::chrono_literals;
using std::chrono::sys_seconds;
using testing::read_file;
using testing::write_file;

const sys_seconds kT0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 21} + 20h;

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

class ScheduledBackup : public e2e::EnsembleTest {
 protected:
  void SetUp() override {
    make_scratch_dir("scheduled");
    backups_ = dir_ / "backups";
    fs::create_directories(backups_);
    ts::EnsembleConfig config;
    config.nodes = 3;
    config.snap_count = 500;
    start_ensemble(config);
    if (HasFatalFailure() || IsSkipped()) return;
    // What a timer's config file holds: where the backups go, how many stay,
    // where the metrics go. The node's own flags come on the command line.
    write_file(dir_ / "zk-tool.conf", "dir = " + backups_.string() +
                                          "\nkeep-last = 2\nkeep-within = 3h\n"
                                          "metrics-file = \"" +
                                          metrics_file().string() + "\"\n");
  }

  fs::path metrics_file() const { return dir_ / "zk-tool.prom"; }

  // zk-tool at simulated time `now`, with the timer's config file.
  ts::CapturedRun zk_tool_at(sys_seconds now, std::vector<std::string> args) const {
    std::vector<std::string> argv{"/usr/bin/env", "ZKTOOL_NOW=" + format_utc(now), ZKTOOL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--config", (dir_ / "zk-tool.conf").string()});
    return ts::run_captured(argv);
  }

  // `backup` of node 0, as the timer runs it, plus `extra` flags.
  ts::CapturedRun backup_at(sys_seconds now, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"backup",
                                  "--json",
                                  "--zoo-cfg",
                                  ensemble_->zoo_cfg(0).string(),
                                  "--unit",
                                  ensemble_->unit_name(0),
                                  "--systemd-address",
                                  ensemble_->bus_target().address(),
                                  "--health",
                                  "zk"};
    args.insert(args.end(), extra.begin(), extra.end());
    return zk_tool_at(now, args);
  }

  // One more znode, written through node 0 so that node 0 has applied it
  // when the call returns; the next backup of node 0 must hold it.
  void write_one(int i) {
    auto client = ts::ZkClient::connect(ensemble_->node(0).client_address());
    ASSERT_TRUE(client) << client.error().message;
    auto created = (*client)->create("/run-" + std::to_string(i), "payload");
    ASSERT_TRUE(created) << created.error().message;
  }

  BackupMetrics read_metrics() const {
    auto parsed = parse_metrics(read_file(metrics_file()), metrics_file());
    EXPECT_TRUE(parsed) << parsed.error().message;
    return parsed ? *parsed : BackupMetrics{};
  }

  fs::path backups_;
};

TEST_F(ScheduledBackup, RetentionKeepsExactlyThePolicysBackupsAndFailuresKeepThem) {
  // Files a backup directory may also hold, named like backups or not.
  const std::string garbage = backup_file_name(kT0 - 24h * 30, archive::Compression::Zstd);
  write_file(backups_ / garbage, "not an archive");
  write_file(backups_ / "README", "backups of master-1");
  const std::set<std::string> foreign{garbage, "README"};

  // Hourly runs for six hours, then one a day later: keep-within 3h keeps
  // the last four of the hourly runs, then only the day-later one, and
  // keep-last 2 also keeps the last hourly one.
  std::vector<sys_seconds> times;
  for (int h = 0; h < 6; ++h) times.push_back(kT0 + std::chrono::hours(h));
  times.push_back(kT0 + 29h);
  std::vector<int64_t> zxids;
  for (size_t run = 0; run < times.size(); ++run) {
    write_one(static_cast<int>(run));
    ts::CapturedRun r = backup_at(times[run]);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto report = nlohmann::json::parse(r.out);
    EXPECT_EQ(report["archive"],
              (backups_ / backup_file_name(times[run], archive::Compression::Zstd)).string());
    ASSERT_TRUE(report.contains("retention"));
    std::set<std::string> expected = foreign;
    for (size_t i = 0; i <= run; ++i) {
      const auto age = times[run] - times[i];
      const bool within = age <= 3h, last_two = i + 2 > run;
      if (within || last_two)
        expected.insert(backup_file_name(times[i], archive::Compression::Zstd));
    }
    ASSERT_EQ(names_in(backups_), expected) << "after run " << run;
    // The planted garbage is named like a backup: reported, never deleted.
    EXPECT_EQ(report["retention"]["left_alone"].size(), 1u) << r.out;
    BackupMetrics m = read_metrics();
    EXPECT_EQ(m.consecutive_failures, 0u);
    EXPECT_EQ(m.last_success_timestamp, times[run].time_since_epoch().count());
    EXPECT_EQ(m.last_attempt_timestamp, times[run].time_since_epoch().count());
    EXPECT_GT(m.last_size_bytes, 0u);
    EXPECT_GT(m.last_duration_seconds, 0.0);
    zxids.push_back(m.last_zxid);
    if (run > 0) {
      EXPECT_GT(zxids[run], zxids[run - 1]) << "run " << run << " missed a write";
    }
  }

  const sys_seconds listed_at = times.back() + 90min;
  ts::CapturedRun list = zk_tool_at(listed_at, {"list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto files = nlohmann::json::parse(list.out)["files"];
  ASSERT_EQ(files.size(), 4u) << list.out;
  // Newest first, each with what its manifest says.
  for (size_t i = 0; i < 2; ++i) {
    const sys_seconds t = times[times.size() - 1 - i];
    const auto& f = files[i];
    EXPECT_EQ(f["name"], backup_file_name(t, archive::Compression::Zstd));
    EXPECT_TRUE(f["backup"].get<bool>());
    EXPECT_TRUE(f["retention_managed"].get<bool>());
    EXPECT_EQ(f["time"], format_utc(t));
    EXPECT_EQ(f["age_seconds"].get<int64_t>(), (listed_at - t).count());
    EXPECT_EQ(f["size"].get<uint64_t>(),
              fs::file_size(backups_ / backup_file_name(t, archive::Compression::Zstd)));
    EXPECT_GT(f["znode_count"].get<uint64_t>(), 0u);
    EXPECT_EQ(f["proof"], expected_proof());
    char zxid[24];
    std::snprintf(zxid, sizeof zxid, "0x%llx",
                  static_cast<unsigned long long>(zxids[zxids.size() - 1 - i]));
    EXPECT_EQ(f["last_zxid"], zxid);
  }
  // The other files are listed too, each saying why it is not a backup.
  for (size_t i = 2; i < 4; ++i) {
    EXPECT_FALSE(files[i]["backup"].get<bool>()) << files[i];
    EXPECT_TRUE(foreign.count(files[i]["name"].get<std::string>())) << files[i];
    EXPECT_FALSE(files[i]["problem"].get<std::string>().empty()) << files[i];
  }
  // --verify proves each backup as `verify` does.
  ts::CapturedRun verified = zk_tool_at(listed_at, {"list", "--json", "--verify"});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  auto proven = nlohmann::json::parse(verified.out)["files"];
  EXPECT_TRUE(proven[0]["verified"].get<bool>());
  EXPECT_TRUE(proven[1]["verified"].get<bool>());

  // Two failing runs (the data directory is wrong): nothing is deleted, not
  // even by retention at a much later time, and the failures are counted.
  const std::set<std::string> before = names_in(backups_);
  const BackupMetrics good = read_metrics();
  fs::create_directories(dir_ / "empty-data");
  for (int attempt = 1; attempt <= 2; ++attempt) {
    const sys_seconds later = times.back() + 24h * 30 * attempt;
    ts::CapturedRun r = backup_at(later, {"--data-dir", (dir_ / "empty-data").string()});
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_EQ(names_in(backups_), before);
    BackupMetrics m = read_metrics();
    EXPECT_EQ(m.consecutive_failures, static_cast<uint64_t>(attempt));
    EXPECT_EQ(m.last_attempt_timestamp, later.time_since_epoch().count());
    EXPECT_EQ(m.last_success_timestamp, good.last_success_timestamp);
    EXPECT_EQ(m.last_size_bytes, good.last_size_bytes);
    EXPECT_EQ(m.last_zxid, good.last_zxid);
  }
  const std::string metrics_text = read_file(metrics_file());
  EXPECT_NE(metrics_text.find("# TYPE zktool_backup_consecutive_failures gauge\n"
                              "zktool_backup_consecutive_failures 2\n"),
            std::string::npos)
      << metrics_text;

  // The next good run resets the count.
  ts::CapturedRun recovered = backup_at(times.back() + 24h * 61);
  ASSERT_EQ(recovered.exit_code, 0) << recovered.err;
  EXPECT_EQ(read_metrics().consecutive_failures, 0u);
}

// The last good backup survives a damaged newer one: the damaged backup
// neither counts toward keep-last nor is deleted, and `list` names it.
TEST_F(ScheduledBackup, ADamagedBackupDoesNotCostTheLastGoodOne) {
  // Incompressible data, so that the archives run to several zstd blocks and
  // a damaged tail leaves the manifest at the head readable.
  {
    auto client = ts::ZkClient::connect(ensemble_->node(0).client_address());
    ASSERT_TRUE(client) << client.error().message;
    std::mt19937_64 random(13);
    for (int i = 0; i < 4; ++i) {
      std::string data(200'000, '\0');
      for (char& c : data) c = static_cast<char>(random());
      auto created = (*client)->create("/blob-" + std::to_string(i), data);
      ASSERT_TRUE(created) << created.error().message;
    }
  }
  const sys_seconds good_at = kT0, damaged_at = kT0 + 4h, now = kT0 + 8h;
  for (sys_seconds t : {good_at, damaged_at}) {
    ts::CapturedRun r = backup_at(t);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const std::string good = backup_file_name(good_at, archive::Compression::Zstd),
                    damaged = backup_file_name(damaged_at, archive::Compression::Zstd),
                    newest = backup_file_name(now, archive::Compression::Zstd);
  // Cut short, as a copy onto a full disk leaves it; the manifest still reads.
  ASSERT_GT(fs::file_size(backups_ / damaged), 500'000u);
  fs::resize_file(backups_ / damaged, fs::file_size(backups_ / damaged) - 1000);

  // keep-within 3h keeps only the newest; keep-last 2 keeps the newest two
  // good ones, so the damaged one must not take the place of the 20:00 one.
  ts::CapturedRun r = backup_at(now);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(names_in(backups_), (std::set{good, damaged, newest}));
  auto retention = nlohmann::json::parse(r.out)["retention"];
  EXPECT_EQ(retention["removed"].size(), 0u) << r.out;
  ASSERT_EQ(retention["left_alone"].size(), 1u) << r.out;
  EXPECT_NE(retention["left_alone"][0].get<std::string>().find(damaged + ": a damaged backup: "),
            std::string::npos)
      << r.out;

  ts::CapturedRun list = zk_tool_at(now, {"list", "--json"});
  EXPECT_EQ(list.exit_code, 3) << list.err;
  EXPECT_NE(list.err.find("1 backup(s) in " + backups_.string() + " are damaged"),
            std::string::npos)
      << list.err;
  std::map<std::string, nlohmann::json> by_name;
  const auto listed = nlohmann::json::parse(list.out);
  for (const auto& f : listed["files"]) by_name[f["name"]] = f;
  EXPECT_TRUE(by_name[good]["intact"].get<bool>());
  EXPECT_TRUE(by_name[good]["retention_managed"].get<bool>());
  EXPECT_FALSE(by_name[damaged]["intact"].get<bool>());
  EXPECT_FALSE(by_name[damaged]["retention_managed"].get<bool>());
  EXPECT_FALSE(by_name[damaged]["problem"].get<std::string>().empty());
  ts::CapturedRun table = zk_tool_at(now, {"list"});
  EXPECT_EQ(table.exit_code, 3);
  EXPECT_NE(table.out.find("DAMAGED"), std::string::npos) << table.out;
}

// Refusals that need no ensemble: they come before the node is looked at.
TEST(ScheduledBackupOptions, ArchiveAndDirAreExclusiveAndRetentionNeedsDir) {
  testing::TempDir dir;
  const fs::path config = dir.path() / "zk-tool.conf", metrics = dir.path() / "zk-tool.prom";
  write_file(config,
             "dir = " + dir.path().string() + "\nmetrics-file = " + metrics.string() + "\n");
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--config", config.string()});
    return e2e::zk_tool(args);
  };
  // The config file names a dir: an ARCHIVE as well is refused, not guessed.
  ts::CapturedRun both = run({"backup", (dir.path() / "one.tar.zst").string()});
  EXPECT_EQ(both.exit_code, 2) << both.err;
  EXPECT_NE(both.err.find("--dir"), std::string::npos) << both.err;
  EXPECT_FALSE(fs::exists(dir.path() / "one.tar.zst"));
  // A refused run is still an attempt the metrics count.
  auto parsed = parse_metrics(read_file(metrics), metrics);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->consecutive_failures, 1u);
  EXPECT_EQ(parsed->last_success_timestamp, 0);

  write_file(config, "metrics-file = " + metrics.string() + "\n");
  ts::CapturedRun no_dir =
      run({"backup", (dir.path() / "one.tar.zst").string(), "--keep-last", "3"});
  EXPECT_EQ(no_dir.exit_code, 2) << no_dir.err;
  EXPECT_NE(no_dir.err.find("need --dir"), std::string::npos) << no_dir.err;
  ts::CapturedRun bad_duration =
      run({"backup", "--dir", dir.path().string(), "--keep-within", "3 days"});
  EXPECT_EQ(bad_duration.exit_code, 2) << bad_duration.err;
  ts::CapturedRun list_without_dir = run({"list"});
  EXPECT_EQ(list_without_dir.exit_code, 2) << list_without_dir.err;
}

}  // namespace
}  // namespace zktool
