#include "cluster/systemd_ensemble.h"

#include <cstdio>
#include <thread>
#include <vector>

#include "cluster/unit_file.h"
#include "health/ensemble_health.h"

namespace zktool::testsupport {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kProbeTimeout = std::chrono::milliseconds(1000);
constexpr auto kPollInterval = std::chrono::milliseconds(250);
constexpr auto kStateTimeout = std::chrono::seconds(5);
// Above the units' TimeoutStopSec=20, after which systemd kills them anyway.
constexpr auto kTeardownTimeout = std::chrono::seconds(30);

service::Deadline deadline_in(std::chrono::milliseconds timeout) { return Clock::now() + timeout; }

health::Endpoint endpoint(const NodeLayout& node) { return {node.host, node.client_port}; }

}  // namespace

SystemdEnsemble::SystemdEnsemble(EnsembleLayout layout, std::unique_ptr<UserManager> manager,
                                 service::ServiceManager services)
    : layout_(std::move(layout)), manager_(std::move(manager)), services_(std::move(services)) {}

Result<std::unique_ptr<SystemdEnsemble>> SystemdEnsemble::start(const EnsembleConfig& config,
                                                                std::chrono::milliseconds timeout) {
  auto layout = plan_ensemble(config);
  if (!layout) return layout.error();
  if (auto st = write_ensemble_files(*layout); !st) return st.error();
  auto manager = UserManager::start();
  if (!manager) return manager.error();
  auto services =
      service::ServiceManager::connect(service::BusTarget::direct((*manager)->private_address()));
  if (!services) return services.error();
  // From here on the destructor cleans up whatever has been started.
  std::unique_ptr<SystemdEnsemble> ensemble(new SystemdEnsemble(
      std::move(*layout), std::move(manager).value(), std::move(services).value()));

  std::vector<health::Endpoint> endpoints;
  for (const auto& node : ensemble->layout_.nodes) endpoints.push_back(endpoint(node));
  auto exhibitor = ExhibitorFixture::start(std::move(endpoints));
  if (!exhibitor) return exhibitor.error();
  ensemble->exhibitor_ = std::move(exhibitor).value();

  for (size_t i = 0; i < ensemble->size(); ++i) {
    if (auto st = ensemble->write_node_unit(i, {}); !st) return st.error();
  }
  if (auto st = ensemble->manager_->reload(); !st) return st.error();
  if (auto st = ensemble->start_all(); !st) return st.error();
  if (auto st = ensemble->wait_healthy(timeout); !st) return st.error();
  if (auto st = ensemble->require_every_node_serving(); !st) return st.error();
  return ensemble;
}

SystemdEnsemble::~SystemdEnsemble() {
  if (!units_written_) return;
  if (auto st = stop_all(kTeardownTimeout); !st) {
    std::fprintf(stderr, "systemd ensemble teardown: %s\n", st.error().message.c_str());
  }
}

std::string SystemdEnsemble::unit_name(size_t index) const {
  return "zk-node" + std::to_string(node(index).id) + ".service";
}

service::BusTarget SystemdEnsemble::bus_target() const {
  return service::BusTarget::direct(manager_->private_address());
}

Result<service::UnitState> SystemdEnsemble::stop_unit(size_t index,
                                                      std::chrono::milliseconds timeout) {
  return services_.stop_unit(unit_name(index), deadline_in(timeout));
}

Result<service::UnitState> SystemdEnsemble::start_unit(size_t index,
                                                       std::chrono::milliseconds timeout) {
  return services_.start_unit(unit_name(index), deadline_in(timeout));
}

Result<service::UnitState> SystemdEnsemble::unit_state(size_t index) {
  return services_.unit_state(unit_name(index), deadline_in(kStateTimeout));
}

Status SystemdEnsemble::stop_all(std::chrono::milliseconds timeout) {
  return on_every_unit(true, timeout);
}

Status SystemdEnsemble::start_all(std::chrono::milliseconds timeout) {
  return on_every_unit(false, timeout);
}

Status SystemdEnsemble::on_every_unit(bool stop, std::chrono::milliseconds timeout) {
  std::vector<Status> results(size());
  {
    std::vector<std::jthread> jobs;
    for (size_t i = 0; i < size(); ++i) {
      jobs.emplace_back([this, i, stop, timeout, &results] {
        auto services = service::ServiceManager::connect(bus_target());
        if (!services) {
          results[i] = services.error();
          return;
        }
        const auto deadline = deadline_in(timeout);
        auto state = stop ? services->stop_unit(unit_name(i), deadline)
                          : services->start_unit(unit_name(i), deadline);
        if (!state) results[i] = state.error();
      });
    }
  }
  for (auto& result : results) {
    if (!result) return result;
  }
  return Ok{};
}

Status SystemdEnsemble::write_node_unit(size_t index, std::string_view extra_service_lines) {
  auto text = zk_node_unit(layout_, index, extra_service_lines);
  if (!text) return text.error();
  if (auto st = manager_->write_unit(unit_name(index), *text); !st) return st;
  units_written_ = true;
  return Ok{};
}

Status SystemdEnsemble::replace_unit(size_t index, std::string_view extra_service_lines) {
  if (auto st = write_node_unit(index, extra_service_lines); !st) return st;
  return manager_->reload();
}

Status SystemdEnsemble::wait_healthy(std::chrono::milliseconds timeout) {
  const auto deadline = deadline_in(timeout);
  std::vector<bool> seen_active(size(), false);
  for (;;) {
    std::vector<health::Endpoint> members;
    size_t starting = 0;
    for (size_t i = 0; i < size(); ++i) {
      auto state = unit_state(i);
      if (!state) return state.error();
      if (state->active_state == "active") {
        seen_active[i] = true;
        members.push_back(endpoint(node(i)));
      } else if (state->active_state == "activating") {
        ++starting;
      } else if (seen_active[i]) {
        return make_error(ErrorKind::Unhealthy,
                          unit_name(i) + " stopped while waiting for the ensemble to be healthy: " +
                              state->describe() + "; see " + node(i).log_file.string());
      }
    }
    if (2 * (members.size() + starting) <= size()) {
      return make_error(ErrorKind::Unhealthy,
                        "too few ZooKeeper units run to make a quorum: " + describe_nodes());
    }
    const health::EnsembleHealth health = health::probe_direct(members, kProbeTimeout);
    if (starting == 0 && health.healthy()) return Ok{};
    if (Clock::now() >= deadline) {
      return make_error(ErrorKind::Unhealthy,
                        "ensemble in " + layout_.config.base_dir.string() + " not healthy after " +
                            std::to_string(timeout.count()) + " ms: " + health.summary() + "; " +
                            describe_nodes());
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status SystemdEnsemble::require_every_node_serving() {
  for (size_t i = 0; i < size(); ++i) {
    auto info = node_srvr(i);
    if (!info || !info->serving) {
      return make_error(ErrorKind::Unhealthy,
                        unit_name(i) + " does not serve (" +
                            (info ? std::string("not serving") : info.error().message) +
                            "): " + describe_nodes());
    }
  }
  return Ok{};
}

Result<health::SrvrInfo> SystemdEnsemble::node_srvr(size_t index) const {
  return health::srvr(node(index).host, node(index).client_port, kProbeTimeout);
}

std::string SystemdEnsemble::describe_nodes() {
  std::string text;
  for (size_t i = 0; i < size(); ++i) {
    auto state = unit_state(i);
    if (!text.empty()) text += "; ";
    text += unit_name(i) + " " + (state ? state->describe() : state.error().message) + " [" +
            node(i).log_file.string() + "]";
  }
  return text;
}

}  // namespace zktool::testsupport
