#include "fuzz_targets.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "../support/files.h"
#include "archive/archive_reader.h"
#include "archive/manifest.h"
#include "health/exhibitor_client.h"
#include "snapshot/compression.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/txn_log.h"

namespace zktool::fuzz {

namespace {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;

// A broken promise is a finding: abort so libFuzzer keeps the input.
void require(bool holds, const char* property) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property broken: %s\n", property);
  std::abort();
}

// Small enough that a decompression bomb costs milliseconds, large enough for
// every seed.
constexpr uint64_t kMaxBytes = 16u << 20;

// Compressed snapshots are told apart by their magic here, since the input
// has no file name; the checksums are over the decompressed bytes either way.
zs::SnapshotCompression compression_of(std::string_view input) {
  if (input.starts_with("\x1f\x8b")) return zs::SnapshotCompression::Gzip;
  if (input.starts_with(std::string_view("\x82SNAPPY\0", 8))) {
    return zs::SnapshotCompression::Snappy;
  }
  return zs::SnapshotCompression::None;
}

// A snapshot that parses must survive serialize_snapshot() and parse back to
// the same sessions, ACLs, nodes and digest.
bool snapshot(std::string_view input) {
  const std::string name = "snapshot.1";
  auto bytes = zs::decompress(compression_of(input), input, name, kMaxBytes);
  if (!bytes) return false;
  const zs::SnapshotReadOptions options;
  zs::SnapshotContents contents;
  auto info = zs::parse_snapshot(
      *bytes, name, [&](const zs::SnapshotNode& node) { contents.nodes.push_back(node); },
      options);
  if (!info) return false;
  require(info->node_count == contents.nodes.size(), "node_count counts the nodes visited");
  contents.sessions = info->sessions;
  contents.acls = info->acls;
  contents.digest = info->digest;
  auto written = zs::serialize_snapshot(contents, zs::SnapshotCompression::None);
  require(written.ok(), "a parsed snapshot serializes");
  std::vector<zs::SnapshotNode> reread;
  auto again = zs::parse_snapshot(
      zs::Bytes::own(std::move(*written)), name,
      [&](const zs::SnapshotNode& node) { reread.push_back(node); }, options);
  require(again.ok(), "a serialized snapshot parses");
  require(again->sessions == info->sessions && again->acls == info->acls,
          "sessions and ACLs survive a round trip");
  require(reread.size() == contents.nodes.size(), "the node count survives a round trip");
  for (size_t i = 0; i < reread.size(); ++i) {
    const zs::SnapshotNode& a = contents.nodes[i];
    const zs::SnapshotNode& b = reread[i];
    require(a.path == b.path && a.data == b.data && a.acl_index == b.acl_index &&
                a.stat == b.stat,
            "every node survives a round trip");
  }
  require(again->digest.has_value() == info->digest.has_value() &&
              (!info->digest || (again->digest->zxid == info->digest->zxid &&
                                 again->digest->version == info->digest->version &&
                                 again->digest->digest == info->digest->digest)),
          "the digest survives a round trip");
  return true;
}

// Records must tile the log from the header on, in order, inside the input.
bool txn_log(std::string_view input) {
  auto log = zs::parse_txn_log(zs::Bytes::own(std::string(input)), "log.1");
  if (!log) return false;
  uint64_t at = 16;  // "ZKLG", version, dbid
  for (const zs::TxnRecord& record : log->records) {
    require(record.offset == at, "records follow each other");
    at += record.size;
  }
  require(log->end_offset == at && at <= input.size(), "the log ends after its last record");
  return true;
}

// What parses must print and parse back to itself, and validate.
bool manifest(std::string_view input) {
  auto parsed = archive::parse_manifest(input);
  if (!parsed) return false;
  require(archive::validate(*parsed).ok(), "a parsed manifest validates");
  auto again = archive::parse_manifest(archive::to_json(*parsed));
  require(again.ok() && *again == *parsed, "a manifest survives to_json and back");
  return true;
}

bool exhibitor_status(std::string_view input) {
  auto servers = health::parse_exhibitor_status(input);
  if (!servers) return false;
  for (const health::ExhibitorServerStatus& s : *servers) {
    require(!s.hostname.empty(), "every server has a hostname");
    require(static_cast<int>(s.code) >= 0 && static_cast<int>(s.code) <= 3, "codes are 0-3");
  }
  return true;
}

// The reader opens, lists and extracts; whatever it extracts is on disk, with
// the sizes it reports and, with a manifest, exactly the files listed there.
bool archive_reader(std::string_view input) {
  // One scratch directory per process, reused by every input and removed at exit.
  static const testing::TempDir scratch("zktool-fuzz-");
  const fs::path file = scratch.path() / "input.tar";
  const fs::path staging = scratch.path() / "staging";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(input.data(), static_cast<std::streamsize>(input.size()));
    if (!out) std::abort();
  }
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directory(staging);
  auto reader = archive::ArchiveReader::open(file);
  if (!reader) return false;
  archive::Limits limits;
  limits.max_total_bytes = kMaxBytes;
  limits.max_entries = 1000;
  (void)reader->list(limits);
  auto extracted = reader->extract_verified(staging, limits);
  if (!extracted) return false;
  for (const archive::FileEntry& f : extracted->files) {
    fs::path written = staging / f.path;
    require(fs::is_regular_file(written, ec) && fs::file_size(written, ec) == f.size,
            "every extracted file is on disk with its size");
  }
  if (extracted->manifest) {
    require(extracted->files == extracted->manifest->files,
            "a verified archive holds exactly the manifest's files");
  }
  return true;
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"snapshot", snapshot},
      {"txn_log", txn_log},
      {"manifest", manifest},
      {"exhibitor_status", exhibitor_status},
      {"archive", archive_reader},
  };
  return all;
}

const Target* find_target(std::string_view name) {
  for (const Target& t : targets()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace zktool::fuzz
