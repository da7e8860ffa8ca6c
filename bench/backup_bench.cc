// Backup and restore of one ZooKeeper node: zk-tool against the dcos-zk
// algorithm (back up: copy the directory with cp -p, then a gzip tar with
// Python's tarfile; restore: copy the live directory aside, delete it,
// extract), in one run on the same R1 data, with the
// issue's targets beside each ratio because absolute times drift here.
//
//   bench-backup --zk-tool BIN [--znodes N] [--repeat N] [--dir DIR]
//
// A 3-node ensemble runs as units of a real systemd user manager
// (cluster/systemd_ensemble.h) with snapCount=20000; R1 is written through
// the client API; every measure is taken on one follower. zk-tool is only
// ever run as its binary, as an operator would run it. Times are medians of
// --repeat runs, interleaving the two sides; peak RSS is the highest seen.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench_support.h"
#include "cluster/systemd_ensemble.h"
#include "health/ensemble_health.h"
#include "health/four_letter.h"
#include "support/files.h"
#include "support/populate.h"
#include "support/zk_client.h"

namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;
using zktool::ErrorKind;
using zktool::Result;
using zktool::Status;
using Clock = std::chrono::steady_clock;
using zktool::bench::median;
using zktool::bench::run_child;

constexpr const char* kPython = "/usr/bin/python3";
constexpr const char* kCp = "/bin/cp";
// Often enough to see a cold backup's stop and start, seldom enough that the
// 8 calls of each sample leave systemd free for the stops and starts measured.
constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr auto kProbeTimeout = std::chrono::seconds(2);
constexpr auto kHealthPoll = std::chrono::milliseconds(200);
constexpr auto kUnitTimeout = std::chrono::seconds(60);
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kRssLimitMiB = 256;  // the bound, beyond the tree a check holds
// ZooKeeper's per-znode bookkeeping beside path and data, as bench/reader.sh counts the tree.
constexpr uint64_t kStatBytes = 68;

// dcos-zk's backup after its copy: a gzip tar rooted at ./zookeeper, without myid.
constexpr const char* kBaselineTar =
    "import sys, tarfile\n"
    "with tarfile.open(sys.argv[2], 'x:gz') as tar:\n"
    "    tar.add(sys.argv[1], arcname='./zookeeper',\n"
    "            filter=lambda info: None if 'myid' in info.name else info)\n";
// dcos-zk's restore after moving the live data aside.
constexpr const char* kBaselineExtract =
    "import sys, tarfile\n"
    "with tarfile.open(sys.argv[1], 'r:gz') as tar:\n"
    "    tar.extractall(sys.argv[2])\n";

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double highest(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

struct DiskUsage {
  uint64_t apparent = 0;
  uint64_t allocated = 0;
  size_t snapshots = 0;
  size_t logs = 0;
};

// Every regular file below `roots`; sizes as stat reports them.
DiskUsage disk_usage(const std::vector<fs::path>& roots) {
  DiskUsage usage;
  for (const fs::path& root : roots) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      struct stat st {};
      if (!it->is_regular_file(ec) || ::lstat(it->path().c_str(), &st) != 0) continue;
      usage.apparent += static_cast<uint64_t>(st.st_size);
      usage.allocated += static_cast<uint64_t>(st.st_blocks) * 512;
      const std::string name = it->path().filename().string();
      if (name.starts_with("snapshot.")) ++usage.snapshots;
      if (name.starts_with("log.")) ++usage.logs;
    }
  }
  return usage;
}

uint64_t size_of(const fs::path& file) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  return ec ? 0 : size;
}

// Samples one unit's ActiveState every 20 ms on its own connection and sums
// the time it is seen other than "active". A failed sample keeps the last
// state: it is no evidence either way.
class DowntimeWatch {
 public:
  static Result<std::unique_ptr<DowntimeWatch>> start(const zktool::service::BusTarget& bus,
                                                      std::string unit) {
    auto systemd = zktool::service::ServiceManager::connect(bus);
    if (!systemd) return systemd.error();
    std::unique_ptr<DowntimeWatch> watch(new DowntimeWatch(std::move(unit)));
    std::promise<void> sampled;
    auto first_sample = sampled.get_future();
    watch->thread_ = std::jthread(
        [w = watch.get(), s = std::move(systemd).value(), p = std::move(sampled)](
            std::stop_token stop) mutable { w->poll(stop, s, p); });
    // Only then may the measured action begin, or its first moments go unseen.
    first_sample.wait();
    return watch;
  }

