// Stops, starts and inspects systemd units over systemd's D-Bus API (sd-bus).
//
// A stop or start sends StopUnit/StartUnit(unit, "replace") and waits for
// the job systemd returns to be removed (JobRemoved), then reads the unit
// back: a job result of "done" only says the job ran, not what the unit
// became. A stop is confirmed when the unit is inactive or failed and has no
// main process (a stop job is "done" even when the unit ends "failed"); a
// start when the unit is active, with a main process for the types whose main
// process systemd spawns itself. The returned UnitState lets the caller add
// its own checks (e.g. that the client port no longer answers, safety rule 6). A
// start job of a Type=simple service is done once the process is forked, so
// one that dies right afterwards can still read as started: only the
// caller's health check proves a start.
//
// Every failure is ErrorKind::ServiceControl with one line naming the unit,
// the bus, and systemd's error name and message or the unit's state. Nothing
// here touches data; a deadline that passes leaves the job queued in systemd
// (it is not cancelled) and the error says so.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"

namespace zktool::service {

using Deadline = std::chrono::steady_clock::time_point;

// Which systemd instance to talk to.
class BusTarget {
 public:
  enum class Kind { System, User, Direct, Broker };

  // The system bus: production, where dcos-exhibitor.service lives.
  static BusTarget system() { return BusTarget(Kind::System, {}); }
  // The calling user's bus ($DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus).
  static BusTarget user() { return BusTarget(Kind::User, {}); }
  // A systemd manager's own peer-to-peer socket, with no bus daemon in between,
  // e.g. "unix:path=/run/systemd/private" (root only) or
  // "unix:path=$XDG_RUNTIME_DIR/systemd/private".
  static BusTarget direct(std::string address) {
    return BusTarget(Kind::Direct, std::move(address));
  }
  // A D-Bus message bus (dbus-daemon, dbus-broker) at an address, e.g.
  // "unix:path=$XDG_RUNTIME_DIR/bus".
  static BusTarget broker(std::string address) {
    return BusTarget(Kind::Broker, std::move(address));
  }

  Kind kind() const { return kind_; }
  const std::string& address() const { return address_; }
  // For messages: "system bus", "user bus", "systemd socket unix:path=...", ...
  std::string describe() const;

 private:
  BusTarget(Kind kind, std::string address) : kind_(kind), address_(std::move(address)) {}
  Kind kind_;
  std::string address_;
};

// A unit as systemd reports it. The service fields are left empty/zero for
// units that are not services.
struct UnitState {
  std::string unit;
  std::string load_state;    // loaded, not-found, masked, bad-setting, ...
  std::string active_state;  // active, inactive, failed, activating, deactivating, ...
  std::string sub_state;     // running, dead, exited, stop-sigterm, ...
  bool is_service = false;
  std::string service_type;      // simple, exec, forking, oneshot, notify, ...
  uint32_t main_pid = 0;         // 0: no main process
  std::string result;            // success, exit-code, signal, timeout, ...
  int32_t exec_main_status = 0;  // exit code or signal of the last main process

  // Inactive or failed, and no main process left.
  bool stopped() const;
  // One line for messages, e.g. "failed (failed), MainPID 0, Result=exit-code,
  // ExecMainStatus=3".
  std::string describe() const;
};

// One connection to one systemd manager. Not thread-safe: use one instance
// per thread. Unit names are full names ("zookeeper.service"); systemctl's
// guessing of suffixes is not repeated here.
class ServiceManager {
 public:
  // Opens the connection. A socket nobody listens on fails here at once; a
  // peer that accepts but never answers fails at the first call's deadline.
  static Result<ServiceManager> connect(const BusTarget& target);

  ServiceManager(ServiceManager&&) noexcept;
  ServiceManager& operator=(ServiceManager&&) noexcept;
  ~ServiceManager();

  // Both return the unit's state once confirmed. When the deadline passes the
  // error also describes the unit's state, read within at most one more second.
  Result<UnitState> stop_unit(std::string_view unit, Deadline deadline);
  Result<UnitState> start_unit(std::string_view unit, Deadline deadline);

  // Loads the unit if systemd has not; a unit with no unit file (LoadState
  // not-found) is an error.
  Result<UnitState> unit_state(std::string_view unit, Deadline deadline);

  const std::string& bus_description() const;

 private:
  class Impl;
  explicit ServiceManager(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zktool::service
