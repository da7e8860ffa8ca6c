// Restore generations: how a restored node is kept from ever being synced
// back to the data it replaced (DESIGN.md rule 8).
//
// A ZooKeeper server refuses to follow a leader whose epoch is below its own
// accepted epoch, and elections prefer the highest epoch. So a restore writes
// its node's acceptedEpoch and currentEpoch as the first epoch of a new
// restore generation: restored nodes then never follow a member still serving
// the old data, they elect a leader among themselves once a quorum of them
// runs, and old members that join them are synced to the restored state.
//
// A generation is the epoch's bits from kGenerationShift up. Elections only
// add one to an epoch, so a cluster stays within its generation; every node
// of one restore round derives the same generation from its own pre-restore
// epoch, whatever the order the masters are restored in.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "common/result.h"

namespace zktool {

inline constexpr int kGenerationShift = 20;

inline int64_t generation_of(int64_t epoch) { return epoch >> kGenerationShift; }

// The epoch to install: the first of the generation after every epoch given.
Result<int64_t> next_generation_epoch(int64_t highest_epoch);

// The higher of acceptedEpoch and currentEpoch in a version-2 directory, if
// either is there.
std::optional<int64_t> highest_epoch_in(const std::filesystem::path& snap_dir);

// Writes acceptedEpoch and currentEpoch (decimal, no newline, as ZooKeeper
// writes them), durably.
Status write_epochs(const std::filesystem::path& snap_dir, int64_t epoch);

}  // namespace zktool
