#include "ops/restore.h"

#include <algorithm>
#include <cstdint>
#include <thread>

#include "ops/directory_swap.h"
#include "ops/epoch.h"
#include "util/fault_point.h"
#include "util/file_ops.h"
#include "ops/lock.h"
#include "ops/zk_archive.h"

namespace zktool {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kProbeTimeout{2000};
constexpr milliseconds kPollInterval{1000};

// ZooKeeper would start on a missing or half-swapped version-2 with an empty
// tree: after a swap that could not put the data back, the unit stays down.
Error left_stopped(const Error& unsafe) {
  return make_error(ErrorKind::Unsafe, unsafe.message + ": the unit was left stopped");
}

// A restore or rollback killed during its swap left the journal: say where
// each directory is. This run goes on from there (a live directory that is
// missing is simply renamed in), and its own swap replaces the journal.
Status note_interrupted_swap(const Node& node, std::vector<std::string>& warnings) {
  const fs::path journal = swap_journal_beside(node.dirs.snap_dir);
  auto found = read_swap_journal(journal);
  if (!found) return found.error();
  if (*found) {
    warnings.push_back("an earlier run stopped during its swap (" + journal.string() +
                       "): " + describe_swap(**found) + "; this run goes on from there");
  }
  return Ok{};
}

// The newest <live>.<label>-* beside `live`; the names sort by time.
Result<std::optional<fs::path>> newest_beside(const fs::path& live, const std::string& label) {
  const std::string prefix = live.filename().string() + "." + label + "-";
  auto entries = list_directory(live.parent_path());
  if (!entries) return entries.error();
  std::optional<fs::path> newest;
  for (const fs::path& e : *entries) {
    const std::string name = e.filename().string();
    if (name.starts_with(prefix) && (!newest || name > newest->filename().string())) newest = e;
  }
  return newest;
}

// A version-2 that is a link (to a dedicated disk, say) would be moved aside
// and replaced by a real directory on its parent's file system, taking the
// data off that disk: refuse, naming the directory to give instead.
Status refuse_linked_live_dirs(const Node& node, const char* command) {
  for (const fs::path& live : {node.dirs.snap_dir, node.dirs.log_dir}) {
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(live, ec))) continue;
    const fs::path target = fs::read_symlink(live, ec);
    return make_error(ErrorKind::Unsafe,
                      live.string() + " is a symbolic link to " + target.string() + ": " +
                          command + " would replace it with a directory in " +
                          live.parent_path().string() +
                          "; give the directory it points into (--data-dir, --data-log-dir) "
                          "instead; nothing was changed");
  }
  return Ok{};
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
  int64_t seen = zs::epoch_of(*m.zxid);
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
    if (m.state == health::MemberState::kServing && m.zxid) epochs.push_back(zs::epoch_of(*m.zxid));
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
  if (!fs::create_directory(to, ec)) {
    return make_error(ErrorKind::Io, scratch->created_as().string() + ": " + ec.message());
  }
  auto logs = list_directory(staged_logs);
  if (!logs) return logs.error();
  for (const fs::path& log : *logs) {
    if (Status s = copy_file_sparse(log, to / log.filename()); !s) {
      return scratch->named(s.error());
    }
  }
  log_staging.emplace(std::move(scratch.value()));
  return to;
}

// Restore stages the archive on the data's file system, with the replaced
// data kept beside it. The margin covers the 64 MiB log ZooKeeper
// preallocates (preAllocSize) as soon as the restored node takes a write,
// then directories, the epoch files and block rounding.
constexpr uint64_t kStagingMargin = uint64_t{68} << 20;

}  // namespace

