// The manifest, zk-tool-manifest.json: what an archive holds and the facts
// needed to check it (src/archive/FORMAT.md shows the JSON).
//
// parse_manifest() accepts only what to_json() writes: every field present
// with its type, no unknown field, format "zk-tool-archive" version 1, safe
// and unique paths under the root of the archive's kind, sizes >= 0 and
// SHA-256 digests as 64 lowercase hex digits; and, when the manifest has one
// (to_json() always writes it), a `manifest_sha256` seal that matches the
// other fields' values. Each refusal is one ErrorKind::Corrupt line naming
// the field.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/result.h"

namespace zktool::archive {

inline constexpr std::string_view kFormatName = "zk-tool-archive";
inline constexpr int kFormatVersion = 1;
inline constexpr const char* kSealField = "manifest_sha256";

enum class Kind { ZooKeeper, ReplicatedLog };
enum class Mode { Hot, Cold };

// "zookeeper" / "mesos-replicated-log"; "hot" / "cold".
std::string_view to_string(Kind kind);
std::string_view to_string(Mode mode);

struct FileEntry {
  std::string path;    // archive path, e.g. "zookeeper/snapshot/version-2/snapshot.1"
  uint64_t size = 0;   // bytes stored in the archive
  std::string sha256;  // 64 lowercase hex digits of those bytes
  bool operator==(const FileEntry&) const = default;
};

struct Source {
  std::vector<std::string> paths;   // the directories the files came from
  std::optional<std::string> unit;  // the systemd unit serving them, if any
  bool operator==(const Source&) const = default;
};

// ZooKeeper state captured by the archive. zxids are written as hex strings
// ("0x100000002", as in file names and `srvr`), the digest as a signed
// decimal number (a Java long, as ZooKeeper prints it).
inline constexpr const char* kProofDigest = "digest";
inline constexpr const char* kProofReplay = "replay";

struct ZooKeeperSummary {
  int64_t snapshot_zxid = 0;
  int64_t last_zxid = 0;
  uint64_t znode_count = 0;
  uint64_t ephemeral_count = 0;
  uint64_t session_count = 0;
  // The digest of the replayed tree (ZooKeeper's AdHash, so a later
  // ZooKeeper's digest can be compared with it). Manifests written before
  // `proof` have it only when it matched ZooKeeper's own.
  std::optional<int64_t> digest;
  // kProofDigest: the replayed tree matched the digests ZooKeeper recorded;
  // kProofReplay: ZooKeeper recorded none, so what proved the files is their
  // seals, zxid continuity and a replay of every transaction. Empty in
  // manifests written before it was recorded.
  std::string proof;
  bool operator==(const ZooKeeperSummary&) const = default;

  // Whether ZooKeeper's own digests proved the tree.
  bool digest_verified() const { return proof.empty() ? digest.has_value() : proof == kProofDigest; }
  // kProofDigest or kProofReplay, for a manifest from before `proof` too.
  const char* proof_name() const { return digest_verified() ? kProofDigest : kProofReplay; }
};

// The replicated log's positions: [begin, end] and the entries between.
struct ReplicatedLogSummary {
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t entries = 0;
  bool operator==(const ReplicatedLogSummary&) const = default;
};

struct Manifest {
  std::chrono::sys_seconds created{};  // UTC, written as "2024-05-01T12:00:00Z"
  std::string host;
  std::string tool_version;
  Mode mode = Mode::Cold;
  Source source;
  std::vector<FileEntry> files;  // in archive order
  // The kind of archive is the kind of its summary.
  std::variant<ZooKeeperSummary, ReplicatedLogSummary> summary;

  Kind kind() const;
  bool operator==(const Manifest&) const = default;
};

// Pretty-printed JSON ending in a newline. Does not validate: see validate().
std::string to_json(const Manifest& manifest);

Result<Manifest> parse_manifest(std::string_view json);

// Ok when parse_manifest(to_json(manifest)) would succeed.
Status validate(const Manifest& manifest);

}  // namespace zktool::archive
