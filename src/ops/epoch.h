// Restore generations: how a restored node is kept from ever being synced
// back to the data it replaced (README safety rule 8).
//
// A ZooKeeper server refuses to follow a leader whose epoch is below its own
// accepted epoch, and elections prefer the highest epoch. So a restore writes
// its node's acceptedEpoch and currentEpoch as an epoch above every epoch the
// old data was served under: restored nodes then never follow a member still
// serving the old data, they elect a leader among themselves once a quorum of
// them runs, and old members that join them are synced to the restored state.
//
// Every master restored from one archive must install the same epoch, in
// whatever order they run, even on a master that the already restored ones
// have synced meanwhile. So the epoch is laid out as
//
//     bits 20..30  generation: one above the highest seen, or the round's own
//     bits  8..19  the round: 12 bits of a hash of what is being installed
//     bits  0..7   elections since (ZooKeeper adds one per election)
//
// and a master that sees an epoch of its own round (on its own data, or on a
// serving member) joins that round's generation instead of starting a new one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace zktool {

inline constexpr int kGenerationShift = 20;
inline constexpr int kRoundShift = 8;
inline constexpr int64_t kRoundMask = 0xfff;

inline int64_t generation_of(int64_t epoch) { return epoch >> kGenerationShift; }

// A round id for what is installed, stable across hosts and builds (FNV-1a).
int64_t round_of(std::string_view identity);

// Whether `epoch` was installed, or elected, in `round`.
bool in_round(int64_t epoch, int64_t round);

// The epoch to install for `round`, given every epoch observed (the data's own
// and the ensemble's): the round's generation if one of them belongs to it,
// else the generation above them all.
Result<int64_t> epoch_for_round(int64_t round, const std::vector<int64_t>& observed);

// The higher of acceptedEpoch and currentEpoch in a version-2 directory, if
// either is there.
std::optional<int64_t> highest_epoch_in(const std::filesystem::path& snap_dir);

// Writes acceptedEpoch and currentEpoch (decimal, no newline, as ZooKeeper
// writes them), durably.
Status write_epochs(const std::filesystem::path& snap_dir, int64_t epoch);

}  // namespace zktool
