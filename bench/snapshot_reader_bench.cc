// Snapshot reading, measured against ZooKeeper's own reader in the same run
// on the same file (issue: parse and verify at >= 1 GB/s on one core; inspect
// at most about twice the tree's size in memory).
//
//   bench-snapshot-reader --snapshot FILE --data-dir DIR [--data-log-dir DIR]
//                         --zk-tool BIN [--repeat N]
//
// zk-tool's side runs in this process on one thread: read every byte, check
// every seal, build the tree and compute its digest. ZooKeeper's side is
// SnapshotFormatter, JVM start included, as an operator would run it. Both
// read the file from the page cache (a warm-up pass runs first). inspect's
// peak RSS is its own, as GNU time reports it (bench_support.h).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench_support.h"
#include "snapshot/data_tree.h"
#include "snapshot/snapshot_file.h"
#include "support/java_runtime.h"

namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;
using Clock = std::chrono::steady_clock;
using zktool::bench::median;

struct TreeSize {
  uint64_t bytes = 0;  // paths + data + 68-byte stat per node
  uint64_t nodes = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Snapshot reading: zk-tool against ZooKeeper's SnapshotFormatter"};
  fs::path snapshot, data_dir, data_log_dir, zk_tool;
  int repeat = 5;
  app.add_option("--snapshot", snapshot, "a snapshot ZooKeeper wrote")->required();
  app.add_option("--data-dir", data_dir, "the dataDir it came from (for inspect)")->required();
  app.add_option("--data-log-dir", data_log_dir, "its dataLogDir, if apart");
  app.add_option("--zk-tool", zk_tool, "the zk-tool binary")->required();
  app.add_option("--repeat", repeat, "runs of each side (median reported)");
  CLI11_PARSE(app, argc, argv);

  uint64_t size = 0;
  TreeSize tree_size;
  std::vector<double> ours;
  for (int i = 0; i <= repeat; ++i) {  // run 0 warms the page cache
    zs::DataTree tree;
    TreeSize counted;
    auto start = Clock::now();
    zktool::Status node_status = zktool::Ok{};
    auto info = zs::read_snapshot(snapshot, [&](const zs::SnapshotNode& node) {
      counted.bytes += node.path.size() + (node.data ? node.data->size() : 0) + 68;
      ++counted.nodes;
      if (node_status) node_status = tree.add_snapshot_node(node);
    });
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!info || !node_status) {
      std::fprintf(stderr, "%s\n", info ? node_status.error().message.c_str()
                                        : info.error().message.c_str());
      return 1;
    }
    size = info->uncompressed_size;
    tree_size = counted;
    if (i > 0) ours.push_back(seconds);
  }

  std::vector<std::string> formatter = {zktool::testsupport::kJava};
  for (const std::string& o : zktool::testsupport::jvm_locale_options()) formatter.push_back(o);
  for (const std::string& o :
       zktool::testsupport::zookeeper_class_path(zktool::testsupport::kSlf4jNopJar)) {
    formatter.push_back(o);
  }
  formatter.push_back("org.apache.zookeeper.server.SnapshotFormatter");
  formatter.push_back(snapshot.string());
  std::vector<double> theirs;
  for (int i = 0; i < repeat; ++i) {
    auto run = zktool::bench::run_child(formatter, "/dev/null");
    if (!run) {
      std::fprintf(stderr, "SnapshotFormatter: %s\n", run.error().message.c_str());
      return 1;
    }
    theirs.push_back(run->seconds);
  }

  std::vector<std::string> inspect = {zk_tool.string(), "inspect", data_dir.string(), "--json"};
  if (!data_log_dir.empty()) {
    inspect.push_back("--data-log-dir");
    inspect.push_back(data_log_dir.string());
  }
  auto peak = zktool::bench::run_child(inspect, "/dev/null");
  if (!peak) {
    std::fprintf(stderr, "zk-tool inspect: %s\n", peak.error().message.c_str());
    return 1;
  }

  double mb = static_cast<double>(size) / 1e6;
  double our_s = median(ours), their_s = median(theirs);
  double tree_mib = static_cast<double>(tree_size.bytes) / (1 << 20);
  double rss_mib = peak->max_rss_mib;
  std::printf("snapshot                 %s: %.1f MB, %llu znodes\n", snapshot.c_str(), mb,
              static_cast<unsigned long long>(tree_size.nodes));
  std::printf("zk-tool parse+verify     %8.1f ms  %7.0f MB/s  (median of %d, one thread)\n",
              our_s * 1e3, mb / our_s, repeat);
  std::printf("SnapshotFormatter        %8.1f ms  %7.0f MB/s  (median of %d, JVM start included)\n",
              their_s * 1e3, mb / their_s, repeat);
  std::printf("throughput ratio         %.1fx  (zk-tool / SnapshotFormatter)\n", their_s / our_s);
  std::printf(
      "inspect peak RSS         %.1f MiB;  tree (paths + data + stat) %.1f MiB;  ratio %.2f\n",
      rss_mib, tree_mib, rss_mib / tree_mib);
  return 0;
}
