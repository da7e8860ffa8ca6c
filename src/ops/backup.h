// Backup of one ZooKeeper node, into an archive as src/archive/FORMAT.md
// describes, under the README's safety rules.
//
// Hot (the default): nothing is stopped. The restore set is copied while
// ZooKeeper runs, cut at the zxid the server reports as applied after the
// copy, and proven by replaying it against the digests ZooKeeper recorded;
// a copy that raced a snapshot, a log roll, a purge or a resync is retried.
// Cold: the unit is stopped only while the files are copied.
// Either way the archive is written from the proven copy, and proven again
// before it is published under its name.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "archive/archive_writer.h"
#include "archive/manifest.h"
#include "util/result.h"
#include "ops/node.h"
#include "snapshot/snapshot_file.h"

namespace zktool {

struct BackupRequest {
  std::filesystem::path archive;  // must not exist
  archive::WriteOptions write;
  bool cold = false;
  bool all_files = false;  // every file of the data directories, not only the restore set
  snapshot::SnapshotReadOptions read;  // how the copied snapshot is read while proving it
};

struct BackupReport {
  std::filesystem::path archive;
  uint64_t archive_size = 0;
  archive::Manifest manifest;
  bool unit_was_running = false;
  std::chrono::duration<double> downtime{};  // cold: unit stop requested to start confirmed
  unsigned attempts = 1;                      // hot: copies taken until one proved consistent
  std::vector<std::string> warnings;
};

Result<BackupReport> backup(const Node& node, const BackupRequest& request);

// Copies the files ZooKeeper would load from `dirs` into <to>/zookeeper/
// {snapshot,transactions}/version-2, chosen by name as ZooKeeper does (the
// newest snapshot that looks complete, the logs it needs, the epochs), with
// logs kept sparse; with `all_files`, every snapshot and log. Never myid. A
// scratch copy: not fsynced.
Status copy_data_files(const snapshot::DataDirs& dirs, const std::filesystem::path& to,
                       bool all_files);

}  // namespace zktool
