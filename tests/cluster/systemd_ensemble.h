// A real ZooKeeper ensemble (support/ensemble.h) whose nodes run as units
// zk-node<id>.service of a real systemd user manager (systemd/user_manager.h),
// watched by an Exhibitor status endpoint probing the live nodes
// (exhibitor/exhibitor_fixture.h): what zk-tool's backup and restore drive in
// integration tests. Needs root. Not thread-safe; one per test.
//
// Units are controlled over the manager's private socket (bus_target()), the
// way zk-tool controls them, so the fixture sees what zk-tool did to a unit
// and vice versa. The files under the base directory are left for the caller.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"
#include "exhibitor/exhibitor_fixture.h"
#include "health/four_letter.h"
#include "service/service_manager.h"
#include "support/ensemble.h"
#include "systemd/user_manager.h"

namespace zktool::testsupport {

class SystemdEnsemble {
 public:
  // Writes the nodes' files under config.base_dir (existing data is kept),
  // starts a manager, one unit per node and the Exhibitor endpoint, and waits
  // up to `timeout` until every node serves and one leads. On failure nothing
  // is left running; the error names each unit's state and log file.
  static Result<std::unique_ptr<SystemdEnsemble>> start(
      const EnsembleConfig& config, std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // Stops every unit, then the manager (which kills whatever is left).
  ~SystemdEnsemble();
  SystemdEnsemble(const SystemdEnsemble&) = delete;
  SystemdEnsemble& operator=(const SystemdEnsemble&) = delete;

  const EnsembleLayout& layout() const { return layout_; }
  size_t size() const { return layout_.nodes.size(); }
  const NodeLayout& node(size_t index) const { return layout_.nodes.at(index); }
  const std::filesystem::path& zoo_cfg(size_t index) const { return node(index).config_file; }
  std::string connect_string() const { return layout_.connect_string(); }
  // "zk-node<id>.service".
  std::string unit_name(size_t index) const;

  // The manager's private socket (BusTarget::Kind::Direct with its address):
  // what zk-tool's bus option must name to control these units.
  service::BusTarget bus_target() const;
  // GET it for Exhibitor's cluster status of the nodes, probed per request.
  std::string exhibitor_url() const { return exhibitor_->status_url(); }
  // For fault modes (set_mode) and request counts.
  ExhibitorFixture& exhibitor() { return *exhibitor_; }
  // For its log() and for helper units of a test's own.
  const UserManager& user_manager() const { return *manager_; }

  // Over D-Bus, as ServiceManager confirms them: a stop leaves the unit
  // inactive or failed with MainPID 0; a start returns once the JVM is
  // forked, so only wait_healthy() or node_srvr() proves it serves.
  Result<service::UnitState> stop_unit(
      size_t index, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  Result<service::UnitState> start_unit(
      size_t index, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  Result<service::UnitState> unit_state(size_t index);
  // Every unit, in parallel; the first error, after trying them all.
  Status stop_all(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  Status start_all(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Rewrites node `index`'s unit with `extra_service_lines` (each ending in a
  // newline) last in [Service], e.g. "KillSignal=SIGCONT\n" to make it ignore
  // the stop signal or "ExecStartPre=/bin/false\n" to make it fail to start,
  // and reloads the manager. A running node keeps running; the new settings
  // govern its next stop and start. Empty lines restore the standard unit.
  Status replace_unit(size_t index, std::string_view extra_service_lines = {});

  // Waits until the nodes whose units are active all serve and exactly one
  // leads, and those nodes are a majority. Nodes whose units are inactive or
  // failed are left out, so this also holds with one node stopped. Fails at
  // once, naming the unit's state and its log file, when a unit seen active
  // stops during the wait or too few units run to make a quorum; Unhealthy
  // with every node's state at the deadline.
  Status wait_healthy(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // `srvr` on one node's client port.
  Result<health::SrvrInfo> node_srvr(size_t index) const;

 private:
  SystemdEnsemble(EnsembleLayout layout, std::unique_ptr<UserManager> manager,
                  service::ServiceManager services);
  // Writes the unit file; the manager sees it after a reload.
  Status write_node_unit(size_t index, std::string_view extra_service_lines);
  // Runs the stop or start job of every unit at once, one connection each.
  Status on_every_unit(bool stop, std::chrono::milliseconds timeout);
  Status require_every_node_serving();
  // Each unit's state and log file, for failure messages.
  std::string describe_nodes();

  EnsembleLayout layout_;
  std::unique_ptr<UserManager> manager_;
  service::ServiceManager services_;  // declared after manager_: closed before it stops
  std::unique_ptr<ExhibitorFixture> exhibitor_;
  bool units_written_ = false;  // else there is nothing for the destructor to stop
};

}  // namespace zktool::testsupport
