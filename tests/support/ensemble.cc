#include "support/ensemble.h"

#include <fstream>
#include <system_error>

#include "support/java_runtime.h"
#include "support/ports.h"

namespace zktool::testsupport {

namespace fs = std::filesystem;

namespace {

constexpr int kPortsPerNode = 3;

Status write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return make_error(ErrorKind::Io, path.string() + ": cannot write");
  return Ok{};
}

std::string zoo_cfg(const EnsembleLayout& layout, const NodeLayout& node) {
  const auto& c = layout.config;
  std::string cfg;
  auto line = [&](const std::string& key, const std::string& value) {
    cfg += key + "=" + value + "\n";
  };
  line("tickTime", std::to_string(c.tick_time_ms));
  line("initLimit", std::to_string(c.init_limit_ticks));
  line("syncLimit", std::to_string(c.sync_limit_ticks));
  line("dataDir", node.data_dir.string());
  if (c.separate_log_dir) line("dataLogDir", node.data_log_dir.string());
  line("clientPortAddress", node.host);
  line("clientPort", std::to_string(node.client_port));
  line("snapCount", std::to_string(c.snap_count));
  line("preAllocSize", std::to_string(c.pre_alloc_size_kb));
  line("autopurge.snapRetainCount", std::to_string(c.autopurge_snap_retain_count));
  line("autopurge.purgeInterval", std::to_string(c.autopurge_purge_interval_hours));
  const bool v3_4 = c.release == ZooKeeperRelease::k3_4_14;
  if (!v3_4) {  // 3.4 answers every four-letter word and has no admin server
    line("4lw.commands.whitelist", "*");
    line("admin.enableServer", "false");
  }
  // A single node without server lines runs standalone. From 3.5 on, each
  // server line names its client port too: the members listen on different
  // ports here, and tools reading this zoo.cfg (zk-tool --zoo-cfg) must find
  // them all. 3.4's server lines cannot; its members share the ports.
  if (layout.nodes.size() > 1) {
    for (const auto& peer : layout.nodes) {
      std::string server = peer.host + ":" + std::to_string(peer.peer_port) + ":" +
                           std::to_string(peer.election_port);
      if (!v3_4) server.append(";").append(peer.client_address());
      line("server." + std::to_string(peer.id), server);
    }
  }
  return cfg;
}

}  // namespace

std::string EnsembleLayout::connect_string() const {
  std::string s;
  for (const auto& node : nodes) {
    if (!s.empty()) s += ",";
    s += node.client_address();
  }
  return s;
}

Result<EnsembleLayout> plan_ensemble(EnsembleConfig config) {
  if (config.nodes != 1 && config.nodes != 3) {
    return make_error(ErrorKind::Usage,
                      "an ensemble has 1 or 3 nodes, not " + std::to_string(config.nodes));
  }
  if (config.snapshot_compression != "" && config.snapshot_compression != "gz" &&
      config.snapshot_compression != "snappy") {
    return make_error(ErrorKind::Usage, "snapshot compression is gz or snappy, not \"" +
                                            config.snapshot_compression + "\"");
  }
  if (config.release == ZooKeeperRelease::k3_4_14) {
    if (config.extended_types_enabled || !config.snapshot_compression.empty() ||
        config.container_check_interval_ms != 0) {
      return make_error(ErrorKind::Usage, "ZooKeeper 3.4.14 has no TTL or container znodes and "
                                          "no snapshot compression");
    }
    if (!zookeeper_3_4_14_jar()) {
      return make_error(ErrorKind::Usage, "no ZooKeeper 3.4.14 jar at " +
                                              zookeeper_3_4_14_jar_search());
    }
  }
  if (config.base_dir.empty()) return make_error(ErrorKind::Usage, "ensemble base_dir is empty");
  std::error_code ec;
  config.base_dir = fs::absolute(config.base_dir, ec).lexically_normal();
  if (ec) return make_error(ErrorKind::Io, config.base_dir.string() + ": " + ec.message());

  const bool shared_ports = config.release == ZooKeeperRelease::k3_4_14;
  const int ports_needed = shared_ports ? kPortsPerNode : config.nodes * kPortsPerNode;
  if (config.base_port == 0) {
    auto base = pick_base_port(ports_needed, shared_ports ? config.nodes : 1);
    if (!base) return base.error();
    config.base_port = *base;
  } else if (config.base_port < 1024 || config.base_port + ports_needed > 65536) {
    return make_error(ErrorKind::Usage,
                      "base port " + std::to_string(config.base_port) + " is out of range");
  }

  EnsembleLayout layout;
  layout.config = config;
  for (int i = 0; i < config.nodes; ++i) {
    NodeLayout node;
    node.id = i + 1;
    node.dir = config.base_dir / ("node" + std::to_string(node.id));
    node.config_file = node.dir / "zoo.cfg";
    node.data_dir = node.dir / "data";
    node.data_log_dir = config.separate_log_dir ? node.dir / "datalog" : node.data_dir;
    node.log_file = node.dir / "zookeeper.log";
    if (shared_ports) node.host = "127.0.0." + std::to_string(node.id);
    node.client_port = config.base_port + (shared_ports ? 0 : i * kPortsPerNode);
    node.peer_port = node.client_port + 1;
    node.election_port = node.client_port + 2;
    layout.nodes.push_back(node);
  }
  return layout;
}

Status write_ensemble_files(const EnsembleLayout& layout) {
  for (const auto& node : layout.nodes) {
    std::error_code ec;
    for (const auto& dir : {node.data_dir, node.data_log_dir}) {
      fs::create_directories(dir, ec);
      if (ec) return make_error(ErrorKind::Io, dir.string() + ": " + ec.message());
    }
    if (auto st = write_text(node.config_file, zoo_cfg(layout, node)); !st) return st;
    if (auto st = write_text(node.data_dir / "myid", std::to_string(node.id) + "\n"); !st) {
      return st;
    }
  }
  return Ok{};
}

std::vector<std::string> java_command(const EnsembleLayout& layout, size_t index) {
  const auto& c = layout.config;
  std::vector<std::string> argv{kJava};
  for (auto& opt : jvm_locale_options()) argv.push_back(std::move(opt));
  argv.push_back("-Dorg.slf4j.simpleLogger.showDateTime=true");
  argv.push_back("-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS");
  if (c.release == ZooKeeperRelease::k3_8) {
    argv.push_back(std::string("-Dzookeeper.extendedTypesEnabled=") +
                   (c.extended_types_enabled ? "true" : "false"));
    argv.push_back(std::string("-Dzookeeper.digest.enabled=") +
                   (c.digest_enabled ? "true" : "false"));
  }
  if (!c.snapshot_compression.empty()) {
    argv.push_back("-Dzookeeper.snapshot.compression.method=" + c.snapshot_compression);
  }
  if (c.container_check_interval_ms > 0) {
    argv.push_back("-Dznode.container.checkIntervalMs=" +
                   std::to_string(c.container_check_interval_ms));
  }
  if (c.jvm_heap_mb > 0) argv.push_back("-Xmx" + std::to_string(c.jvm_heap_mb) + "m");
  argv.insert(argv.end(), c.extra_jvm_options.begin(), c.extra_jvm_options.end());
  for (auto& part : zookeeper_class_path(kSlf4jSimpleJar, c.release)) {
    argv.push_back(std::move(part));
  }
  argv.push_back("org.apache.zookeeper.server.quorum.QuorumPeerMain");
  argv.push_back(layout.nodes.at(index).config_file.string());
  return argv;
}

}  // namespace zktool::testsupport
