// The configuration of a local ZooKeeper ensemble on 127.0.0.1 and the files
// and command line that run each node. Writing the files is separate from
// running them: LocalEnsemble (local_ensemble.h) runs each node as a child
// process, and the same zoo.cfg and java_command() can be run by a systemd
// unit instead.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/result.h"
#include "support/java_runtime.h"

namespace zktool::testsupport {

struct EnsembleConfig {
  // Which ZooKeeper runs (support/java_runtime.h). 3.4.14 nodes listen on
  // 127.0.0.<id>, each on the same three ports, as DC/OS masters do on their
  // own hosts: its zoo.cfg cannot name a member's client port, so tools find
  // every member at the one clientPort. 3.4.14 knows no TTL or container
  // znodes, digests or compressed snapshots: settings for them are refused.
  ZooKeeperRelease release = zookeeper_under_test();
  std::filesystem::path base_dir;  // one subdirectory per node is made below it
  int nodes = 3;                   // 1 (standalone) or 3
  // First of 3 consecutive ports per node (client, peer, election; for
  // 3.4.14 the one block all nodes share). 0 picks a
  // free block below the kernel's ephemeral range, starting from one derived
  // from the pid so that test binaries running in parallel do not collide.
  int base_port = 0;
  int tick_time_ms = 2000;
  int init_limit_ticks = 10;
  int sync_limit_ticks = 5;
  int snap_count = 100000;
  int pre_alloc_size_kb = 65536;
  int autopurge_snap_retain_count = 3;
  int autopurge_purge_interval_hours = 0;  // 0 never purges
  // Transaction logs in their own dataLogDir; false keeps them in dataDir.
  bool separate_log_dir = true;
  bool extended_types_enabled = false;  // needed for TTL znodes
  std::string snapshot_compression;     // "" (none), "gz" or "snappy"
  bool digest_enabled = true;
  // How often the leader reaps empty containers and expired TTL znodes;
  // 0 keeps ZooKeeper's default (one minute).
  int container_check_interval_ms = 0;
  int jvm_heap_mb = 0;  // 0 keeps the JVM's default
  std::vector<std::string> extra_jvm_options;
};

struct NodeLayout {
  int id = 0;  // myid, from 1
  std::string host = "127.0.0.1";  // what its ports listen on
  std::filesystem::path dir;
  std::filesystem::path config_file;
  std::filesystem::path data_dir;
  std::filesystem::path data_log_dir;  // equals data_dir without separate_log_dir
  std::filesystem::path log_file;      // the server's stdout and stderr
  int client_port = 0;
  int peer_port = 0;
  int election_port = 0;

  std::string client_address() const { return host + ":" + std::to_string(client_port); }
};

struct EnsembleLayout {
  EnsembleConfig config;  // with base_port resolved and base_dir absolute
  std::vector<NodeLayout> nodes;

  // "127.0.0.1:p1,127.0.0.1:p2,..." for zookeeper_init.
  std::string connect_string() const;
};

// Validates the config, resolves the ports and computes every path. Writes nothing.
Result<EnsembleLayout> plan_ensemble(EnsembleConfig config);

// Creates each node's directories and writes its zoo.cfg and myid (existing
// data in dataDir and dataLogDir is kept).
Status write_ensemble_files(const EnsembleLayout& layout);

// The command that runs node `index` (0-based): java, JVM options, class
// path, QuorumPeerMain and the node's zoo.cfg.
std::vector<std::string> java_command(const EnsembleLayout& layout, size_t index);

}  // namespace zktool::testsupport
