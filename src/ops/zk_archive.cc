#include "ops/zk_archive.h"

#include <cstdint>

#include "archive/archive_reader.h"

namespace zktool {

namespace fs = std::filesystem;
namespace zs = zktool::snapshot;

std::vector<ArchivedFile> files_to_archive(const zs::ZkState& state) {
  std::vector<ArchivedFile> files;
  std::string snap_dir(kArchivedSnapDir), log_dir(kArchivedLogDir);
  if (!state.from_empty_tree()) {
    files.push_back({state.snapshot, snap_dir + "/" + state.snapshot.filename().string(), {}});
  }
  for (const char* epoch : zs::kEpochFiles) {
    fs::path p = state.dirs.snap_dir / epoch;
    std::error_code ec;
    if (fs::is_regular_file(fs::symlink_status(p, ec))) {  // a link is not followed
      files.push_back({p, snap_dir + "/" + epoch, {}});
    }
  }
  for (const zs::LogUsed& log : state.logs) {
    files.push_back({log.file, log_dir + "/" + log.file.filename().string(), log.end_offset});
  }
  return files;
}

Result<std::vector<ArchivedFile>> older_files(const zs::ZkState& state) {
  auto listing = zs::list_data_dirs(state.dirs);
  if (!listing) return listing.error();
  std::vector<ArchivedFile> files;
  std::string snap_dir(kArchivedSnapDir), log_dir(kArchivedLogDir);
  for (const zs::ZkFile& s : listing->snapshots) {
    if (s.zxid < state.snapshot_zxid) {
      files.push_back({s.path, snap_dir + "/" + s.path.filename().string(), {}});
    }
  }
  zs::Zxid first_log = state.logs.empty() ? state.last_zxid + 1 : state.logs.front().first_zxid;
  for (const zs::ZkFile& l : listing->logs) {
    if (l.zxid < first_log) files.push_back({l.path, log_dir + "/" + l.path.filename().string(), {}});
  }
  return files;
}

archive::ZooKeeperSummary summarize(const zs::ZkState& state) {
  archive::ZooKeeperSummary s;
  s.snapshot_zxid = state.snapshot_zxid;
  s.last_zxid = state.last_zxid;
  s.znode_count = state.tree.node_count();
  s.ephemeral_count = state.tree.ephemeral_count();
  s.session_count = state.tree.sessions().size();
  s.digest = state.tree_digest();
  s.proof = proof_of(state);
  return s;
}

const char* proof_of(const zs::ZkState& state) {
  return state.digest.verified() == true ? archive::kProofDigest : archive::kProofReplay;
}

std::string proof_summary(const zs::ZkState& state) {
  auto verified = state.digest.verified();
  if (verified == false) return "none: the replayed tree differs from ZooKeeper's digests";
  if (verified == true) return "digest: the replayed tree matches the digests ZooKeeper recorded";
  return "replay: ZooKeeper recorded no digests, so every seal, zxid continuity and the replay "
         "of every transaction were checked; zk-tool's digest of the tree is " +
         std::to_string(state.tree_digest());
}

namespace {

Error corrupt(const fs::path& archive, const std::string& what) {
  return make_error(ErrorKind::Corrupt, archive.string() + ": " + what);
}

Status check_against_manifest(const fs::path& archive, const archive::Manifest& manifest,
                              const zs::ZkState& state) {
  const auto* expected = std::get_if<archive::ZooKeeperSummary>(&manifest.summary);
  if (expected == nullptr) {
    return corrupt(archive, "a " + std::string(archive::to_string(manifest.kind())) +
                                " archive, not a ZooKeeper backup");
  }
  archive::ZooKeeperSummary actual = summarize(state);
  auto differs = [&](const char* field, const std::string& want, const std::string& got) {
    return corrupt(archive, std::string("the manifest says ") + field + " " + want +
                                " but the files replay to " + got);
  };
  if (actual.snapshot_zxid != expected->snapshot_zxid) {
    return differs("snapshot_zxid", zs::zxid_hex(expected->snapshot_zxid),
                   zs::zxid_hex(actual.snapshot_zxid));
  }
  if (actual.last_zxid != expected->last_zxid) {
    return differs("last_zxid", zs::zxid_hex(expected->last_zxid), zs::zxid_hex(actual.last_zxid));
  }
  if (actual.znode_count != expected->znode_count) {
    return differs("znode_count", std::to_string(expected->znode_count),
                   std::to_string(actual.znode_count));
  }
  if (actual.ephemeral_count != expected->ephemeral_count) {
    return differs("ephemeral_count", std::to_string(expected->ephemeral_count),
                   std::to_string(actual.ephemeral_count));
  }
  if (actual.session_count != expected->session_count) {
    return differs("session_count", std::to_string(expected->session_count),
                   std::to_string(actual.session_count));
  }
  // Manifests written before `proof` hold a digest only when ZooKeeper's own confirmed it.
  if (!expected->proof.empty() && actual.proof != expected->proof) {
    return differs("proof", expected->proof, actual.proof);
  }
  if (expected->digest && actual.digest != expected->digest) {
    return differs("digest", std::to_string(*expected->digest), std::to_string(*actual.digest));
  }
  return Ok{};
}

// Staging writes every file the manifest lists onto `parent`'s file system.
Status check_free_space(const fs::path& archive_path, const archive::Manifest& manifest,
                        const fs::path& parent, uint64_t margin) {
  uint64_t needed = margin;
  for (const archive::FileEntry& f : manifest.files) {
    needed = f.size > UINT64_MAX - needed ? UINT64_MAX : needed + f.size;
  }
  auto free = free_bytes(parent);
  if (!free) return free.error();
  if (*free >= needed) return Ok{};
  return make_error(ErrorKind::Io, "not enough space to stage " + archive_path.string() + ": " +
                                       parent.string() + " has " + std::to_string(*free) +
                                       " bytes free, the archive's files and a " +
                                       std::to_string(margin >> 20) + " MiB margin need " +
                                       std::to_string(needed) + "; nothing was changed");
}

}  // namespace

Result<StagedBackup> stage_and_verify(const fs::path& archive_path, const fs::path& parent,
                                      const StageOptions& options) {
  auto reader = archive::ArchiveReader::open(archive_path, options.key);
  if (!reader) return reader.error();
  if (options.free_space_margin && reader->manifest()) {
    if (Status s = check_free_space(archive_path, *reader->manifest(), parent,
                                    *options.free_space_margin);
        !s) {
      return s.error();
    }
  }
  auto dir = ScratchDirectory::create(parent, ".zk-tool-staging-");
  if (!dir) return dir.error();
  archive::Limits limits;
  if (auto space = free_bytes(parent)) limits.max_total_bytes = *space;
  auto extracted = reader->extract_verified(dir->path(), limits);
  if (!extracted) return dir->named(extracted.error());
  if (extracted->manifest && extracted->manifest->kind() != archive::Kind::ZooKeeper) {
    return corrupt(archive_path, "a " + std::string(archive::to_string(extracted->manifest->kind())) +
                                     " archive, not a ZooKeeper backup");
  }
  // A dcos-zk archive of a node with no logs has no transactions directory.
  fs::path root = dir->path() / "zookeeper";
  std::error_code ec;
  fs::create_directories(root / "snapshot" / "version-2", ec);
  fs::create_directories(root / "transactions" / "version-2", ec);
  auto dirs = zs::resolve_data_dirs(root, std::nullopt);
  if (!dirs) return dir->named(dirs.error());
  zs::LoadOptions load;
  load.snapshot = options.read;
  auto state = zs::load_state(*dirs, load);
  if (!state) return dir->named(corrupt(archive_path, state.error().message));
  if (extracted->manifest && !state->skipped.empty()) {
    const zs::SkippedSnapshot& skipped = state->skipped.front();
    return dir->named(corrupt(archive_path, "snapshot " + skipped.file.filename().string() +
                                                " does not load: " + skipped.reason));
  }
  for (std::string& warning : state->warnings) {
    warning = dir->named(make_error(ErrorKind::Corrupt, std::move(warning))).message;
  }
  if (state->digest.verified() == false) {
    return corrupt(archive_path, "the replayed tree does not match the digests ZooKeeper recorded");
  }
  if (extracted->manifest) {
    if (Status s = check_against_manifest(archive_path, *extracted->manifest, *state); !s) {
      return s.error();
    }
  }
  return StagedBackup{std::move(dir.value()), std::move(extracted->manifest), *dirs,
                      std::move(state.value())};
}

}  // namespace zktool
