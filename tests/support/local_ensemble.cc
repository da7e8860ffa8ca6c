#include "support/local_ensemble.h"

#include <thread>

#include "support/ensemble_record.h"
#include "support/process.h"

namespace zktool::testsupport {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kProbeTimeout = std::chrono::milliseconds(1000);
constexpr auto kProbeInterval = std::chrono::milliseconds(250);

std::string node_name(const NodeLayout& node) {
  return "node " + std::to_string(node.id) + " (" + node.client_address() + ")";
}

}  // namespace

LocalEnsemble::LocalEnsemble(EnsembleLayout layout, Lifetime lifetime, std::vector<pid_t> pids)
    : layout_(std::move(layout)), lifetime_(lifetime), pids_(std::move(pids)) {}

LocalEnsemble::~LocalEnsemble() {
  if (lifetime_ == Lifetime::kTiedToCaller) (void)stop_all();
}

Result<std::unique_ptr<LocalEnsemble>> LocalEnsemble::start(const EnsembleConfig& config,
                                                            Lifetime lifetime,
                                                            std::chrono::milliseconds timeout) {
  auto layout = plan_ensemble(config);
  if (!layout) return layout.error();
  if (auto st = write_ensemble_files(*layout); !st) return st.error();
  std::vector<pid_t> none(layout->nodes.size(), 0);
  std::unique_ptr<LocalEnsemble> ensemble(
      new LocalEnsemble(std::move(*layout), lifetime, std::move(none)));
  auto fail = [&](const Error& error) -> Result<std::unique_ptr<LocalEnsemble>> {
    (void)ensemble->stop_all();
    return error;
  };
  for (size_t i = 0; i < ensemble->size(); ++i) {
    if (auto st = ensemble->start_node(i); !st) return fail(st.error());
  }
  if (auto st = ensemble->wait_healthy(timeout); !st) return fail(st.error());
  return ensemble;
}

Result<std::unique_ptr<LocalEnsemble>> LocalEnsemble::attach(
    const std::filesystem::path& base_dir) {
  auto record = load_ensemble_record(base_dir);
  if (!record) return record.error();
  for (size_t i = 0; i < record->pids.size(); ++i) {
    std::string config_file = record->layout.nodes[i].config_file.string();
    if (!process_running_with_arg(record->pids[i], config_file)) record->pids[i] = 0;
  }
  return std::unique_ptr<LocalEnsemble>(
      new LocalEnsemble(std::move(record->layout), Lifetime::kDetached, std::move(record->pids)));
}

Status LocalEnsemble::save_record() const { return save_ensemble_record({layout_, pids_}); }

Result<health::SrvrInfo> LocalEnsemble::srvr(size_t index) const {
  return health::srvr(node(index).host, node(index).client_port, kProbeTimeout);
}

Status LocalEnsemble::wait_healthy(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::vector<std::string> last(size());
  for (;;) {
    size_t running_nodes = 0, serving = 0, leaders = 0;
    for (size_t i = 0; i < size(); ++i) {
      if (!running(i)) {
        last[i] = "stopped";
        continue;
      }
      ++running_nodes;
      if (auto how = reap_if_exited(pids_[i])) {
        pids_[i] = 0;
        (void)save_record();
        return make_error(ErrorKind::Unhealthy, node_name(node(i)) + " exited (" + *how +
                                                    "); see " + node(i).log_file.string());
      }
      auto info = srvr(i);
      if (!info) {
        last[i] = info.error().message;
      } else if (!info->serving) {
        last[i] = "not serving yet";
      } else {
        last[i] = "mode " + std::string(health::to_string(info->mode));
        ++serving;
        if (info->leads()) ++leaders;
      }
    }
    if (running_nodes == 0) return make_error(ErrorKind::Unhealthy, "no node is running");
    if (serving == running_nodes && leaders == 1) return Ok{};
    if (Clock::now() >= deadline) {
      std::string what = "ensemble in " + layout_.config.base_dir.string() + " not healthy after " +
                         std::to_string(timeout.count()) + " ms:";
      for (size_t i = 0; i < size(); ++i) {
        what += " " + node_name(node(i)) + ": " + last[i] + " [" + node(i).log_file.string() + "];";
      }
      return make_error(ErrorKind::Unhealthy, what);
    }
    std::this_thread::sleep_for(kProbeInterval);
  }
}

Result<size_t> LocalEnsemble::leader() const {
  for (size_t i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    auto info = srvr(i);
    if (info && info->leads()) return i;
  }
  return make_error(ErrorKind::Unhealthy,
                    "no node of the ensemble in " + layout_.config.base_dir.string() + " leads");
}

Status LocalEnsemble::start_node(size_t index) {
  if (running(index)) {
    return make_error(ErrorKind::Usage, node_name(node(index)) + " is already running");
  }
  ServerSpawn spawn{java_command(layout_, index), node(index).log_file,
                    lifetime_ == Lifetime::kTiedToCaller};
  auto pid = spawn_server(spawn);
  if (!pid) return pid.error();
  pids_[index] = *pid;
  return save_record();
}

Status LocalEnsemble::stop_node(size_t index, std::chrono::milliseconds grace) {
  if (!running(index)) return Ok{};
  if (auto st = terminate_process(pids_[index], grace); !st) {
    return make_error(st.error().kind, node_name(node(index)) + ": " + st.error().message);
  }
  pids_[index] = 0;
  return save_record();
}

Status LocalEnsemble::stop_all(std::chrono::milliseconds grace) {
  // SIGTERM every node first so they shut down in parallel.
  Status first = Ok{};
  std::vector<std::thread> stoppers;
  std::vector<Status> results(size());
  for (size_t i = 0; i < size(); ++i) {
    if (!running(i)) continue;
    stoppers.emplace_back(
        [this, i, grace, &results] { results[i] = terminate_process(pids_[i], grace); });
  }
  for (auto& t : stoppers) t.join();
  for (size_t i = 0; i < size(); ++i) {
    if (results[i]) {
      pids_[i] = 0;
    } else if (first) {
      first = make_error(results[i].error().kind,
                         node_name(node(i)) + ": " + results[i].error().message);
    }
  }
  if (auto st = save_record(); !st && first) return st;
  return first;
}

}  // namespace zktool::testsupport