  // Seconds not active since start().
  double finish() {
    thread_.request_stop();
    thread_.join();
    return down_seconds_;
  }

 private:
  explicit DowntimeWatch(std::string unit) : unit_(std::move(unit)) {}

  void poll(std::stop_token stop, zktool::service::ServiceManager& systemd,
            std::promise<void>& sampled) {
    bool down = false;
    Clock::time_point down_since;
    for (bool first = true; !stop.stop_requested(); first = false) {
      const auto now = Clock::now();
      auto state = systemd.unit_state(unit_, now + std::chrono::seconds(1));
      if (state) {
        const bool active = state->active_state == "active";
        if (!active && !down) down_since = now;
        if (active && down) {
          down_seconds_ += std::chrono::duration<double>(now - down_since).count();
        }
        down = !active;
      }
      if (first) sampled.set_value();
      std::this_thread::sleep_until(now + kPollInterval);
    }
    if (down) down_seconds_ += seconds_since(down_since);
  }

  std::string unit_;
  double down_seconds_ = 0;  // written by the thread, read after join
  std::jthread thread_;
};

// One side's figures over the runs.
struct Series {
  std::vector<double> seconds, downtime, rss_mib;
  std::vector<double> bytes;  // archive size or bytes written

  void add(double s, double down, double rss, double b) {
    seconds.push_back(s);
    downtime.push_back(down);
    rss_mib.push_back(rss);
    bytes.push_back(b);
  }
};

class Bench {
 public:
  Bench(ts::SystemdEnsemble& zk, size_t node, fs::path zk_tool, fs::path dir,
        std::chrono::seconds healthy_timeout)
      : zk_(zk),
        node_(node),
        zk_tool_(std::move(zk_tool)),
        dir_(std::move(dir)),
        log_(dir_ / "bench.log"),
        healthy_timeout_(healthy_timeout) {}

  fs::path baseline_archive() const { return dir_ / "dcos-zk.tar.gz"; }
  fs::path archive(bool cold) const { return dir_ / (cold ? "cold.tar.zst" : "hot.tar.zst"); }
  fs::path encrypted_archive() const { return dir_ / "hot.tar.zst.enc"; }
  fs::path key_file() const { return dir_ / "archive.key"; }

  Status make_key() {
    fs::remove(key_file());
    auto run = run_child({zk_tool_.string(), "keygen", key_file().string()}, log_);
    return run ? Status(zktool::Ok{}) : Status(run.error());
  }

  // cp -p -r of the node's directories, the gzip tar, the copy removed, with
  // the unit stopped around it as dcos-zk requires. Time: copy to removal.
  Status baseline_backup(Series& out) {
    fs::remove(baseline_archive());
    const fs::path copy = dir_ / "dcos-zk-backup";
    fs::create_directories(copy / "zookeeper");
    auto watch = watch_unit();
    if (!watch) return watch.error();
    if (auto st = control_unit(true); !st) return st.error();
    const auto start = Clock::now();
    auto data = run_child({kCp, "-p", "-r", node().data_dir.string(),
                           (copy / "zookeeper" / "snapshot").string()}, log_);
    if (!data) return data.error();
    auto logs = run_child({kCp, "-p", "-r", node().data_log_dir.string(),
                           (copy / "zookeeper" / "transactions").string()}, log_);
    if (!logs) return logs.error();
    auto tar = run_child({kPython, "-c", kBaselineTar, (copy / "zookeeper").string(),
                          baseline_archive().string()}, log_);
    if (!tar) return tar.error();
    fs::remove_all(copy);
    const double seconds = seconds_since(start);
    if (auto st = control_unit(false); !st) return st.error();
    out.add(seconds, (*watch)->finish(), std::max({data->max_rss_mib, logs->max_rss_mib,
                                                   tar->max_rss_mib}),
            static_cast<double>(size_of(baseline_archive())));
    return wait_healthy();
  }

  Status zk_tool_backup(bool cold, Series& out) {
    fs::remove(archive(cold));
    std::vector<std::string> args = {zk_tool_.string(), "backup", archive(cold).string()};
    if (cold) args.push_back("--cold");
    auto watch = watch_unit();
    if (!watch) return watch.error();
    auto run = run_child(with_node_flags(std::move(args)), log_);
    const double down = (*watch)->finish();
    if (!run) return run.error();
    out.add(run->seconds, down, run->max_rss_mib, static_cast<double>(size_of(archive(cold))));
    return wait_healthy();
  }

