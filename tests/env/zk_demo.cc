// The README's main job, end to end on an embedded default: a local 3-node
// ZooKeeper ensemble whose nodes are units of a real systemd user manager,
// sample data written through the client API, then zk-tool as an operator
// would run it: inspect, backup, a destructive change, restore on every
// master at once, and a check that the tree is exactly what was backed up.
//
//   zk-demo --zk-tool build/src/zk-tool [--dir DIR]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cluster/systemd_ensemble.h"
#include "support/files.h"
#include "support/populate.h"
#include "support/process.h"
#include "support/tree_diff.h"
#include "support/zk_client.h"

namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;

std::string zk_tool;  // the binary

// Runs zk-tool, then prints the command line and everything it printed in
// one piece (restores run side by side).
int run(std::vector<std::string> args) {
  static std::mutex print;
  std::string text = "\n$ zk-tool";
  for (const std::string& a : args) text += " " + a;
  text += "\n";
  args.insert(args.begin(), zk_tool);
  ts::CapturedRun result = ts::run_captured(args);
  for (size_t start = 0; start < result.out.size();) {
    size_t end = std::min(result.out.find('\n', start), result.out.size());
    text += "  " + result.out.substr(start, end - start) + "\n";
    start = end + 1;
  }
  if (!result.err.empty()) text += "  " + result.err;
  text += "  [exit " + std::to_string(result.exit_code) + "]\n";
  std::lock_guard<std::mutex> lock(print);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return result.exit_code;
}

ts::ZnodeTree read_tree(const ts::SystemdEnsemble& ensemble) {
  auto client = ts::ZkClient::connect(ensemble.connect_string());
  if (!client) return {};
  (void)(*client)->add_auth("digest", ts::kVariedDigestCredentials);
  auto tree = (*client)->snapshot_tree();
  return tree ? *tree : ts::ZnodeTree{};
}

int fail(const std::string& what) {
  std::fprintf(stderr, "demo failed: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zk-tool demo on a local 3-node ZooKeeper ensemble under systemd"};
  fs::path dir;
  app.add_option("--zk-tool", zk_tool, "the zk-tool binary")->required();
  app.add_option("--dir", dir,
                 "work directory, kept afterwards (default: a new one under /tmp, removed when "
                 "the demo passes)");
  CLI11_PARSE(app, argc, argv);
  // Children are run by absolute path (nothing is looked up in PATH), whatever the caller's cwd.
  zk_tool = fs::absolute(zk_tool).lexically_normal().string();
  if (::access(zk_tool.c_str(), X_OK) != 0) return fail(zk_tool + ": not an executable");
  const bool own_dir = dir.empty();
  // Handed over at once: a demo that passes removes it at the end, one that fails leaves it.
  if (own_dir) dir = zktool::testing::TempDir("zk-tool-demo.", "/tmp").release();
  fs::create_directories(dir / "ensemble");

  std::printf("== starting 3 ZooKeeper nodes as units of a systemd user manager in %s\n",
              dir.c_str());
  ts::EnsembleConfig config;
  config.base_dir = dir / "ensemble";
  config.nodes = 3;
  config.snap_count = 1000;
  auto ensemble = ts::SystemdEnsemble::start(config);
  if (!ensemble) return fail(ensemble.error().message);
  const ts::SystemdEnsemble& zk = **ensemble;
  auto node_args = [&](size_t i) {
    return std::vector<std::string>{"--zoo-cfg", zk.zoo_cfg(i).string(), "--unit",
                                    zk.unit_name(i), "--systemd-address",
                                    zk.bus_target().address(), "--health", "zk"};
  };
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };

  std::printf("== writing sample data: every kind of znode, ACLs, a multi, 1 MB znodes\n");
  {
    auto client = ts::ZkClient::connect(zk.connect_string());
    if (!client) return fail(client.error().message);
    ts::VariedOptions options;
    options.ttl = false;
    options.bulk_znodes = 2000;
    auto data = ts::write_varied_data(**client, options);
    if (!data) return fail(data.error().message);
  }
  ts::ZnodeTree before = read_tree(zk);

  if (run(with({"status"}, {"--health", "zk", "--zoo-cfg", zk.zoo_cfg(0).string()})) != 0 ||
      run(with({"inspect"}, {"--zoo-cfg", zk.zoo_cfg(0).string()})) != 0) {
    return fail("status/inspect");
  }
  fs::path archive = dir / "backup.tar.zst";
  if (run(with({"backup", archive.string()}, node_args(0))) != 0) return fail("backup");
  if (run({"verify", archive.string()}) != 0) return fail("verify");

  std::printf("\n== a destructive change: deleting /varied/persistent and its children\n");
  {
    auto client = ts::ZkClient::connect(zk.connect_string());
    if (!client) return fail(client.error().message);
    auto children = (*client)->get_children("/varied/persistent");
    if (!children) return fail(children.error().message);
    for (const std::string& c : *children) (void)(*client)->remove("/varied/persistent/" + c);
    (void)(*client)->remove("/varied/persistent");
    auto gone = (*client)->exists("/varied/persistent");
    std::printf("  /varied/persistent exists: %s\n", gone && *gone ? "yes" : "no");
  }

  std::printf("\n== restoring every master at once (one shell per master)\n");
  std::vector<std::future<int>> restores;
  for (size_t i = 0; i < zk.size(); ++i) {
    restores.push_back(std::async(std::launch::async, [&, i] {
      return run(with({"restore", archive.string(), "--wait-timeout", "120"}, node_args(i)));
    }));
  }
  for (auto& r : restores) {
    if (r.get() != 0) return fail("restore");
  }
  run(with({"status"}, {"--health", "zk", "--zoo-cfg", zk.zoo_cfg(0).string()}));

  auto diff = ts::diff_trees(before, read_tree(zk));
  std::printf("\n== the restored tree against the tree at backup time: %s\n",
              diff.empty() ? "identical, znode by znode" : "DIFFERENT");
  for (const std::string& d : diff) std::printf("  %s\n", d.c_str());
  ensemble->reset();
  if (diff.empty() && own_dir) {
    fs::remove_all(dir);
  } else {
    std::printf("\nthe archive stays in %s\n", archive.c_str());
  }
  return diff.empty() ? 0 : 1;
}
