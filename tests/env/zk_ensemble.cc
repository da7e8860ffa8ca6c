// zk-ensemble: runs a local ZooKeeper ensemble that outlives the command, for
// demos and manual runs. State (config and pids) lives in DIR/ensemble.json.
//
//   zk-ensemble start  --dir DIR [--nodes 3] [--snap-count N] ...
//   zk-ensemble status --dir DIR
//   zk-ensemble stop   --dir DIR
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "support/local_ensemble.h"

namespace {

using zktool::testsupport::EnsembleConfig;
using zktool::testsupport::LocalEnsemble;

int fail(const zktool::Error& error) {
  std::cerr << "zk-ensemble: " << error.message << "\n";
  return 1;
}

void print_nodes(const LocalEnsemble& ensemble) {
  std::printf("connect=%s\n", ensemble.connect_string().c_str());
  for (size_t i = 0; i < ensemble.size(); ++i) {
    const auto& node = ensemble.node(i);
    std::printf("node=%d pid=%d client_port=%d data_dir=%s data_log_dir=%s log=%s\n", node.id,
                static_cast<int>(ensemble.pid(i)), node.client_port, node.data_dir.c_str(),
                node.data_log_dir.c_str(), node.log_file.c_str());
  }
}

int start(EnsembleConfig config, int timeout_s) {
  // A directory that held an ensemble before keeps its ports, so a restart
  // (after a restore, say) is reachable at the same address.
  if (auto previous = LocalEnsemble::attach(config.base_dir)) {
    for (size_t i = 0; i < (*previous)->size(); ++i) {
      if ((*previous)->running(i)) {
        return fail(zktool::make_error(
            zktool::ErrorKind::Usage,
            "an ensemble is already running in " + config.base_dir.string() + "; stop it first"));
      }
    }
    if (config.base_port == 0) config.base_port = (*previous)->layout().config.base_port;
  }
  auto ensemble = LocalEnsemble::start(config, LocalEnsemble::Lifetime::kDetached,
                                       std::chrono::seconds(timeout_s));
  if (!ensemble) return fail(ensemble.error());
  print_nodes(**ensemble);
  return 0;
}

int status(const std::string& dir) {
  auto ensemble = LocalEnsemble::attach(dir);
  if (!ensemble) return fail(ensemble.error());
  print_nodes(**ensemble);
  int healthy_nodes = 0;
  for (size_t i = 0; i < (*ensemble)->size(); ++i) {
    auto info = (*ensemble)->srvr(i);
    if (!info) {
      std::printf("node=%zu state=down (%s)\n", i + 1, info.error().message.c_str());
    } else if (!info->serving) {
      std::printf("node=%zu state=not-serving\n", i + 1);
    } else {
      ++healthy_nodes;
      std::printf("node=%zu state=serving mode=%s zxid=0x%llx node_count=%lld\n", i + 1,
                  std::string(zktool::health::to_string(info->mode)).c_str(),
                  static_cast<unsigned long long>(info->zxid),
                  static_cast<long long>(info->node_count));
    }
  }
  return healthy_nodes == static_cast<int>((*ensemble)->size()) ? 0 : 1;
}

int stop(const std::string& dir, int grace_s) {
  auto ensemble = LocalEnsemble::attach(dir);
  if (!ensemble) return fail(ensemble.error());
  if (auto st = (*ensemble)->stop_all(std::chrono::seconds(grace_s)); !st) return fail(st.error());
  std::printf("stopped the ensemble in %s\n", dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a local ZooKeeper ensemble on 127.0.0.1"};
  app.require_subcommand(1);

  EnsembleConfig config;
  std::string dir;
  int timeout_s = 90;
  int grace_s = 10;
  bool no_digest = false;
  bool single_dir = false;

  auto* start_cmd =
      app.add_subcommand("start", "write the config, start every node, wait until healthy");
  start_cmd->add_option("--dir", dir, "base directory (one subdirectory per node)")->required();
  start_cmd->add_option("--nodes", config.nodes, "1 or 3")
      ->check(CLI::IsMember({1, 3}))
      ->capture_default_str();
  start_cmd->add_option("--base-port", config.base_port, "first of 3 ports per node (0: pick)")
      ->capture_default_str();
  start_cmd->add_option("--snap-count", config.snap_count)->capture_default_str();
  start_cmd->add_option("--tick-time", config.tick_time_ms, "ms")->capture_default_str();
  start_cmd->add_option("--pre-alloc-size", config.pre_alloc_size_kb, "KiB")->capture_default_str();
  start_cmd->add_option("--autopurge-retain", config.autopurge_snap_retain_count)
      ->capture_default_str();
  start_cmd
      ->add_option("--autopurge-interval", config.autopurge_purge_interval_hours,
                   "hours (0: never)")
      ->capture_default_str();
  start_cmd->add_flag("--extended-types", config.extended_types_enabled, "allow TTL znodes");
  start_cmd->add_option("--compression", config.snapshot_compression, "snapshot compression")
      ->check(CLI::IsMember({"gz", "snappy"}));
  start_cmd->add_flag("--no-digest", no_digest, "disable ZooKeeper's tree digest");
  start_cmd->add_flag("--single-dir", single_dir, "transaction logs in dataDir");
  start_cmd->add_option("--container-check-ms", config.container_check_interval_ms,
                        "how often empty containers and expired TTL znodes are reaped");
  start_cmd->add_option("--heap-mb", config.jvm_heap_mb, "JVM heap per node");
  start_cmd->add_option("--timeout", timeout_s, "seconds to wait for health")
      ->capture_default_str();

  auto* status_cmd = app.add_subcommand("status", "show each node and its srvr state");
  status_cmd->add_option("--dir", dir)->required();

  auto* stop_cmd = app.add_subcommand("stop", "stop every node (SIGTERM, then SIGKILL)");
  stop_cmd->add_option("--dir", dir)->required();
  stop_cmd->add_option("--grace", grace_s, "seconds before SIGKILL")->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (*start_cmd) {
    config.base_dir = dir;
    config.digest_enabled = !no_digest;
    config.separate_log_dir = !single_dir;
    return start(config, timeout_s);
  }
  if (*status_cmd) return status(dir);
  return stop(dir, grace_s);
}
