// Runs a ZooKeeper ensemble (ensemble.h) as local java processes: each node
// in its own process group with its output in <node dir>/zookeeper.log, and
// the pids recorded in <base dir>/ensemble.json. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "util/result.h"
#include "support/ensemble.h"
#include "health/four_letter.h"

namespace zktool::testsupport {

class LocalEnsemble {
 public:
  enum class Lifetime {
    // Nodes die with the thread that started them (SIGKILL) and are stopped
    // by the destructor: what tests want.
    kTiedToCaller,
    // Nodes outlive this object and this process; stop them with stop_all(),
    // here or after attach() in a later process.
    kDetached,
  };

  // Writes the config files, starts every node and waits until the ensemble
  // is healthy (see wait_healthy). On failure nothing is left running.
  static Result<std::unique_ptr<LocalEnsemble>> start(
      const EnsembleConfig& config, Lifetime lifetime,
      std::chrono::milliseconds timeout = std::chrono::seconds(90));

  // Takes over the detached ensemble recorded in base_dir. A recorded pid
  // that no longer runs this node's config counts as stopped.
  static Result<std::unique_ptr<LocalEnsemble>> attach(const std::filesystem::path& base_dir);

  LocalEnsemble(const LocalEnsemble&) = delete;
  LocalEnsemble& operator=(const LocalEnsemble&) = delete;
  ~LocalEnsemble();

  const EnsembleLayout& layout() const { return layout_; }
  const NodeLayout& node(size_t index) const { return layout_.nodes.at(index); }
  size_t size() const { return layout_.nodes.size(); }
  std::string connect_string() const { return layout_.connect_string(); }
  pid_t pid(size_t index) const { return pids_.at(index); }  // 0 when stopped
  bool running(size_t index) const { return pids_.at(index) != 0; }

  // `srvr` on one node.
  Result<health::SrvrInfo> srvr(size_t index) const;

  // Waits until every running node answers `srvr` with a Mode and exactly one
  // of them is leader (or standalone). Fails early, naming its log file, when
  // a node exits; Unhealthy with each node's last answer at the deadline.
  Status wait_healthy(std::chrono::milliseconds timeout = std::chrono::seconds(90));

  // Index of the node that is leader (or standalone) right now.
  Result<size_t> leader() const;

  // Starts a stopped node; call wait_healthy() to see it rejoin.
  Status start_node(size_t index);
  // SIGTERM, then SIGKILL after `grace`.
  Status stop_node(size_t index, std::chrono::milliseconds grace = std::chrono::seconds(10));
  Status stop_all(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  LocalEnsemble(EnsembleLayout layout, Lifetime lifetime, std::vector<pid_t> pids);
  Status save_record() const;

  EnsembleLayout layout_;
  Lifetime lifetime_;
  std::vector<pid_t> pids_;
};

}  // namespace zktool::testsupport
