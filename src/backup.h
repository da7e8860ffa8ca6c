// Cold backup of one ZooKeeper node (DESIGN.md sections 3 and 4): stop the
// unit, copy the restore set, start the unit, then (with the node serving
// again) prove the copy, write the archive and prove the archive. The node is
// down only while files are copied, never while compressing or checking.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "archive/archive_writer.h"
#include "archive/manifest.h"
#include "common/result.h"
#include "node.h"

namespace zktool {

struct BackupRequest {
  std::filesystem::path archive;  // must not exist
  archive::WriteOptions write;
};

struct BackupReport {
  std::filesystem::path archive;
  uint64_t archive_size = 0;
  archive::Manifest manifest;
  bool unit_was_running = false;
  std::chrono::duration<double> downtime{};  // unit stop requested to start confirmed
  std::vector<std::string> warnings;
};

Result<BackupReport> backup_cold(const Node& node, const BackupRequest& request);

// Copies the files ZooKeeper would load from `dirs` into <to>/zookeeper/
// {snapshot,transactions}/version-2, chosen by name as ZooKeeper does (the
// newest snapshot that looks complete, the logs it needs, the epochs), with
// logs kept sparse. Cheap enough to run while the node is stopped.
Status copy_restore_set(const snapshot::DataDirs& dirs, const std::filesystem::path& to);

}  // namespace zktool