  // The unit's own stop and start, as the poll sees them.
  Status unit_stop_start(Series& out) {
    auto watch = watch_unit();
    if (!watch) return watch.error();
    if (auto st = control_unit(true); !st) return st.error();
    if (auto st = control_unit(false); !st) return st.error();
    const double down = (*watch)->finish();
    out.add(down, down, 0, 0);
    return wait_healthy();
  }

  // A hot backup sealed with key_file() (make_key() first).
  Status zk_tool_encrypted_backup(Series& out) {
    fs::remove(encrypted_archive());
    auto run = run_child(with_node_flags({zk_tool_.string(), "backup", encrypted_archive().string(),
                                          "--encrypt-key-file", key_file().string()}),
                         log_);
    if (!run) return run.error();
    out.add(run->seconds, 0, run->max_rss_mib, static_cast<double>(size_of(encrypted_archive())));
    return wait_healthy();
  }

  Status zk_tool_verify(Series& out, bool encrypted = false) {
    std::vector<std::string> args = {zk_tool_.string(), "verify",
                                     (encrypted ? encrypted_archive() : archive(false)).string(),
                                     "--staging-dir", dir_.string()};
    if (encrypted) args.insert(args.end(), {"--encrypt-key-file", key_file().string()});
    auto run = run_child(args, log_);
    if (!run) return run.error();
    out.add(run->seconds, 0, run->max_rss_mib, 0);
    return zktool::Ok{};
  }

  // dcos-zk's restore: the live directories copied aside (cp -a) and
  // deleted, the archive extracted (its ./zookeeper/snapshot and
  // transactions become dataDir and dataLogDir, with the node's myid put
  // back as Exhibitor would), the copy removed. Timed from the stop to the
  // started unit, like zk-tool restore --no-wait.
  Status baseline_restore(Series& out) {
    const fs::path aside = dir_ / "dcos-zk-restore";
    const fs::path extract = node().dir / "dcos-zk-extract";
    auto watch = watch_unit();
    if (!watch) return watch.error();
    const auto start = Clock::now();
    if (auto st = control_unit(true); !st) return st.error();
    fs::create_directories(aside);
    for (const auto& [live, name] : live_dirs()) {
      auto copied = run_child({kCp, "-a", live.string(), (aside / name).string()}, log_);
      if (!copied) return copied.error();
      fs::remove_all(live);
    }
    auto extracted = run_child({kPython, "-c", kBaselineExtract, baseline_archive().string(),
                                extract.string()}, log_);
    if (!extracted) return extracted.error();
    for (const auto& [live, name] : live_dirs()) fs::rename(extract / "zookeeper" / name, live);
    fs::copy_file(aside / "snapshot" / "myid", node().data_dir / "myid");
    fs::remove_all(aside);
    fs::remove_all(extract);
    if (auto st = control_unit(false); !st) return st.error();
    const double seconds = seconds_since(start);
    out.add(seconds, (*watch)->finish(), extracted->max_rss_mib, restored_bytes());
    return wait_healthy();
  }

  // Leaves the node on a restore generation of its own, which it will not
  // serve with the other two (src/ops/epoch.h): putting the saved live data back
  // puts the old epochs back.
  Status zk_tool_restore(Series& out) {
    auto args = with_node_flags(
        {zk_tool_.string(), "restore", archive(false).string(), "--no-wait"});
    auto watch = watch_unit();
    if (!watch) return watch.error();
    auto run = run_child(args, log_);
    const double down = (*watch)->finish();
    if (!run) return run.error();
    out.add(run->seconds, down, run->max_rss_mib, restored_bytes());
    // What the restore moved aside stays for the operator; the next run needs the room.
    for (const auto& [live, name] : live_dirs()) {
      for (const auto& entry : fs::directory_iterator(live)) {
        if (entry.path().filename().string().starts_with("version-2.pre-restore-")) {
          fs::remove_all(entry.path());
        }
      }
    }
    return zktool::Ok{};
  }

