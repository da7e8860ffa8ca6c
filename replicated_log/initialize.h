// `mesos-log initialize` (apache/mesos src/log/tool/initialize.cpp): turns an
// EMPTY replica into a blank VOTING one, which then catches up from the other
// replicas once a quorum of VOTING replicas runs.
#pragma once

#include <filesystem>

#include "util/result.h"

namespace zktool::replicated_log {

// Writes what Mesos writes, and only that: Record{METADATA, Metadata{VOTING,
// promised as before (0)}} under key "0000000000", synced. Creates the
// database (and `dir`, not its parents) when missing, as Mesos does.
// Refuses with ErrorKind::Unsafe a replica that is not EMPTY or holds actions,
// and a directory with other files but no database; a refusal changes nothing.
Status initialize(const std::filesystem::path& dir);

}  // namespace zktool::replicated_log
