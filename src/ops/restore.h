// Restore and rollback of one ZooKeeper node, under the README's safety rules.
//
// restore: prove the archive into a staging directory on the data's own file
// system, give it a new restore generation (epoch.h) and the owner and mode
// of the data it replaces, stop the unit, move each live version-2 directory
// aside as version-2.pre-restore-<time> and rename the staged one in (myid,
// outside version-2, stays the node's own), start the unit, and wait until the
// ensemble serves the restored generation, then read the node's tree back
// through the client API and compare it with the archive's. Run it on every master, in any
// order or at once: restored nodes never follow members that still serve the
// old data, and form their own quorum as soon as enough of them run.
//
// rollback: the same moves in reverse, with the old data given the newest
// generation so that it, in turn, wins.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "archive/encryption.h"
#include "archive/manifest.h"
#include "util/result.h"
#include "health/ensemble_health.h"
#include "ops/node.h"
#include "ops/readback.h"
#include "snapshot/snapshot_file.h"

namespace zktool {

struct WaitOptions {
  bool wait = true;
  std::chrono::seconds timeout{1800};
};

struct RestoreRequest {
  std::filesystem::path archive;
  snapshot::SnapshotReadOptions read;  // how the archive's snapshots are read
  std::optional<archive::ArchiveKey> key;  // opens an encrypted archive
  bool dry_run = false;
  WaitOptions wait;
  // Once the ensemble is healthy, the node's tree is read back and compared
  // with the archive's (readback.h); max_znodes 0 skips it.
  health::ServedWalkOptions read_back;
};

struct SwapReport {
  std::vector<std::filesystem::path> moved_aside;  // where the replaced data now is
  int64_t epoch = 0;                               // the generation's first epoch installed
  std::optional<health::EnsembleHealth> health;    // the last health seen, when waited
  std::chrono::duration<double> downtime{};        // unit stop requested to start confirmed
  std::vector<std::string> warnings;
};

struct RestoreReport : SwapReport {
  std::optional<archive::Manifest> manifest;  // none for a dcos-zk archive
  std::optional<ReadbackReport> read_back;    // when it waited and read the tree back
  int64_t restored_zxid = 0;
  uint64_t znode_count = 0;
  std::vector<std::string> plan;  // what happens (or happened), one line a step
};

Result<RestoreReport> restore(const Node& node, const RestoreRequest& request);

struct RollbackReport : SwapReport {
  std::vector<std::filesystem::path> restored_from;  // the pre-restore directories put back
};

Result<RollbackReport> rollback(const Node& node, const WaitOptions& wait);

}  // namespace zktool
