// The payload of a `mesos-replicated-log` archive (FORMAT.md, "Archive
// payload"): a replica's metadata and every stored action as two files,
// written from a replica and rebuilt into a new one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "util/result.h"
#include "replicated_log/replica_store.h"

namespace zktool::replicated_log {

inline constexpr const char* kMetadataFile = "metadata.bin";
inline constexpr const char* kActionsFile = "actions.bin";

// What a manifest records of a replica: its positions and its actions.
struct PayloadSummary {
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t entries = 0;  // actions stored, those below `begin` included
  bool operator==(const PayloadSummary&) const = default;
  std::string text() const;  // "begin B, end E, N entries"
};

// Writes kMetadataFile and kActionsFile into `dir` (which must exist) from
// the replica at `replica`, opened read-only. Unsafe unless the replica is
// VOTING: any other may lack entries the others hold.
Result<ReplicaState> export_payload(const std::filesystem::path& replica,
                                    const std::filesystem::path& dir);

// Builds a new VOTING replica at `replica` (which must not exist) from the
// payload in `dir`, keeping the archived promise, and checks that it
// recovers to `expected`. Corrupt, naming the file and offset, when a record
// does not decode, positions do not increase, or the result differs.
Status build_from_payload(const std::filesystem::path& dir, const std::filesystem::path& replica,
                          const PayloadSummary& expected);

}  // namespace zktool::replicated_log
