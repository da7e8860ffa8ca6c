#include "ops/backup.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "util/fault_point.h"
#include "archive/archive_reader.h"
#include "util/file_ops.h"
#include "ops/lock.h"
#include "snapshot/compression.h"
#include "snapshot/snapshot_file.h"
#include "ops/zk_archive.h"

namespace zktool {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;
using Clock = std::chrono::steady_clock;

namespace {

// A hot copy that raced the server (a snapshot being written, a log rolled,
// truncated or purged under it, an election) is taken again this many times.
constexpr unsigned kHotAttempts = 5;
constexpr auto kHotRetryDelay = std::chrono::milliseconds(300);
constexpr auto kSrvrTimeout = std::chrono::milliseconds(2000);

// The copy of the live files and the state proven from it.
struct Capture {
  zs::ZkState state;
  std::chrono::duration<double> downtime{};
  bool unit_was_running = false;
  unsigned attempts = 1;
};

// Loads the copy in `copy` (cut at `cut` when set) and insists it proves itself.
Result<zs::ZkState> prove_copy(const fs::path& copy, std::optional<zs::Zxid> cut,
                               const fs::path& live, const zs::SnapshotReadOptions& read) {
  auto dirs = zs::resolve_data_dirs(copy / "zookeeper", std::nullopt);
  if (!dirs) return dirs.error();
  zs::LoadOptions options;
  options.snapshot = read;
  options.up_to_zxid = cut;
  auto state = zs::load_state(*dirs, options);
  if (!state) return state.error();
  if (state->digest.verified() == false) {
    return make_error(ErrorKind::Corrupt, live.string() +
                                              ": the data does not replay to the digests "
                                              "ZooKeeper recorded at " +
                                              zs::zxid_hex(state->last_zxid));
  }
  return state;
}

Result<Capture> capture_cold(const Node& node, const fs::path& copy,
                             const BackupRequest& request) {
  auto systemd = service::ServiceManager::connect(node.bus);
  if (!systemd) return systemd.error();
  auto unit = systemd->unit_state(node.unit, Clock::now() + node.stop_timeout);
  if (!unit) return unit.error();
  Capture capture;
  capture.unit_was_running = unit->active_state == "active";

  // Present while this backup holds the unit down for the copy: a backup
  // killed meanwhile leaves it, and the next one starts the unit again.
  const fs::path stopped_marker = node.data_dir / ".zk-tool-backup-stopped-unit";
  std::error_code ec;
  const bool restart = capture.unit_was_running || fs::exists(stopped_marker, ec);
  auto down_at = Clock::now();
  if (capture.unit_was_running) {
    if (Status s = write_file_atomically(stopped_marker, node.unit + "\n"); !s) return s.error();
    if (Status s = node.stop(*systemd); !s) {
      fs::remove(stopped_marker, ec);
      // A unit that stopped while something else still answers comes back up.
      if (s.error().kind == ErrorKind::Unsafe) {
        (void)systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
      }
      return s.error();
    }
    fault_point("backup.after-stop");
  } else if (node.probe_self(std::chrono::milliseconds(500)).state != health::MemberState::kDown) {
    return make_error(ErrorKind::Unsafe, node.unit + " is not running, but a ZooKeeper answers on " +
                                             node.local.host + ":" +
                                             std::to_string(node.local.client_port) +
                                             ": a cold copy of its files would be inconsistent");
  }
  Status copied = copy_data_files(node.dirs, copy, request.all_files);
  fault_point("backup.after-copy");
  if (restart) {
    // The node comes back whatever happened to the copy.
    auto started = systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
    capture.downtime = Clock::now() - down_at;
    if (started) fs::remove(stopped_marker, ec);
    if (!started) {
      return make_error(ErrorKind::ServiceControl,
                        started.error().message + (copied ? "" : "; the copy had failed too: " +
                                                                     copied.error().message));
    }
  }
  fault_point("backup.after-start");
  if (!copied) return copied.error();
  auto state = prove_copy(copy, std::nullopt, node.dirs.snap_dir, request.read);
  if (!state) return state.error();
  capture.state = std::move(*state);
  return capture;
}

// The zxid the server has applied, as srvr reports it; an error unless it serves.
Result<zs::Zxid> applied_zxid(const Node& node) {
  health::MemberHealth self = node.probe_self(kSrvrTimeout);
  if (self.state != health::MemberState::kServing || !self.zxid) {
    return make_error(ErrorKind::Unhealthy,
                      "ZooKeeper on " + self.name() + " is " +
                          std::string(health::to_string(self.state)) +
                          (self.detail.empty() ? "" : " (" + self.detail + ")") +
                          ": a hot backup needs the zxid a serving node has committed; "
                          "use --cold for a node that is down");
  }
  return static_cast<zs::Zxid>(*self.zxid);
}

// One hot copy: the server's applied zxid before and after the copy bound
// what the copy may hold. Everything in the logs up to the zxid read after
// is committed (the server applied it); anything later may be a proposal a
// new leader would truncate, so the copy is cut there. An election during
// the copy (the epoch moved) may have truncated a log under it: not trusted.
Result<zs::ZkState> hot_copy_once(const Node& node, const fs::path& copy,
                                  const BackupRequest& request) {
  auto before = applied_zxid(node);
  if (!before) return before.error();
  if (Status s = copy_data_files(node.dirs, copy, request.all_files); !s) return s.error();
  auto after = applied_zxid(node);
  if (!after) return after.error();
  if (zs::epoch_of(*after) != zs::epoch_of(*before)) {
    return make_error(ErrorKind::Corrupt, "the ensemble elected a leader during the copy (zxid " +
                                              zs::zxid_hex(*before) + " before, " +
                                              zs::zxid_hex(*after) + " after)");
  }
  auto state = prove_copy(copy, *after, node.dirs.snap_dir, request.read);
  if (!state) return state.error();
  // The server applied `before` ahead of the copy, so a copy ending earlier
  // missed a log that was rolled (or not yet flushed) under it.
  if (state->last_zxid < *before) {
    return make_error(ErrorKind::Corrupt, "the copied logs end at " +
                                              zs::zxid_hex(state->last_zxid) +
                                              ", before the server's " + zs::zxid_hex(*before));
  }
  return state;
}

Result<Capture> capture_hot(const Node& node, const fs::path& staging,
                            const BackupRequest& request) {
  Capture capture;
  std::string failures;
  for (capture.attempts = 1;; ++capture.attempts) {
    fs::path copy = staging / ("attempt-" + std::to_string(capture.attempts));
    auto state = hot_copy_once(node, copy, request);
    if (state) {
      capture.state = std::move(*state);
      return capture;
    }
    // Only the races a retry can outlast are retried; an unreadable or
    // unreachable node is reported at once.
    ErrorKind kind = state.error().kind;
    if (kind != ErrorKind::Corrupt && kind != ErrorKind::Io && kind != ErrorKind::Unhealthy) {
      return state.error();
    }
    failures += "\n  attempt " + std::to_string(capture.attempts) + ": " + state.error().message;
    std::error_code ec;
    fs::remove_all(copy, ec);
    if (capture.attempts == kHotAttempts) {
      return make_error(kind, "no consistent hot copy of " + node.dirs.snap_dir.string() +
                                  " in " + std::to_string(kHotAttempts) +
                                  " attempts (--cold stops the unit instead):" + failures);
    }
    std::this_thread::sleep_for(kHotRetryDelay);
  }
}

Status check_written(const fs::path& archive_path, const archive::Manifest& written,
                     const std::optional<archive::ArchiveKey>& key) {
  auto reader = archive::ArchiveReader::open(archive_path, key);
  if (!reader) return reader.error();
  auto read = reader->check();
  if (!read) return read.error();
  const auto same = [](const archive::FileEntry& a, const archive::FileEntry& b) {
    return a.path == b.path && a.size == b.size && a.sha256 == b.sha256;
  };
  if (!std::equal(read->files.begin(), read->files.end(), written.files.begin(),
                  written.files.end(), same)) {
    return make_error(ErrorKind::Corrupt, "it holds other files than the ones written");
  }
  return Ok{};
}

}  // namespace

Status copy_data_files(const zs::DataDirs& dirs, const fs::path& to, bool all_files) {
  // The copy is proven, archived and removed: the archive is what is synced.
  constexpr Durability kScratch = Durability::Scratch;
  auto listing = zs::list_data_dirs(dirs);
  if (!listing) return listing.error();
  // No snapshot at all: the logs alone are the restore set (load_state). A
  // snapshot that is there but incomplete is being written: fail this attempt
  // and copy it once it is done.
  std::optional<zs::ZkFile> snapshot;
  for (const zs::ZkFile& candidate : listing->snapshots) {
    if (zs::looks_complete(candidate.path)) {
      snapshot = candidate;
      break;
    }
  }
  if (!snapshot && !listing->snapshots.empty()) {
    return make_error(ErrorKind::Corrupt, dirs.snap_dir.string() + ": no complete snapshot");
  }
  fs::path snap_to = to / kArchivedSnapDir, log_to = to / kArchivedLogDir;
  std::error_code ec;
  fs::create_directories(snap_to, ec);
  fs::create_directories(log_to, ec);
  if (ec) return make_error(ErrorKind::Io, to.string() + ": " + ec.message());
  std::vector<zs::ZkFile> snapshots;
  if (snapshot) snapshots.push_back(*snapshot);
  std::vector<zs::ZkFile> logs = zs::logs_for_snapshot(listing->logs, snapshot ? snapshot->zxid : 0);
  if (all_files) {
    snapshots = listing->snapshots;
    logs = listing->logs;
  }
  for (const zs::ZkFile& file : snapshots) {
    if (Status s = copy_file_sparse(file.path, snap_to / file.path.filename(), {}, kScratch); !s) return s;
  }
  for (const char* epoch : zs::kEpochFiles) {
    if (fs::is_regular_file(fs::symlink_status(dirs.snap_dir / epoch, ec))) {
      if (Status s = copy_file_sparse(dirs.snap_dir / epoch, snap_to / epoch, {}, kScratch); !s) return s;
    }
  }
  for (const zs::ZkFile& log : logs) {
    if (Status s = copy_file_sparse(log.path, log_to / log.path.filename(), {}, kScratch); !s) return s;
  }
  return Ok{};
}

Result<BackupReport> backup(const Node& node, const BackupRequest& request) {
  auto lock = DirectoryLock::acquire(node.data_dir, "backup");
  if (!lock) return lock.error();
  BackupReport report;
  lock->report_stale_holder(report.warnings);
  // Everything that can refuse does so before the node is touched.
  auto writer = archive::ArchiveWriter::open(request.archive, request.write);
  if (!writer) return writer.error();
  auto staging = ScratchDirectory::create(request.archive.parent_path(), ".zk-tool-backup-");
  if (!staging) return staging.error();

  auto capture = request.cold ? capture_cold(node, staging->path(), request)
                              : capture_hot(node, staging->path(), request);
  if (!capture) return staging->named(capture.error());
  fault_point("backup.after-capture");
  const zs::ZkState& state = capture->state;
  report.unit_was_running = capture->unit_was_running;
  report.downtime = capture->downtime;
  report.attempts = capture->attempts;
  report.warnings.insert(report.warnings.end(), state.warnings.begin(), state.warnings.end());

  std::vector<ArchivedFile> files = files_to_archive(state);
  if (request.all_files) {
    auto older = older_files(state);
    if (!older) return older.error();
    files.insert(files.end(), older->begin(), older->end());
  }
  for (const ArchivedFile& f : files) {
    archive::AddOptions add;
    add.length = f.length;
    if (Status s = writer->add_file(f.archive_path, f.source, add); !s) {
      return staging->named(s.error());
    }
  }
  archive::Manifest manifest;
  manifest.created = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now());
  manifest.host = host_name();
  manifest.tool_version = ZKTOOL_VERSION;
  manifest.mode = request.cold ? archive::Mode::Cold : archive::Mode::Hot;
  manifest.source.paths = {node.data_dir.string()};
  if (node.data_log_dir != node.data_dir) manifest.source.paths.push_back(node.data_log_dir.string());
  manifest.source.unit = node.unit;
  manifest.summary = summarize(state);
  // The files were proven by the replay above; reading the archive back with
  // every check a restore makes proves it holds exactly those bytes.
  auto written = writer->commit(std::move(manifest), [&](const fs::path& part, const auto& m) {
    return check_written(part, m, request.write.key);
  });
  if (!written) return staging->named(written.error());
  report.manifest = std::move(written.value());
  report.archive = request.archive;
  fault_point("backup.after-commit");
  std::error_code ec;
  report.archive_size = fs::file_size(request.archive, ec);
  return report;
}

}  // namespace zktool
