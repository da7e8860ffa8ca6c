// The ZooKeeper node a command acts on: where its data lives, the systemd unit
// that runs it, the bus to reach systemd on, and the ensemble around it. The
// same flags serve backup, restore and rollback, and can all come from the
// config file instead (same names, see main.cc).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "health/ensemble_health.h"
#include "health/exhibitor_access.h"
#include "service/service_manager.h"
#include "ops/service_options.h"
#include "snapshot/data_dir.h"

namespace zktool {

inline constexpr const char* kDcosZooKeeperDir = "/var/lib/dcos/exhibitor/zookeeper";
inline constexpr const char* kDcosUnit = "dcos-exhibitor.service";

struct NodeOptions {
  NodeOptions() { service.unit = kDcosUnit; }

  std::optional<std::filesystem::path> data_dir;
  std::optional<std::filesystem::path> data_log_dir;
  std::optional<std::filesystem::path> zoo_cfg;
  ServiceOptions service;
  // Where this node's client port listens: default zoo.cfg's clientPortAddress
  // (a wildcard one is reached on loopback), else 127.0.0.1.
  std::optional<std::string> host;
  std::optional<int> client_port;             // default: zoo.cfg's, else 2181
  std::string health = "exhibitor";           // or "zk": four-letter words to zoo.cfg members
  health::ExhibitorOptions exhibitor;       // read only with health "exhibitor"
};

struct Node {
  snapshot::DataDirs dirs;            // the live version-2 directories
  std::filesystem::path data_dir;     // ZooKeeper's dataDir: holds version-2/ and myid
  std::filesystem::path data_log_dir; // its dataLogDir (may equal data_dir)
  std::string unit;
  service::BusTarget bus = service::BusTarget::system();
  health::Endpoint local;
  std::vector<health::Endpoint> members;  // from zoo.cfg; empty when unknown
  std::string health;
  health::ExhibitorEndpoint exhibitor;
  std::chrono::seconds stop_timeout{120};
  std::chrono::seconds start_timeout{120};

  // One probe of the ensemble from the configured source.
  Result<health::EnsembleHealth> probe(std::chrono::milliseconds timeout) const;
  // srvr on this node's own client port.
  health::MemberHealth probe_self(std::chrono::milliseconds timeout) const;
  // Stops the unit and confirms, as safety rule 6 asks, that it is inactive with
  // MainPID 0 (ServiceManager) and that nothing answers on the client port.
  Status stop(service::ServiceManager& systemd) const;
};

Result<Node> resolve_node(const NodeOptions& options);

}  // namespace zktool
