#include "service/service_manager.h"

#include <chrono>
#include <cstdio>

#include "service/bus.h"
#include "service/job_watch.h"

namespace zktool::service {

namespace {

// After a deadline has passed, describing the unit may take this long more.
constexpr auto kDescribeGrace = std::chrono::seconds(1);

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Types whose main process systemd spawns and tracks itself: a running unit
// of these types always has a MainPID.
bool has_own_main_process(const std::string& type) {
  return type == "simple" || type == "exec" || type == "notify" || type == "idle";
}

std::string seconds_since(Deadline::clock::time_point start) {
  const std::chrono::duration<double> elapsed = Deadline::clock::now() - start;
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", elapsed.count());
  return text;
}

}  // namespace

std::string BusTarget::describe() const {
  switch (kind_) {
    case Kind::System:
      return "system bus";
    case Kind::User:
      return "user bus";
    case Kind::Direct:
      return "systemd socket " + address_;
    case Kind::Broker:
      return "bus " + address_;
  }
  return "bus";
}

bool UnitState::stopped() const {
  return (active_state == "inactive" || active_state == "failed") && main_pid == 0;
}

std::string UnitState::describe() const {
  std::string text = active_state + " (" + sub_state + ")";
  if (load_state != "loaded") text += ", LoadState=" + load_state;
  if (is_service) {
    text += ", MainPID " + std::to_string(main_pid) + ", Result=" + result +
            ", ExecMainStatus=" + std::to_string(exec_main_status);
  }
  return text;
}

class ServiceManager::Impl {
 public:
  explicit Impl(std::unique_ptr<Bus> bus) : bus_(std::move(bus)) {}

  Result<UnitState> stop(std::string_view unit, Deadline deadline) {
    auto state = run_job("StopUnit", "stop", unit, deadline);
    if (!state.ok()) return state;
    if (!state->stopped()) {
      return failure("stop", unit, "the stop job is done but the unit is " + state->describe());
    }
    return state;
  }

  Result<UnitState> start(std::string_view unit, Deadline deadline) {
    auto state = run_job("StartUnit", "start", unit, deadline);
    if (!state.ok()) return state;
    const bool oneshot_done = state->service_type == "oneshot" &&
                              state->active_state == "inactive" && state->result == "success";
    const bool running = state->active_state == "active" &&
                         (!has_own_main_process(state->service_type) || state->main_pid != 0);
    if (!running && !oneshot_done) {
      return failure("start", unit, "the start job is done but the unit is " + state->describe());
    }
    return state;
  }

  Result<UnitState> state(std::string_view unit, Deadline deadline) {
    auto state = read_state(unit, deadline);
    if (!state.ok()) return failure("state of", unit, state.error().message);
    if (state->load_state == "not-found") {
      return failure("state of", unit, "no such unit (LoadState not-found)");
    }
    return state;
  }

  const std::string& bus_description() const { return bus_->description(); }

 private:
  // "<verb> <unit> on <bus>: <what>" as a ServiceControl error.
  Error failure(std::string_view verb, std::string_view unit, const std::string& what) const {
    return make_error(ErrorKind::ServiceControl, std::string(verb) + " " + std::string(unit) +
                                                     " on " + bus_->description() + ": " + what);
  }

  Result<UnitState> run_job(const char* method, std::string_view verb, std::string_view unit,
                            Deadline deadline) {
    const auto start = Deadline::clock::now();
    if (!jobs_) {
      auto jobs = JobWatch::create(*bus_, deadline);
      if (!jobs.ok()) return failure(verb, unit, jobs.error().message);
      jobs_ = std::move(jobs).value();
    }
    auto run = jobs_->run(method, unit, deadline);
    if (!run.ok()) return failure(verb, unit, run.error().message);
    switch (run->outcome) {
      case JobRun::Outcome::NoReply:
        return failure(verb, unit,
                       "no reply to " + std::string(method) + " within " + seconds_since(start) +
                           "; unit is " + describe_after_deadline(unit));
      case JobRun::Outcome::Pending:
        return failure(verb, unit,
                       "the " + std::string(verb) + " job " + run->job +
                           " is still pending after " + seconds_since(start) + "; unit is " +
                           describe_after_deadline(unit));
      case JobRun::Outcome::Removed:
        break;
    }
    // The job ran; what the unit became is read back whatever the result, so
    // that a failed job's message says why (Result, ExecMainStatus).
    auto state = read_state(unit, deadline + kDescribeGrace);
    if (run->result != "done") {
      return failure(verb, unit,
                     "the " + std::string(verb) + " job ended '" + run->result + "'; unit is " +
                         (state.ok() ? state->describe() : state.error().message));
    }
    if (!state.ok()) return failure(verb, unit, state.error().message);
    return state;
  }

