// After a restore: does the ensemble serve the archive's tree? The node's
// tree is read back through the client API (health/served_tree.h) and each
// znode compared with the replayed archive, and srvr's node count with its
// size. What clients changed after the restore (zxids above the restored
// one) is counted, not compared.
#pragma once

#include <cstdint>
#include <string>

#include "util/result.h"
#include "health/served_tree.h"
#include "snapshot/data_tree.h"
#include "snapshot/records.h"

namespace zktool {

struct ReadbackReport {
  uint64_t served_znodes = 0;  // srvr's node count (the root counted once)
  uint64_t compared = 0;       // read back and equal to the archive's znode
  uint64_t changed_since = 0;  // created, changed or with children changed after the restore
  uint64_t unreadable = 0;     // of those compared, by their stat only: their ACL denies us READ
  bool sampled = false;        // the walk stopped at its limit
  bool count_checked = false;  // served_znodes was compared with the archive (nothing changed)

  // One line: what was compared, and what was not.
  std::string summary() const;
};

// Reads back the tree `endpoint` serves and compares it with `archive`, the
// tree the restore installed at `restored_zxid`. Unsafe, naming the first
// znode that differs (or the counts), when the served tree is another one;
// Unhealthy when it cannot be read.
Result<ReadbackReport> read_back(const health::Endpoint& endpoint,
                                 const snapshot::DataTree& archive, snapshot::Zxid restored_zxid,
                                 const health::ServedWalkOptions& options);

}  // namespace zktool
