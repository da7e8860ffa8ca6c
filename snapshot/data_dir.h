// Where ZooKeeper keeps its files and which of them it loads.
//
// ZooKeeper writes snapshots to `<dataDir>/version-2/` and logs to
// `<dataLogDir>/version-2/` (dataLogDir defaults to dataDir). DC/OS keeps both
// under one directory as `snapshot/version-2/` and `transactions/version-2/`.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <vector>

#include "util/result.h"
#include "snapshot/records.h"

namespace zktool::snapshot {

// The epoch files a ZooKeeper 3.4+ quorum member keeps beside its snapshots.
inline constexpr const char* kAcceptedEpochFile = "acceptedEpoch";
inline constexpr const char* kCurrentEpochFile = "currentEpoch";
inline constexpr std::array<const char*, 2> kEpochFiles = {kAcceptedEpochFile, kCurrentEpochFile};

struct DataDirs {
  std::filesystem::path snap_dir;  // the version-2 directory holding snapshots
  std::filesystem::path log_dir;   // the version-2 directory holding logs
};

// Accepts a dataDir (holding version-2/), a DC/OS ZooKeeper directory (holding
// snapshot/ and transactions/), or a version-2 directory itself.
// `data_log_dir`, when given, is ZooKeeper's dataLogDir (holding version-2/).
Result<DataDirs> resolve_data_dirs(const std::filesystem::path& dir,
                                   const std::optional<std::filesystem::path>& data_log_dir);

struct ZkFile {
  std::filesystem::path path;
  Zxid zxid = 0;  // from the file name
};

struct DataDirListing {
  std::vector<ZkFile> snapshots;  // newest first
  std::vector<ZkFile> logs;       // oldest first
};

// Unsafe when a name of ZooKeeper's (snapshot.*, log.*) is a symbolic link: none is followed.
Result<DataDirListing> list_data_dirs(const DataDirs& dirs);

// The logs ZooKeeper replays over a snapshot taken at `snapshot_zxid`
// (FileTxnLog.getLogFiles): the newest log starting at or before it, and every
// later log. `logs` must be oldest first.
std::vector<ZkFile> logs_for_snapshot(const std::vector<ZkFile>& logs, Zxid snapshot_zxid);

}  // namespace zktool::snapshot
