#include "backup.h"

#include <unistd.h>

#include <chrono>

#include "file_ops.h"
#include "lock.h"
#include "snapshot/compression.h"
#include "snapshot/snapshot_file.h"
#include "zk_archive.h"

namespace zktool {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;
using Clock = std::chrono::steady_clock;

namespace {

// ZooKeeper's cheap test before it parses a snapshot (SnapStream.isValidSnapshot):
// a plain snapshot ends with the seal's "/", a compressed one starts with its magic.
bool looks_complete(const fs::path& file) {
  auto bytes = zs::Bytes::map_file(file);
  if (!bytes) return false;
  std::string_view v = (*bytes)->view();
  switch (zs::compression_for_name(file.filename().string())) {
    case zs::SnapshotCompression::Gzip:
      return v.size() >= 2 && v[0] == '\x1f' && v[1] == '\x8b';
    case zs::SnapshotCompression::Snappy:
      return v.size() >= 8 && v.substr(0, 8) == std::string_view("\x82SNAPPY\0", 8);
    case zs::SnapshotCompression::None:
      return v.size() >= 10 && v.substr(v.size() - 5) == std::string_view("\0\0\0\1/", 5);
  }
  return false;
}

}  // namespace

Status copy_restore_set(const zs::DataDirs& dirs, const fs::path& to) {
  auto listing = zs::list_data_dirs(dirs);
  if (!listing) return listing.error();
  const zs::ZkFile* snapshot = nullptr;
  for (const zs::ZkFile& candidate : listing->snapshots) {
    if (looks_complete(candidate.path)) {
      snapshot = &candidate;
      break;
    }
  }
  if (snapshot == nullptr) {
    return make_error(ErrorKind::Corrupt, dirs.snap_dir.string() + ": no complete snapshot");
  }
  fs::path snap_to = to / kArchivedSnapDir, log_to = to / kArchivedLogDir;
  std::error_code ec;
  fs::create_directories(snap_to, ec);
  fs::create_directories(log_to, ec);
  if (ec) return make_error(ErrorKind::Io, to.string() + ": " + ec.message());
  if (Status s = copy_file_sparse(snapshot->path, snap_to / snapshot->path.filename()); !s) {
    return s;
  }
  for (const char* epoch : {"acceptedEpoch", "currentEpoch"}) {
    if (fs::is_regular_file(dirs.snap_dir / epoch, ec)) {
      if (Status s = copy_file_sparse(dirs.snap_dir / epoch, snap_to / epoch); !s) return s;
    }
  }
  for (const zs::ZkFile& log : zs::logs_for_snapshot(listing->logs, snapshot->zxid)) {
    if (Status s = copy_file_sparse(log.path, log_to / log.path.filename()); !s) return s;
  }
  return Ok{};
}

Result<BackupReport> backup_cold(const Node& node, const BackupRequest& request) {
  auto lock = DirectoryLock::acquire(node.data_dir, "backup");
  if (!lock) return lock.error();
  BackupReport report;
  lock->report_stale_holder(report.warnings);
  // Everything that can refuse does so before the node is touched.
  auto writer = archive::ArchiveWriter::open(request.archive, request.write);
  if (!writer) return writer.error();
  auto staging = ScratchDirectory::create(request.archive.parent_path(), ".zk-tool-backup-");
  if (!staging) return staging.error();
  auto systemd = service::ServiceManager::connect(node.bus);
  if (!systemd) return systemd.error();
  auto unit = systemd->unit_state(node.unit, Clock::now() + node.stop_timeout);
  if (!unit) return unit.error();
  report.unit_was_running = unit->active_state == "active";

  auto down_at = Clock::now();
  if (report.unit_was_running) {
    if (Status s = node.stop(*systemd); !s) {
      // A unit that stopped while something else still answers comes back up.
      if (s.error().kind == ErrorKind::Unsafe) {
        (void)systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
      }
      return s.error();
    }
  } else if (node.probe_self(std::chrono::milliseconds(500)).state != health::MemberState::kDown) {
    return make_error(ErrorKind::Unsafe, node.unit + " is not running, but a ZooKeeper answers on " +
                                             node.local.host + ":" +
                                             std::to_string(node.local.client_port) +
                                             ": a cold copy of its files would be inconsistent");
  }
  Status copied = copy_restore_set(node.dirs, staging->path());
  if (report.unit_was_running) {
    // The node comes back whatever happened to the copy.
    auto started = systemd->start_unit(node.unit, Clock::now() + node.start_timeout);
    report.downtime = Clock::now() - down_at;
    if (!started) {
      return make_error(ErrorKind::ServiceControl,
                        started.error().message + (copied ? "" : "; the copy had failed too: " +
                                                                     copied.error().message));
    }
  }
  if (!copied) return copied.error();

  // The node serves again; the rest works on the copy.
  auto dirs = zs::resolve_data_dirs(staging->path() / "zookeeper", std::nullopt);
  if (!dirs) return dirs.error();
  auto state = zs::load_state(*dirs);
  if (!state) return state.error();
  if (state->digest.verified() == false) {
    return make_error(ErrorKind::Corrupt, node.dirs.snap_dir.string() +
                                              ": the data does not replay to the digests "
                                              "ZooKeeper recorded; not backing it up");
  }
  report.warnings.insert(report.warnings.end(), state->warnings.begin(), state->warnings.end());
  for (const ArchivedFile& f : files_to_archive(*state)) {
    archive::AddOptions add;
    add.length = f.length;
    if (Status s = writer->add_file(f.archive_path, f.source, add); !s) return s.error();
  }
  archive::Manifest manifest;
  manifest.created = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::now());
  manifest.host = host_name();
  manifest.tool_version = ZKTOOL_VERSION;
  manifest.mode = archive::Mode::Cold;
  manifest.source.paths = {node.data_dir.string()};
  if (node.data_log_dir != node.data_dir) manifest.source.paths.push_back(node.data_log_dir.string());
  manifest.source.unit = node.unit;
  manifest.summary = summarize(*state);
  auto written = writer->commit(std::move(manifest));
  if (!written) return written.error();
  report.manifest = std::move(written.value());
  report.archive = request.archive;

  // Prove the archive as a restore would, before calling it a backup.
  auto proof = stage_and_verify(request.archive, request.archive.parent_path());
  if (!proof) {
    return make_error(ErrorKind::Corrupt, "the archive just written does not verify (" +
                                              proof.error().message + "); it is kept for "
                                              "inspection but is not a good backup");
  }
  std::error_code ec;
  report.archive_size = fs::file_size(request.archive, ec);
  return report;
}

}  // namespace zktool