  // Both restores start from the same live data, the node's files as the
  // backups left them (every snapshot and log), put back untimed before each
  // one: restoring over the few files a zk-tool restore leaves would flatter
  // dcos-zk, which copies the live directories aside first.
  Status save_live_data() {
    return with_unit_stopped([&]() -> Status {
      fs::create_directories(saved_live());
      for (const auto& [live, name] : live_dirs()) {
        auto copied = run_child({kCp, "-a", live.string(), (saved_live() / name).string()}, log_);
        if (!copied) return copied.error();
      }
      return zktool::Ok{};
    });
  }

  Status put_back_live_data() {
    return with_unit_stopped([&]() -> Status {
      for (const auto& [live, name] : live_dirs()) {
        fs::remove_all(live);
        auto copied = run_child({kCp, "-a", (saved_live() / name).string(), live.string()}, log_);
        if (!copied) return copied.error();
      }
      return zktool::Ok{};
    });
  }

 private:
  const ts::NodeLayout& node() const { return zk_.node(node_); }

  // Every node serving and one leading, asked of the nodes themselves: the
  // fixture's own wait reads unit states over its long-lived connection,
  // which this process leaves unread while a step runs.
  Status wait_healthy() const {
    std::vector<zktool::health::Endpoint> members;
    for (size_t i = 0; i < zk_.size(); ++i) {
      members.push_back({"127.0.0.1", zk_.node(i).client_port});
    }
    const zktool::health::HealthProbe probe = [&]() -> Result<zktool::health::EnsembleHealth> {
      return zktool::health::probe_direct(members, kProbeTimeout);
    };
    auto health =
        zktool::health::wait_until_healthy(probe, Clock::now() + healthy_timeout_, kHealthPoll);
    if (!health) return health.error();
    if (!health->healthy()) {
      return zktool::make_error(ErrorKind::Unhealthy,
                                "ensemble in " + zk_.layout().config.base_dir.string() +
                                    " not healthy after " +
                                    std::to_string(healthy_timeout_.count()) +
                                    " s: " + health->summary());
    }
    return zktool::Ok{};
  }

  Status with_unit_stopped(const std::function<Status()>& step) {
    if (auto st = control_unit(true); !st) return st.error();
    Status done = step();
    if (auto st = control_unit(false); !st) return st.error();
    if (!done) return done;
    return wait_healthy();
  }

  fs::path saved_live() const { return dir_ / "live-data"; }

  // Each live directory with its name under dcos-zk's ./zookeeper.
  std::vector<std::pair<fs::path, std::string>> live_dirs() const {
    return {{node().data_dir, "snapshot"}, {node().data_log_dir, "transactions"}};
  }

  // What a restore wrote: the version-2 directories now live.
  double restored_bytes() const {
    return static_cast<double>(
        disk_usage({node().data_dir / "version-2", node().data_log_dir / "version-2"}).allocated);
  }

  std::vector<std::string> with_node_flags(std::vector<std::string> args) const {
    for (const std::string& a : {std::string("--zoo-cfg"), zk_.zoo_cfg(node_).string(),
                                 std::string("--unit"), zk_.unit_name(node_),
                                 std::string("--systemd-address"), zk_.bus_target().address(),
                                 std::string("--health"), std::string("zk")}) {
      args.push_back(a);
    }
    return args;
  }

  // On a connection of its own: the fixture's long-lived one is subscribed to
  // every signal of the manager and, left unread while a step runs, makes a
  // stop or start wait behind the backlog.
  Result<zktool::service::UnitState> control_unit(bool stop) {
    auto systemd = zktool::service::ServiceManager::connect(zk_.bus_target());
    if (!systemd) return systemd.error();
    const auto deadline = Clock::now() + kUnitTimeout;
    return stop ? systemd->stop_unit(zk_.unit_name(node_), deadline)
                : systemd->start_unit(zk_.unit_name(node_), deadline);
  }

  Result<std::unique_ptr<DowntimeWatch>> watch_unit() {
    return DowntimeWatch::start(zk_.bus_target(), zk_.unit_name(node_));
  }

  ts::SystemdEnsemble& zk_;
  size_t node_;
  fs::path zk_tool_;
  fs::path dir_;
  fs::path log_;
  std::chrono::seconds healthy_timeout_;
};

