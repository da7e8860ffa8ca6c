// Backup and restore of a Mesos replicated-log replica (`zk-tool log backup`
// and `log restore`). The payload layout is in replicated_log/FORMAT.md.
//
// Neither ever opens a replica that a running process holds: with a unit the
// unit is stopped first, and the replica is opened read-only through the
// store, which takes LevelDB's LOCK (a replica still held is ErrorKind::Locked)
// and writes nothing to the directory. A unit that was stopped is started
// again whatever happened in between.
//
// One run at a time per replica: both lock the replica's parent directory,
// with the record in `<replica>.zk-tool.lock` beside the replica (never
// inside it, since restore replaces it); a second run is ErrorKind::Locked
// naming the holder. Both first settle what an
// interrupted restore left (see restore_replicated_log).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "archive/archive_writer.h"
#include "archive/manifest.h"
#include "util/result.h"
#include "ops/service_options.h"

namespace zktool {

// The systemd unit that runs the replica's scheduler, if any.
struct LogBackupRequest {
  std::filesystem::path archive;  // must not exist; its directory must
  std::filesystem::path replica;
  ServiceTarget service;
  archive::WriteOptions write;
};

// Archives the replica's metadata and every stored action, then proves the
// archive by reading it back. Returns the manifest as written.
Result<archive::Manifest> backup_replicated_log(const LogBackupRequest& request);

struct LogRestoreRequest {
  // The archive to restore; unset only with `blank`.
  std::optional<std::filesystem::path> archive;
  std::filesystem::path replica;  // its parent directory must exist
  ServiceTarget service;
  // Instead of an archive, a replica as `mesos-log initialize` leaves it.
  bool blank = false;
  std::optional<archive::ArchiveKey> key;  // opens an encrypted archive
};

struct LogRestoreReport {
  archive::ReplicatedLogSummary summary;      // of the replica now in place
  std::optional<std::filesystem::path> moved_aside;  // the previous replica, kept
};

// Verifies the archive and builds the new replica beside `replica` before
// touching anything live; then moves the old replica aside as
// `<replica>.pre-restore-<UTC time>` and renames the new one in. A failure
// before that point leaves `replica` exactly as it was. The two renames run
// under the swap journal (ops/directory_swap.h), `<replica>.zk-tool-restore`:
// a run that finds one whose two replicas are both still where it says
// refuses (ErrorKind::Unsafe) with the commands that finish or undo the swap,
// and otherwise removes it.
Result<LogRestoreReport> restore_replicated_log(const LogRestoreRequest& request);

}  // namespace zktool
