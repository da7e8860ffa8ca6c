// A ZooKeeper backup in archive format v1 (src/archive/FORMAT.md): which
// files of a data directory go in, under which names, what the manifest says
// about them, and the proof that an archive restores.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "archive/encryption.h"
#include "archive/manifest.h"
#include "util/result.h"
#include "util/file_ops.h"
#include "snapshot/zookeeper_state.h"

namespace zktool {

inline constexpr std::string_view kArchivedSnapDir = "zookeeper/snapshot/version-2";
inline constexpr std::string_view kArchivedLogDir = "zookeeper/transactions/version-2";

struct ArchivedFile {
  std::filesystem::path source;
  std::string archive_path;
  std::optional<uint64_t> length;  // logs stop after their last record
};

// The restore set of `state` (snapshot, logs trimmed of preallocated zeros)
// and the epoch files, named as the archive names them. Never myid.
std::vector<ArchivedFile> files_to_archive(const snapshot::ZkState& state);

// The files of `state`'s directories older than its restore set: snapshots
// before its snapshot, logs before its first log. ZooKeeper would not load
// them, so archiving them (--all-files) changes nothing a restore serves.
Result<std::vector<ArchivedFile>> older_files(const snapshot::ZkState& state);

archive::ZooKeeperSummary summarize(const snapshot::ZkState& state);

// archive::kProofDigest when the replayed tree matched the digests ZooKeeper
// recorded, archive::kProofReplay when it recorded none (a state whose digests
// differ is refused before anything asks).
const char* proof_of(const snapshot::ZkState& state);

// The proof `state` carries in one line, for inspect and verify.
std::string proof_summary(const snapshot::ZkState& state);

// What a restore set without a snapshot is, and which ZooKeeper loads it.
inline constexpr const char* kEmptyTreeNote =
    "the logs replay over ZooKeeper's empty tree, as ZooKeeper 3.4 loads a member that has not "
    "snapshotted yet (3.5 and later load that only with -Dzookeeper.snapshot.trust.empty=true)";

// An archive extracted into a scratch directory and proven.
struct StagedBackup {
  ScratchDirectory dir;                      // removed with this object
  std::optional<archive::Manifest> manifest; // none in a dcos-zk archive
  snapshot::DataDirs dirs;                   // the staged version-2 directories
  snapshot::ZkState state;                   // loaded from them (views into dir)
};

struct StageOptions {
  snapshot::SnapshotReadOptions read;  // how the archive's snapshots are read
  // When set: refuse with ErrorKind::Io, before anything is written, unless
  // `parent`'s file system has room for every file the manifest lists and
  // this many bytes more (restore's margin). A dcos-zk archive lists
  // nothing; extraction's own limit (the free space) stops it instead.
  std::optional<uint64_t> free_space_margin;
  // Opens an encrypted archive (archive/encryption.h).
  std::optional<archive::ArchiveKey> key;
};

// Extracts `archive` into a new scratch directory under `parent` and proves
// it: every hash (while extracting), ZooKeeper's formats, the replay and its
// digests, and the manifest's account of the result. ErrorKind::Corrupt names
// what failed; nothing outside the scratch directory is written.
//
// zk-tool archives only snapshots that load, so in an archive with a
// manifest any snapshot that does not is damage. A dcos-zk archive is judged
// as ZooKeeper would load it: an unreadable newer snapshot is skipped for the
// one before, and the state's warnings name it.
Result<StagedBackup> stage_and_verify(const std::filesystem::path& archive,
                                      const std::filesystem::path& parent,
                                      const StageOptions& options = {});

}  // namespace zktool