  std::string describe_after_deadline(std::string_view unit) {
    auto state = read_state(unit, Deadline::clock::now() + kDescribeGrace);
    return state.ok() ? state->describe() : "unknown (" + state.error().message + ")";
  }

  Result<UnitState> read_state(std::string_view unit, Deadline deadline) {
    auto load = bus_->new_manager_call("LoadUnit");
    if (!load.ok()) return load.error();
    const std::string name(unit);
    if (sd_bus_message_append(load->get(), "s", name.c_str()) < 0) {
      return make_error(ErrorKind::ServiceControl, "LoadUnit: cannot build the call");
    }
    auto reply = bus_->call(deadline, load->get());
    if (!reply.ok()) return reply.error();
    const char* raw_path = nullptr;
    const int r = sd_bus_message_read(reply->get(), "o", &raw_path);
    if (r < 0) {
      return make_error(ErrorKind::ServiceControl,
                        "LoadUnit: reply without a unit path: " + errno_text(r));
    }
    const std::string path(raw_path);

    UnitState state;
    state.unit = name;
    for (auto [field, property] :
         {std::pair{&state.load_state, "LoadState"}, std::pair{&state.active_state, "ActiveState"},
          std::pair{&state.sub_state, "SubState"}}) {
      auto value = bus_->get_string(deadline, path, kUnitInterface, property);
      if (!value.ok()) return value.error();
      *field = std::move(value).value();
    }
    state.is_service = ends_with(name, ".service") && state.load_state != "not-found";
    if (!state.is_service) return state;
    for (auto [field, property] :
         {std::pair{&state.service_type, "Type"}, std::pair{&state.result, "Result"}}) {
      auto value = bus_->get_string(deadline, path, kServiceInterface, property);
      if (!value.ok()) return value.error();
      *field = std::move(value).value();
    }
    auto main_pid = bus_->get_u32(deadline, path, kServiceInterface, "MainPID");
    if (!main_pid.ok()) return main_pid.error();
    state.main_pid = *main_pid;
    auto status = bus_->get_i32(deadline, path, kServiceInterface, "ExecMainStatus");
    if (!status.ok()) return status.error();
    state.exec_main_status = *status;
    return state;
  }

  // bus_ outlives jobs_, whose match slot refers to it.
  std::unique_ptr<Bus> bus_;
  std::unique_ptr<JobWatch> jobs_;
};

Result<ServiceManager> ServiceManager::connect(const BusTarget& target) {
  auto bus = Bus::open(target);
  if (!bus.ok()) return bus.error();
  return ServiceManager(std::make_unique<Impl>(std::move(bus).value()));
}

ServiceManager::ServiceManager(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServiceManager::ServiceManager(ServiceManager&&) noexcept = default;
ServiceManager& ServiceManager::operator=(ServiceManager&&) noexcept = default;
ServiceManager::~ServiceManager() = default;

Result<UnitState> ServiceManager::stop_unit(std::string_view unit, Deadline deadline) {
  return impl_->stop(unit, deadline);
}

Result<UnitState> ServiceManager::start_unit(std::string_view unit, Deadline deadline) {
  return impl_->start(unit, deadline);
}

Result<UnitState> ServiceManager::unit_state(std::string_view unit, Deadline deadline) {
  return impl_->state(unit, deadline);
}

const std::string& ServiceManager::bus_description() const { return impl_->bus_description(); }

}  // namespace zktool::service
