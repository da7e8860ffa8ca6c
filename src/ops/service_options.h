// The flags that say which systemd unit runs a service and how to reach
// systemd: shared by every command that stops and starts one (backup,
// restore, rollback, log backup, log restore), so they read alike everywhere.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "service/service_manager.h"

namespace zktool {

struct ServiceOptions {
  std::optional<std::string> unit;            // preset it to give --unit a default
  bool user_bus = false;
  std::optional<std::string> bus;             // a D-Bus daemon's address
  std::optional<std::string> systemd_address; // a systemd manager's private socket
  int stop_timeout_s = 120;
  int start_timeout_s = 120;
};

struct ServiceTarget {
  std::optional<std::string> unit;  // none: nothing to stop
  service::BusTarget bus = service::BusTarget::system();
  std::chrono::seconds stop_timeout{120};
  std::chrono::seconds start_timeout{120};
};

ServiceTarget resolve_service(const ServiceOptions& options);

}  // namespace zktool