Result<RestoreReport> restore(const Node& node, const RestoreRequest& request) {
  auto lock = DirectoryLock::acquire(node.data_dir, "restore");
  if (!lock) return lock.error();
  RestoreReport report;
  lock->report_stale_holder(report.warnings);
  if (Status s = refuse_linked_live_dirs(node, "restore"); !s) return s.error();
  if (Status s = note_interrupted_swap(node, report.warnings); !s) return s.error();

  // 0. A restore that cannot watch the ensemble cannot tell when it is done,
  // nor whether other members still serve the old data: refuse up front. A
  // failure that is not the ensemble's (a bad URL, an untrusted certificate,
  // refused credentials) is the configuration's: refused with its own kind,
  // even for --dry-run and --no-wait, since waiting or trying would not mend it.
  auto seen = node.probe(kProbeTimeout);
  const bool config_failure = !seen && seen.error().kind != ErrorKind::Unhealthy;
  if (!seen && (config_failure || (request.wait.wait && !request.dry_run))) {
    std::string message("cannot see the ensemble (");
    message += seen.error().message;
    message += "); nothing was changed";
    return make_error(seen.error().kind, std::move(message));
  }

  // 1. Prove the archive, staged beside the live data (safety rule 1).
  StageOptions stage;
  stage.read = request.read;
  stage.free_space_margin = kStagingMargin;
  stage.key = request.key;
  auto staged = stage_and_verify(request.archive, node.data_dir, stage);
  if (!staged) return staged.error();
  fault_point("restore.after-staging");
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
  observed.push_back(zs::epoch_of(report.restored_zxid));
  // A restore killed after moving the live data aside left its epochs beside.
  auto beside = newest_beside(node.dirs.snap_dir, "pre-restore");
  if (!beside) return beside.error();
  const fs::path kept = beside->value_or(node.dirs.snap_dir);
  for (const fs::path& d : {node.dirs.snap_dir, staged_snap, kept}) {
    if (auto e = highest_epoch_in(d)) observed.push_back(*e);
  }
  auto epoch = epoch_for_round(round_of(identity), observed);
  if (!epoch) return epoch.error();
  report.epoch = *epoch;
  if (Status s = write_epochs(staged_snap, *epoch); !s) return s.error();
  fault_point("restore.after-epochs");

  std::vector<DirectorySwap> swaps;
  std::optional<ScratchDirectory> log_staging;
  if (node.dirs.log_dir == node.dirs.snap_dir) {
    auto logs = list_directory(staged->dirs.log_dir);
    if (!logs) return staged->dir.named(logs.error());
    for (const fs::path& log : *logs) {
      if (Status s = rename_no_replace(log, staged_snap / log.filename()); !s) {
        return staged->dir.named(s.error());
      }
    }
    swaps.push_back({node.dirs.snap_dir, staged_snap, staged->dir.named(staged_snap)});
  } else {
    auto logs = stage_logs_beside(node, staged->dirs.log_dir, log_staging);
    if (!logs) return logs.error();
    swaps.push_back({node.dirs.snap_dir, staged_snap, staged->dir.named(staged_snap)});
    swaps.push_back({node.dirs.log_dir, *logs,
                     log_staging ? log_staging->named(*logs) : staged->dir.named(*logs)});
  }
  for (const DirectorySwap& swap : swaps) {
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

  // 3. Stop, swap, start (safety rules 2, 5, 6).
  auto systemd = service::ServiceManager::connect(node.bus);
  if (!systemd) return systemd.error();
  const auto down_at = Clock::now();
  if (Status s = node.stop(*systemd); !s) {
    return make_error(s.error().kind, s.error().message + "; the live data was not touched");
  }
  fault_point("restore.after-stop");
  auto aside = swap_directories(swap_journal_beside(node.dirs.snap_dir), swaps, "pre-restore",
                                "restore");
  if (!aside) {
    Error failed = staged->dir.named(aside.error());
    if (log_staging) failed = log_staging->named(std::move(failed));
    if (failed.kind == ErrorKind::Unsafe) return left_stopped(failed);
    (void)systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
    return make_error(failed.kind,
                      failed.message + ": the live data is in place and the unit restarted");
  }
  report.moved_aside = *aside;
  std::string rollback_hint = "; the previous data is in " +
                              (aside->empty() ? std::string("(none)") : aside->front().string()) +
                              ", and zk-tool rollback puts it back";
  fault_point("restore.before-start");
  auto started = systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
  if (!started) {
    return make_error(ErrorKind::ServiceControl,
                      "restored data is in place but " + started.error().message + rollback_hint);
  }
  report.downtime = Clock::now() - down_at;
  fault_point("restore.after-start");
  if (!request.wait.wait) return report;
  auto healthy =
      wait_for_generation(node, "restore", *epoch, report.restored_zxid, request.wait,
                          report.warnings);
  if (!healthy) {
    return make_error(healthy.error().kind, healthy.error().message + rollback_hint);
  }
  report.health = *healthy;
  if (request.read_back.max_znodes == 0) return report;
  auto served = read_back(node.local, staged->state.tree, report.restored_zxid, request.read_back);
  if (served) {
    report.read_back = *served;
  } else if (served.error().kind == ErrorKind::Unsafe) {
    return make_error(ErrorKind::Unsafe, served.error().message + rollback_hint);
  } else {
    // The ensemble is healthy; only the confirmation could not be made.
    report.warnings.push_back("the served tree was not read back: " + served.error().message);
  }
  return report;
}

Result<RollbackReport> rollback(const Node& node, const WaitOptions& wait) {
  auto lock = DirectoryLock::acquire(node.data_dir, "rollback");
  if (!lock) return lock.error();
  RollbackReport report;
  lock->report_stale_holder(report.warnings);
  if (Status s = refuse_linked_live_dirs(node, "rollback"); !s) return s.error();
  if (Status s = note_interrupted_swap(node, report.warnings); !s) return s.error();
  // A rollback killed part way may have put some directories back already
  // (their pre-restore copies are gone): this run completes it.
  bool resuming = lock->stale_holder() &&
                  lock->stale_holder()->find(" command=rollback ") != std::string::npos;
  std::vector<DirectorySwap> swaps;
  std::vector<fs::path> lives = {node.dirs.snap_dir};
  if (node.dirs.log_dir != node.dirs.snap_dir) lives.push_back(node.dirs.log_dir);
  std::vector<fs::path> put_back_dirs;
  for (const fs::path& live : lives) {
    auto found = newest_beside(live, "pre-restore");
    if (!found) return found.error();
    const std::optional<fs::path>& newest = *found;
    std::error_code ec;
    if (!newest && !(resuming && fs::exists(live, ec))) {
      // Most likely a rollback that finished (its process perhaps killed
      // before it could say so): what it replaced sits beside as rolled-back.
      auto listed = newest_beside(live, "rolled-back");
      const std::optional<fs::path> rolled_back = listed ? *listed : std::nullopt;
      return make_error(ErrorKind::Usage,
                        "nothing to roll back: no " + live.filename().string() +
                            ".pre-restore-* in " + live.parent_path().string() +
                            (rolled_back ? "; the last rollback finished (the data it replaced is "
                                           "in " + rolled_back->string() + ")"
                                         : std::string()));
    }
    // The copy lies in a directory its owner may change: a link there would
    // have rollback read, write epochs into and serve another directory.
    if (newest && fs::is_symlink(fs::symlink_status(*newest, ec))) {
      return make_error(ErrorKind::Unsafe, newest->string() +
                                               " is a symbolic link, not the data a restore "
                                               "moved aside; nothing was changed");
    }
    put_back_dirs.push_back(newest.value_or(live));
    if (newest) {
      swaps.push_back({live, *newest, {}});
      report.restored_from.push_back(*newest);
    }
  }
  // What the put-back data replays to, to recognise members serving it.
  zs::DataDirs put_back{put_back_dirs.front(), put_back_dirs.back()};
  auto old_state = zs::load_state(put_back);
  if (!old_state) return old_state.error();
  int64_t installed_zxid = old_state->last_zxid;
  std::vector<int64_t> observed = serving_epochs(node, node.probe(kProbeTimeout));
  for (const std::vector<fs::path>* dirs : {&lives, &put_back_dirs}) {
    for (const fs::path& d : *dirs) {
      if (auto e = highest_epoch_in(d)) observed.push_back(*e);
    }
  }
  // Every master rolling back the same restore must land in one round: name
  // it after the restore's round, which all of them carry (elections aside).
  // A killed run may have moved the restored data aside already.
  std::error_code ec;
  fs::path restored_snap = node.dirs.snap_dir;
  if (!fs::exists(restored_snap, ec) || swaps.empty() || swaps.front().live != restored_snap) {
    auto rolled_back = newest_beside(restored_snap, "rolled-back");
    if (!rolled_back) return rolled_back.error();
    restored_snap = rolled_back->value_or(restored_snap);
  }
  int64_t restored_round = highest_epoch_in(restored_snap).value_or(0) >> kRoundShift;
  auto epoch = epoch_for_round(round_of("rollback " + std::to_string(restored_round)), observed);
  if (!epoch) return epoch.error();
  report.epoch = *epoch;
  if (Status s = write_epochs(put_back_dirs.front(), *epoch); !s) return s.error();
  fault_point("rollback.after-epochs");

  auto systemd = service::ServiceManager::connect(node.bus);
  if (!systemd) return systemd.error();
  const auto down_at = Clock::now();
  if (Status s = node.stop(*systemd); !s) return s.error();
  fault_point("rollback.after-stop");
  auto aside = swap_directories(swap_journal_beside(node.dirs.snap_dir), swaps, "rolled-back",
                                "rollback");
  if (!aside && aside.error().kind == ErrorKind::Unsafe) return left_stopped(aside.error());
  if (!aside) {
    (void)systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
    return make_error(aside.error().kind,
                      aside.error().message + ": the restored data is in place and the unit "
                                              "restarted");
  }
  report.moved_aside = *aside;
  auto started = systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
  if (!started) return started.error();
  report.downtime = Clock::now() - down_at;
  fault_point("rollback.after-start");
  if (!wait.wait) return report;
  auto healthy =
      wait_for_generation(node, "rollback", *epoch, installed_zxid, wait, report.warnings);
  if (!healthy) return healthy.error();
  report.health = *healthy;
  return report;
}

}  // namespace zktool
