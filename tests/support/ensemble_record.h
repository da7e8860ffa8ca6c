// ensemble.json in an ensemble's base directory: the config it was planned
// from and the pid of each running node (0 when stopped), so that a later
// process can find, check and stop servers that were started detached.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <vector>

#include "util/result.h"
#include "support/ensemble.h"

namespace zktool::testsupport {

struct EnsembleRecord {
  EnsembleLayout layout;
  std::vector<pid_t> pids;  // one per node
};

std::filesystem::path ensemble_record_path(const std::filesystem::path& base_dir);

// Replaces the record atomically (write, then rename).
Status save_ensemble_record(const EnsembleRecord& record);

// Reads the record and re-plans the layout from its config; Io when there is
// none, Corrupt when it cannot be parsed.
Result<EnsembleRecord> load_ensemble_record(const std::filesystem::path& base_dir);

}  // namespace zktool::testsupport
