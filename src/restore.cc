#include "restore.h"

#include <algorithm>
#include <thread>

#include "epoch.h"
#include "file_ops.h"
#include "lock.h"
#include "zk_archive.h"

namespace zktool {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kProbeTimeout{2000};
constexpr milliseconds kPollInterval{1000};

int64_t epoch_of_zxid(int64_t zxid) { return zxid >> 32; }

// One live version-2 directory and what replaces it.
struct Swap {
  fs::path live;
  fs::path replacement;
};

// Moves each live directory aside as <live>.<label>-<stamp>, then renames its
// replacement in. A failure part way puts back what it moved.
Result<std::vector<fs::path>> swap_in(const std::vector<Swap>& swaps, const std::string& label) {
  std::string stamp = utc_stamp();
  std::vector<std::pair<fs::path, fs::path>> done;  // (from, to) renames made
  auto undo = [&] {
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      (void)rename_no_replace(it->second, it->first);
    }
  };
  std::vector<fs::path> aside;
  for (const Swap& swap : swaps) {
    std::error_code ec;
    if (fs::exists(swap.live, ec)) {
      fs::path to = swap.live.parent_path() / (swap.live.filename().string() + "." + label + "-" + stamp);
      if (Status s = rename_no_replace(swap.live, to); !s) {
        undo();
        return s.error();
      }
      done.emplace_back(swap.live, to);
      aside.push_back(to);
    }
    if (Status s = rename_no_replace(swap.replacement, swap.live); !s) {
      undo();
      return s.error();
    }
    done.emplace_back(swap.replacement, swap.live);
  }
  return aside;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Whether a serving member's zxid shows it serves the installed data: a zxid
// of the new generation, or exactly the installed data's last zxid (a member
// that took no write since the new leader was elected still reports it).
bool serves_installed(const health::MemberHealth& m, int64_t epoch, int64_t installed_zxid) {
  if (m.state != health::MemberState::kServing || !m.zxid) return false;
  int64_t seen = epoch_of_zxid(*m.zxid);
  int64_t round = (epoch >> kRoundShift) & kRoundMask;
  return *m.zxid == installed_zxid ||
         (in_round(seen, round) && generation_of(seen) == generation_of(epoch));
}

// The members to ask directly: zoo.cfg's, else the hosts Exhibitor reports
// (on this node's client port: Exhibitor does not say theirs).
std::vector<health::Endpoint> member_endpoints(
    const Node& node, const Result<health::EnsembleHealth>& ensemble) {
  std::vector<health::Endpoint> endpoints = node.members;
  if (endpoints.empty() && ensemble) {
    for (const auto& m : ensemble->members) {
      endpoints.push_back({m.host, m.client_port.value_or(node.local.client_port)});
    }
  }
  return endpoints;
}

// Epochs the ensemble serves under right now, from members' zxids.
std::vector<int64_t> serving_epochs(const Node& node,
                                    const Result<health::EnsembleHealth>& ensemble) {
  std::vector<int64_t> epochs;
  for (const auto& m :
       health::probe_direct(member_endpoints(node, ensemble), kProbeTimeout).members) {
    if (m.state == health::MemberState::kServing && m.zxid) epochs.push_back(epoch_of_zxid(*m.zxid));
  }
  return epochs;
}

// Waits until this node serves the installed data and the ensemble is
// healthy. Members serving anything else are named: this node will not join
// them (epoch.h), so they must be restored too.
Result<health::EnsembleHealth> wait_for_generation(const Node& node, const char* command,
                                                   int64_t epoch, int64_t installed_zxid,
                                                   const WaitOptions& wait,
                                                   std::vector<std::string>& warnings) {
  auto deadline = Clock::now() + wait.timeout;
  std::vector<std::string> stale;
  std::string last;
  for (;;) {
    bool self_restored = serves_installed(node.probe_self(kProbeTimeout), epoch, installed_zxid);
    auto ensemble = node.probe(kProbeTimeout);
    stale.clear();
    // Exhibitor reports no zxids: ask each member directly.
    for (const auto& m : health::probe_direct(member_endpoints(node, ensemble), kProbeTimeout).members) {
      if (m.state == health::MemberState::kServing && !serves_installed(m, epoch, installed_zxid)) {
        stale.push_back(m.name());
      }
    }
    if (self_restored && ensemble && ensemble->healthy() && stale.empty()) return *ensemble;
    last = ensemble ? ensemble->summary() : ensemble.error().message;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  if (!stale.empty()) {
    return make_error(ErrorKind::Unsafe,
                      std::string("this node's ") + command + "d data is in place and started, but " +
                          join(stale) + " still serve the pre-" + command +
                          " data and it will not join them: run zk-tool " + command +
                          " on those masters too (" + last + ")");
  }
  warnings.push_back("last health: " + last);
  return make_error(ErrorKind::Unhealthy, std::string("this node's ") + command +
                                              "d data is in place and started, but the ensemble "
                                              "did not become healthy in time: " + last);
}

// The replacement log directory must be on the live one's file system for
// the rename; if the archive was staged elsewhere, copy it over first.
Result<fs::path> stage_logs_beside(const Node& node, const fs::path& staged_logs,
                                   std::optional<ScratchDirectory>& log_staging) {
  auto staged_dev = device_of(staged_logs);
  auto live_dev = device_of(node.data_log_dir);
  if (!staged_dev) return staged_dev.error();
  if (!live_dev) return live_dev.error();
  if (*staged_dev == *live_dev) return staged_logs;
  auto scratch = ScratchDirectory::create(node.data_log_dir, ".zk-tool-staging-");
  if (!scratch) return scratch.error();
  fs::path to = scratch->path() / "version-2";
  std::error_code ec;
  fs::create_directory(to, ec);
  for (const auto& e : fs::directory_iterator(staged_logs, ec)) {
    if (Status s = copy_file_sparse(e.path(), to / e.path().filename()); !s) return s.error();
  }
  if (ec) return make_error(ErrorKind::Io, staged_logs.string() + ": " + ec.message());
  log_staging.emplace(std::move(scratch.value()));
  return to;
}

}  // namespace

Result<RestoreReport> restore(const Node& node, const RestoreRequest& request) {
  auto lock = DirectoryLock::acquire(node.data_dir, "restore");
  if (!lock) return lock.error();
  RestoreReport report;
  lock->report_stale_holder(report.warnings);

  // 0. A restore that cannot watch the ensemble cannot tell when it is done,
  // nor whether other members still serve the old data: refuse up front.
  auto seen = node.probe(kProbeTimeout);
  if (!seen && request.wait.wait && !request.dry_run) {
    return make_error(ErrorKind::Unhealthy, "cannot see the ensemble (" + seen.error().message +
                                                "); nothing was changed");
  }

  // 1. Prove the archive, staged beside the live data (rule 1).
  auto staged = stage_and_verify(request.archive, node.data_dir);
  if (!staged) return staged.error();
  report.manifest = staged->manifest;
  report.restored_zxid = staged->state.last_zxid;
  report.znode_count = staged->state.tree.node_count();
  if (!staged->manifest) {
    report.warnings.push_back("the archive has no manifest (made by dcos-zk?): only its ZooKeeper "
                              "files were checked");
  }
  report.warnings.insert(report.warnings.end(), staged->state.warnings.begin(),
                         staged->state.warnings.end());
  report.plan.push_back("verified " + request.archive.string() + ": " +
                        zs::zxid_hex(report.restored_zxid) + ", " +
                        std::to_string(report.znode_count) + " znodes");

  // 2. The restore's epoch (epoch.h), the replaced data's owner and mode.
  fs::path staged_snap = staged->dirs.snap_dir;
  const archive::Manifest* m = staged->manifest ? &*staged->manifest : nullptr;
  std::string identity = "restore " + zs::zxid_hex(report.restored_zxid) + " " +
                         std::to_string(report.znode_count) +
                         (m ? " " + m->host + " " + std::to_string(m->created.time_since_epoch().count())
                            : std::string());
  std::vector<int64_t> observed = serving_epochs(node, seen);
  observed.push_back(epoch_of_zxid(report.restored_zxid));
  for (const fs::path& d : {node.dirs.snap_dir, staged_snap}) {
    if (auto e = highest_epoch_in(d)) observed.push_back(*e);
  }
  auto epoch = epoch_for_round(round_of(identity), observed);
  if (!epoch) return epoch.error();
  report.epoch = *epoch;
  if (Status s = write_epochs(staged_snap, *epoch); !s) return s.error();

  std::vector<Swap> swaps;
  std::optional<ScratchDirectory> log_staging;
  if (node.dirs.log_dir == node.dirs.snap_dir) {
    for (const auto& e : fs::directory_iterator(staged->dirs.log_dir)) {
      if (Status s = rename_no_replace(e.path(), staged_snap / e.path().filename()); !s) {
        return s.error();
      }
    }
    swaps.push_back({node.dirs.snap_dir, staged_snap});
  } else {
    auto logs = stage_logs_beside(node, staged->dirs.log_dir, log_staging);
    if (!logs) return logs.error();
    swaps.push_back({node.dirs.snap_dir, staged_snap});
    swaps.push_back({node.dirs.log_dir, *logs});
  }
  for (const Swap& swap : swaps) {
    std::error_code ec;
    const fs::path& like = fs::exists(swap.live, ec) ? swap.live : swap.live.parent_path();
    if (Status s = take_ownership_of(swap.replacement, like); !s) return s.error();
    report.plan.push_back("move " + swap.live.string() + " aside as " +
                          swap.live.filename().string() + ".pre-restore-<time>, rename the "
                          "restored data in");
  }
  report.plan.insert(report.plan.begin() + 1,
                     "install epoch " + std::to_string(*epoch) + " (restore generation " +
                         std::to_string(generation_of(*epoch)) + ")");
  report.plan.insert(report.plan.begin() + 2, "stop " + node.unit);
  report.plan.push_back("start " + node.unit + " and wait for the ensemble to serve generation " +
                        std::to_string(generation_of(*epoch)));
  if (request.dry_run) return report;

  // 3. Stop, swap, start (rules 2, 5, 6).
  auto systemd = service::ServiceManager::connect(node.bus);
  if (!systemd) return systemd.error();
  if (Status s = node.stop(*systemd); !s) return s.error();
  auto aside = swap_in(swaps, "pre-restore");
  if (!aside) {
    (void)systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
    return make_error(aside.error().kind, aside.error().message +
                                              "; the live data was left in place and the unit "
                                              "restarted");
  }
  report.moved_aside = *aside;
  std::string rollback_hint = "; the previous data is in " +
                              (aside->empty() ? std::string("(none)") : aside->front().string()) +
                              ", and zk-tool rollback puts it back";
  auto started = systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
  if (!started) {
    return make_error(ErrorKind::ServiceControl,
                      "restored data is in place but " + started.error().message + rollback_hint);
  }
  if (!request.wait.wait) return report;
  auto healthy =
      wait_for_generation(node, "restore", *epoch, report.restored_zxid, request.wait,
                          report.warnings);
  if (!healthy) {
    return make_error(healthy.error().kind, healthy.error().message + rollback_hint);
  }
  report.health = *healthy;
  return report;
}

Result<RollbackReport> rollback(const Node& node, const WaitOptions& wait) {
  auto lock = DirectoryLock::acquire(node.data_dir, "rollback");
  if (!lock) return lock.error();
  RollbackReport report;
  lock->report_stale_holder(report.warnings);
  // The newest pre-restore copy of each live directory.
  std::vector<Swap> swaps;
  std::vector<fs::path> lives = {node.dirs.snap_dir};
  if (node.dirs.log_dir != node.dirs.snap_dir) lives.push_back(node.dirs.log_dir);
  for (const fs::path& live : lives) {
    std::string prefix = live.filename().string() + ".pre-restore-";
    std::optional<fs::path> newest;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(live.parent_path(), ec)) {
      std::string name = e.path().filename().string();
      if (name.rfind(prefix, 0) == 0 && (!newest || name > newest->filename().string())) {
        newest = e.path();
      }
    }
    if (!newest) {
      return make_error(ErrorKind::Usage, "nothing to roll back: no " + prefix + "* in " +
                                              live.parent_path().string());
    }
    swaps.push_back({live, *newest});
    report.restored_from.push_back(*newest);
  }
  // What the put-back data replays to, to recognise members serving it.
  zs::DataDirs put_back{swaps.front().replacement,
                        swaps.size() > 1 ? swaps.back().replacement : swaps.front().replacement};
  auto old_state = zs::load_state(put_back);
  if (!old_state) return old_state.error();
  int64_t installed_zxid = old_state->last_zxid;
  std::vector<int64_t> observed = serving_epochs(node, node.probe(kProbeTimeout));
  for (const Swap& s : swaps) {
    for (const fs::path& d : {s.live, s.replacement}) {
      if (auto e = highest_epoch_in(d)) observed.push_back(*e);
    }
  }
  // Every master rolling back the same restore must land in one round: name
  // it after the restore's round, which all of them carry (elections aside).
  int64_t restored_round = highest_epoch_in(node.dirs.snap_dir).value_or(0) >> kRoundShift;
  auto epoch = epoch_for_round(round_of("rollback " + std::to_string(restored_round)), observed);
  if (!epoch) return epoch.error();
  report.epoch = *epoch;
  if (Status s = write_epochs(swaps.front().replacement, *epoch); !s) return s.error();

  auto systemd = service::ServiceManager::connect(node.bus);
  if (!systemd) return systemd.error();
  if (Status s = node.stop(*systemd); !s) return s.error();
  auto aside = swap_in(swaps, "rolled-back");
  if (!aside) {
    (void)systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
    return aside.error();
  }
  report.moved_aside = *aside;
  auto started = systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
  if (!started) return started.error();
  if (!wait.wait) return report;
  auto healthy =
      wait_for_generation(node, "rollback", *epoch, installed_zxid, wait, report.warnings);
  if (!healthy) return healthy.error();
  report.health = *healthy;
  return report;
}

}  // namespace zktool