// ZooKeeper's own figures for the tree: (znodes, approximate data size),
// the latter being the bytes of every path and data.
Result<std::pair<uint64_t, uint64_t>> mntr_tree(const ts::NodeLayout& node) {
  auto reply = zktool::health::four_letter_word("127.0.0.1", node.client_port, "mntr",
                                                std::chrono::seconds(5));
  if (!reply) return reply.error();
  auto value = [&](const std::string& key) -> std::optional<uint64_t> {
    auto at = reply->find(key + "\t");
    if (at == std::string::npos) return std::nullopt;
    return std::stoull(reply->substr(at + key.size() + 1));
  };
  auto znodes = value("zk_znode_count");
  auto bytes = value("zk_approximate_data_size");
  if (!znodes || !bytes) {
    return zktool::make_error(ErrorKind::Unhealthy,
                              node.client_address() + ": mntr lacks the znode count or data size");
  }
  return std::make_pair(*znodes, *bytes);
}

std::string mib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / kMiB);
  return buf;
}

std::string secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", s);
  return buf;
}

std::string fixed(const char* format, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

struct Row {
  std::string measure, ours, theirs, ratio, target;
  std::optional<bool> met;  // none: no target
};

void print_table(const std::vector<Row>& rows) {
  std::printf("\n%-26s %-14s %-14s %-10s %-34s %s\n", "measure", "zk-tool", "dcos-zk", "ratio",
              "target", "met");
  for (const Row& r : rows) {
    std::printf("%-26s %-14s %-14s %-10s %-34s %s\n", r.measure.c_str(), r.ours.c_str(),
                r.theirs.c_str(), r.ratio.c_str(), r.target.c_str(),
                !r.met ? "" : *r.met ? "yes" : "NO");
  }
}

int fail(const std::string& what) {
  std::fprintf(stderr, "bench-backup: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Backup and restore of one ZooKeeper node: zk-tool against dcos-zk, on R1"};
  fs::path zk_tool, dir;
  ts::R1Options r1;
  int repeat = 3;
  app.add_option("--zk-tool", zk_tool, "the zk-tool binary")->required()->check(CLI::ExistingFile);
  app.add_option("--znodes", r1.znodes, "R1 data znodes of 1 KiB")->capture_default_str();
  app.add_option("--repeat", repeat, "runs of each measure (median reported)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--dir", dir, "work directory (default: a new one under /tmp, then removed)");
  CLI11_PARSE(app, argc, argv);
  const auto bench_start = Clock::now();
  zk_tool = fs::absolute(zk_tool);
  const bool own_dir = dir.empty();
  // Handed over at once: a bench that finishes removes it at the end, one that fails leaves it.
  if (own_dir) dir = zktool::testing::TempDir("zk-tool-bench-backup.", "/tmp").release();
  dir = fs::absolute(dir);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens
  fs::create_directories(dir / "ensemble");

  // Loading and syncing a larger tree takes longer: give ZooKeeper and the waits room.
  const auto scale = static_cast<int>(r1.znodes / 100000);
  ts::EnsembleConfig config;
  config.base_dir = dir / "ensemble";
  config.nodes = 3;
  config.snap_count = 20000;
  config.init_limit_ticks = 10 + 2 * scale;
  config.sync_limit_ticks = 5 + scale;
  config.jvm_heap_mb = 1024 + 400 * scale;
  const std::chrono::seconds healthy_timeout(120 + 30 * scale);
  std::printf("== 3 ZooKeeper nodes as systemd units, snapCount=20000, in %s\n", dir.c_str());
  auto ensemble = ts::SystemdEnsemble::start(config, healthy_timeout);
  if (!ensemble) return fail(ensemble.error().message);
  ts::SystemdEnsemble& zk = **ensemble;

  {
    auto client = ts::ZkClient::connect(zk.connect_string());
    if (!client) return fail(client.error().message);
    const auto start = Clock::now();
    auto summary = ts::write_r1_data(**client, r1);
    if (!summary) return fail(summary.error().message);
    std::printf("R1 written in %.1f s: %zu znodes of %zu bytes under 4 trees (%zu parents), "
                "%zu updated\n",
                seconds_since(start), summary->znodes, r1.data_size, summary->parents,
                summary->updates);
  }
  size_t node = 0;
  for (size_t i = 0; i < zk.size(); ++i) {
    auto info = zk.node_srvr(i);
    if (info && info->serving && !info->leads()) node = i;
  }
  auto tree = mntr_tree(zk.node(node));
  if (!tree) return fail(tree.error().message);
  // What a check holds in memory: every path and data plus a stat each.
  const double tree_bytes = static_cast<double>(tree->second + kStatBytes * tree->first);
  const DiskUsage files = disk_usage({zk.node(node).data_dir, zk.node(node).data_log_dir});
  std::printf("node %s (a follower): %llu znodes; %zu snapshots, %zu logs; files %s apparent, "
              "%s allocated; tree in memory %s\n",
              zk.unit_name(node).c_str(), static_cast<unsigned long long>(tree->first),
              files.snapshots, files.logs, mib(static_cast<double>(files.apparent)).c_str(),
              mib(static_cast<double>(files.allocated)).c_str(), mib(tree_bytes).c_str());

  Bench bench(zk, node, zk_tool, dir, healthy_timeout);
  Series baseline, hot, cold, stop_start, verify, baseline_restore, restore;
  Series hot_encrypted, verify_encrypted;
  if (auto st = bench.make_key(); !st) return fail(st.error().message);
  // Each step prints its time as it ends; the sides interleave, so drift hits both.
  using Step = std::function<Status()>;
  auto timed = [](const char* name, const Series& series, const Step& step) -> Step {
    return [name, &series, step]() -> Status {
      if (auto st = step(); !st) return zktool::make_error(st.error().kind,
                                                           std::string(name) + ": " +
                                                               st.error().message);
      std::printf(" %s %.2f s;", name, series.seconds.back());
      std::fflush(stdout);
      return zktool::Ok{};
    };
  };
  auto run_all = [&](const char* phase, const std::vector<Step>& steps) -> Status {
    for (int r = 1; r <= repeat; ++r) {
      std::printf("== %s, run %d of %d:", phase, r, repeat);
      for (const Step& step : steps) {
        if (auto st = step(); !st) return st;
      }
      std::printf("\n");
    }
    return zktool::Ok{};
  };
  // Backups first: each zk-tool restore leaves the node on a restore
  // generation of its own, which only putting the saved data back undoes.
  Status done = run_all(
      "backup",
      {timed("dcos-zk", baseline, [&] { return bench.baseline_backup(baseline); }),
       timed("hot", hot, [&] { return bench.zk_tool_backup(false, hot); }),
       timed("hot encrypted", hot_encrypted,
             [&] { return bench.zk_tool_encrypted_backup(hot_encrypted); }),
       timed("cold", cold, [&] { return bench.zk_tool_backup(true, cold); }),
       timed("unit stop+start", stop_start, [&] { return bench.unit_stop_start(stop_start); }),
       timed("verify", verify, [&] { return bench.zk_tool_verify(verify); }),
       timed("verify encrypted", verify_encrypted,
             [&] { return bench.zk_tool_verify(verify_encrypted, true); })});
  if (done) done = bench.save_live_data();
  if (done) {
    auto from_saved_live_data = [&](const Step& restore_step) -> Step {
      return [&bench, restore_step]() -> Status {
        if (auto st = bench.put_back_live_data(); !st) return st;
        return restore_step();
      };
    };
    done = run_all(
        "restore",
        {timed("dcos-zk", baseline_restore, from_saved_live_data([&] {
                 return bench.baseline_restore(baseline_restore);
               })),
         timed("zk-tool", restore,
               from_saved_live_data([&] { return bench.zk_tool_restore(restore); }))});
  }
  if (!done) return fail(done.error().message);

  const double base_s = median(baseline.seconds), base_down = median(baseline.downtime);
  const double base_size = median(baseline.bytes), unit_s = median(stop_start.downtime);
  const double tree_mib = tree_bytes / kMiB;
  auto speedup = [&](const Series& ours, double theirs, double goal, const char* measure) {
    const double ratio = theirs / median(ours.seconds);
    return Row{measure, secs(median(ours.seconds)), secs(theirs), fixed("%.1fx", ratio),
               fixed(">= %.0fx faster", goal), ratio >= goal};
  };
  auto memory = [&](const Series& ours, const char* measure) {
    const double rss = highest(ours.rss_mib);
    return Row{measure, fixed("%.1f MiB", rss), "", "",
               fixed("< 256 MiB + tree (%.1f MiB)", tree_mib), rss - tree_mib < kRssLimitMiB};
  };
  std::vector<Row> rows;
  rows.push_back(speedup(hot, base_s, 15, "backup time, hot"));
  rows.push_back(speedup(cold, base_s, 15, "backup time, cold"));
  const double size_ratio = median(hot.bytes) / base_size;
  rows.push_back({"archive size (hot)", mib(median(hot.bytes)), mib(base_size),
                  fixed("%.3f", size_ratio), "<= 1/3 of dcos-zk's", size_ratio <= 1.0 / 3});
  rows.push_back({"archive size (cold)", mib(median(cold.bytes)), mib(base_size),
                  fixed("%.3f", median(cold.bytes) / base_size), "", std::nullopt});
  rows.push_back({"node downtime, hot", secs(median(hot.downtime)), secs(base_down), "", "0 s",
                  median(hot.downtime) == 0});
  const double cold_down = median(cold.downtime);
  rows.push_back({"node downtime, cold", secs(cold_down), secs(base_down), "",
                  fixed("<= stop+start (%.3f s) + 1 s", unit_s), cold_down <= unit_s + 1});
  rows.push_back({"  beyond stop+start", secs(cold_down - unit_s), secs(base_down - unit_s), "",
                  "<= 1 s", cold_down - unit_s <= 1});
  // The data directory's part: each restore less the unit's own stop and
  // start (measured above), which both wait for alike.
  const double base_restore = median(baseline_restore.seconds);
  const double data_ratio = (base_restore - unit_s) / (median(restore.seconds) - unit_s);
  rows.push_back({"restore, data directory", secs(median(restore.seconds) - unit_s),
                  secs(base_restore - unit_s), fixed("%.1fx", data_ratio), ">= 5x faster",
                  data_ratio >= 5});
  rows.push_back({"restore, end to end", secs(median(restore.seconds)), secs(base_restore),
                  fixed("%.1fx", base_restore / median(restore.seconds)), "", std::nullopt});
  rows.push_back({"node downtime, restore", secs(median(restore.downtime)),
                  secs(median(baseline_restore.downtime)), "", "", std::nullopt});
  rows.push_back({"restore bytes written", mib(median(restore.bytes)),
                  mib(median(baseline_restore.bytes)),
                  fixed("%.3f", median(restore.bytes) / median(baseline_restore.bytes)), "",
                  std::nullopt});
  rows.push_back({"verify time (hot archive)", secs(median(verify.seconds)), "", "", "",
                  std::nullopt});
  // Encryption against the same backup without it, in the same runs.
  const double sealing = median(hot_encrypted.seconds) / median(hot.seconds) - 1;
  rows.push_back({"backup hot, encrypted", secs(median(hot_encrypted.seconds)),
                  secs(median(hot.seconds)) + " (plain)", fixed("%+.1f%%", 100 * sealing),
                  "<= +10% of plain", sealing <= 0.10});
  rows.push_back({"verify, encrypted", secs(median(verify_encrypted.seconds)),
                  secs(median(verify.seconds)) + " (plain)",
                  fixed("%+.1f%%", 100 * (median(verify_encrypted.seconds) / median(verify.seconds) - 1)),
                  "", std::nullopt});
  rows.push_back({"archive size, encrypted", mib(median(hot_encrypted.bytes)),
                  mib(median(hot.bytes)) + " (plain)",
                  fixed("%.4f", median(hot_encrypted.bytes) / median(hot.bytes)), "", std::nullopt});
  rows.push_back(memory(hot, "peak RSS, backup hot"));
  rows.push_back(memory(cold, "peak RSS, backup cold"));
  rows.push_back(memory(verify, "peak RSS, verify"));
  rows.push_back(memory(restore, "peak RSS, restore"));
  print_table(rows);
  std::printf("\nmedians of %d runs (peak RSS: the highest); dcos-zk backup = cp -p -r + Python "
              "tarfile gzip with the unit stopped around it; restore end to end = zk-tool's run "
              "(proof, stop, swap, start) against dcos-zk's stop to started unit; the data "
              "directory's part = that less the unit's own stop+start; downtime sampled every 20 ms over D-Bus; dcos-zk peak RSS: backup "
              "%.1f MiB, restore %.1f MiB\n",
              repeat, highest(baseline.rss_mib), highest(baseline_restore.rss_mib));
  std::printf("whole bench: %.1f s\n", seconds_since(bench_start));
  ensemble->reset();
  if (own_dir) fs::remove_all(dir);
  return 0;
}
