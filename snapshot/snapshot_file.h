// Reads and writes ZooKeeper snapshot files (`snapshot.<hex zxid>[.gz|.snappy]`)
// as FileSnap does; the byte layout is in FORMAT.md beside this file.
//
// A snapshot is accepted only if every Adler32 seal it carries checks out. It is
// fuzzy: written while the tree changed, so it is exact only after replaying the
// log from the zxid in its name (see zookeeper_state.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "snapshot/bytes.h"
#include "snapshot/compression.h"
#include "snapshot/jute.h"
#include "snapshot/records.h"

namespace zktool::snapshot {

// The tree digest as of a zxid (DataTree.ZxidDigest).
struct ZxidDigest {
  Zxid zxid = 0;
  int32_t version = 0;
  int64_t digest = 0;
};

struct SnapshotNode {
  std::string_view path;  // "" is the root
  Blob data;
  int64_t acl_index = -1;  // -1 is OPEN_ACL_UNSAFE, otherwise a key of SnapshotInfo::acls
  Stat stat;
};

struct SnapshotInfo {
  std::string name;        // file name, for messages
  Zxid zxid = 0;           // from the file name
  int64_t dbid = 0;
  std::vector<std::pair<int64_t, int32_t>> sessions;  // (session id, timeout ms)
  std::map<int64_t, AclList> acls;
  uint64_t node_count = 0;
  std::optional<ZxidDigest> digest;         // absent before 3.6 or when digests are off
  std::optional<Zxid> last_processed_zxid;  // the 3.9 trailer
  int seals = 0;                            // Adler32 seals that checked out
  uint64_t uncompressed_size = 0;
  // The uncompressed bytes every view above (and in visited nodes) points into.
  std::shared_ptr<const Bytes> bytes;
};

// A compressed snapshot may decompress to at most max_expansion times its
// own size, and to at least this much whatever its size: the bound comes from
// the bytes the file holds, not from what its headers claim.
inline constexpr uint64_t kMinDecompressionLimit = uint64_t{64} << 20;

struct SnapshotReadOptions {
  uint32_t max_length = kDefaultJuteMaxLength;  // jute.maxbuffer + extrasize
  // ZooKeeper's own gzip and snappy snapshots shrink well under 20x; zeros
  // or repeated data (a bomb) shrink 1000x. Raise it for an honest outlier.
  uint32_t max_expansion = 64;
};

// The most a compressed snapshot of `compressed_size` bytes may decompress to.
uint64_t decompression_limit(uint64_t compressed_size, const SnapshotReadOptions& options);

using SnapshotNodeVisitor = std::function<void(const SnapshotNode&)>;

// Parses the zxid out of `snapshot.<hex>[.ext]` or `log.<hex>`; nullopt if the
// name is not of that form.
std::optional<Zxid> zxid_from_file_name(std::string_view name, std::string_view prefix);

// ZooKeeper's cheap test before it parses a snapshot (SnapStream.isValidSnapshot):
// an uncompressed snapshot ends with the "/" that closes its nodes, a
// compressed one starts with its stream's magic. Reads only those bytes, with
// pread: `file` may be a live one, which is never mapped.
bool looks_complete(const std::filesystem::path& file);

// Reads and checks the snapshot at `file`, calling `on_node` for every node in
// file order (parents before children). Nodes are only valid to use after the
// call returns successfully: a later seal may still reject the file.
Result<SnapshotInfo> read_snapshot(const std::filesystem::path& file,
                                   const SnapshotNodeVisitor& on_node,
                                   const SnapshotReadOptions& options = {});

// The same, on uncompressed bytes already in memory. `name` must have the
// `snapshot.<hex zxid>` form.
Result<SnapshotInfo> parse_snapshot(std::shared_ptr<const Bytes> bytes, const std::string& name,
                                    const SnapshotNodeVisitor& on_node,
                                    const SnapshotReadOptions& options = {});

// What a snapshot writer is given: nodes must come parents first.
struct SnapshotContents {
  std::vector<std::pair<int64_t, int32_t>> sessions;
  std::map<int64_t, AclList> acls;
  std::vector<SnapshotNode> nodes;
  std::optional<ZxidDigest> digest;
};

// Serializes `contents` as ZooKeeper 3.6-3.8 does (header, sessions, ACLs,
// nodes, seal, digest, seal), compressed as asked.
Result<std::string> serialize_snapshot(const SnapshotContents& contents,
                                       SnapshotCompression compression);

// Writes `contents` as `<dir>/snapshot.<hex zxid>[.gz|.snappy]`, durably: to a
// temporary name ZooKeeper ignores, fsynced, renamed, directory fsynced.
// Returns the path written.
Result<std::filesystem::path> write_snapshot_file(const SnapshotContents& contents, Zxid zxid,
                                                  const std::filesystem::path& dir,
                                                  SnapshotCompression compression);

}  // namespace zktool::snapshot
