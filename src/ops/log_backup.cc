#include "ops/log_backup.h"

#include <unistd.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "archive/archive_reader.h"
#include "util/file_ops.h"
#include "ops/directory_swap.h"
#include "ops/lock.h"
#include "replicated_log/initialize.h"
#include "replicated_log/payload.h"
#include "replicated_log/replica_store.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;
namespace rlog = replicated_log;

// The payload's files (replicated_log/payload.h) as the archive names them.
const std::string kPayloadDir = "replicated_log";
const std::string kMetadataPath = kPayloadDir + "/" + rlog::kMetadataFile;
const std::string kActionsPath = kPayloadDir + "/" + rlog::kActionsFile;

fs::path parent_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

// Absolute, without "." or ".." and without a trailing separator, so that the
// files named after the replica (lock, journal, aside) land beside it, not in it.
fs::path replica_path(const fs::path& given) {
  fs::path path = fs::absolute(given).lexically_normal();
  return path.has_filename() ? path : path.parent_path();
}

fs::path with_suffix(const fs::path& replica, std::string_view suffix) {
  fs::path path = replica;
  path += suffix;
  return path;
}

// On the replica's parent, since a restore moves the replica aside and
// replaces it; the record sits beside the replica.
Result<DirectoryLock> lock_replica(const fs::path& replica, const std::string& command) {
  return DirectoryLock::acquire_in(replica.parent_path(),
                                   with_suffix(replica, ".zk-tool.lock").filename().string(),
                                   replica, command);
}

// Where a restore builds the new replica: a scratch directory beside it.
std::string staging_prefix(const fs::path& replica) {
  // Built by appending: GCC 12 at -O3 warns falsely (-Wrestrict) on "lit" + string here.
  std::string prefix(".");
  prefix.append(replica.filename().string()).append(".restore-");
  return prefix;
}

// Settles what a restore that died mid-swap left (its journal, directory_swap.h).
// Between its two renames (both replicas still where the journal says)
// nothing is guessed: the operator is told where each replica is and how to
// finish or go back. Any other leftover is a restore that either finished or
// never started its swap; the journal and the unused staged copy are then
// removed.
Status settle_interrupted_restore(const fs::path& replica) {
  const fs::path journal_path = swap_journal_beside(replica);
  auto journal = read_swap_journal(journal_path);
  if (!journal) return journal.error();
  if (!*journal) return Ok{};
  // Only what this code writes is trusted: the staged replica must sit in a
  // scratch directory of ours beside the replica, since it will be deleted.
  const SwapRecord& j = (*journal)->records.front();
  const fs::path scratch = j.replacement.parent_path();
  if ((*journal)->records.size() != 1 || j.live != replica ||
      scratch.parent_path() != replica.parent_path() ||
      !scratch.filename().string().starts_with(staging_prefix(replica))) {
    return make_error(ErrorKind::Unsafe, journal_path.string() +
                                             " is not a restore journal zk-tool wrote; "
                                             "inspect the replicas beside it by hand");
  }
  std::error_code ec;
  const bool aside = !j.aside.empty() && fs::exists(fs::symlink_status(j.aside, ec));
  const bool staged = fs::exists(fs::symlink_status(j.replacement, ec));
  if (aside && staged) {
    const bool recreated = fs::exists(fs::symlink_status(replica, ec));
    const std::string clear =
        recreated ? "mv " + replica.string() + " " + replica.string() + ".recreated && " : "";
    return make_error(
        ErrorKind::Unsafe,
        "a restore of " + replica.string() +
            " stopped between moving the old replica aside and renaming the new one in (" +
            journal_path.string() + "): the previous replica is " + j.aside.string() +
            ", the restored one " + j.replacement.string() +
            (recreated ? ", and " + replica.string() + " was created since" : "") +
            ". To finish the restore: " + clear + "mv " + j.replacement.string() + " " +
            replica.string() + "; to go back: " + clear + "mv " + j.aside.string() + " " +
            replica.string() + "; then run this again (the unit may still be stopped)");
  }
  fs::remove_all(scratch, ec);
  if (ec) {
    return make_error(ErrorKind::Io, "cannot remove " + scratch.string() +
                                         " left by an earlier restore: " + ec.message());
  }
  return remove_swap_journal(journal_path);
}

// Runs `work` with the unit stopped, and starts the unit again afterwards
// whatever `work` returned. A unit that did not stop is left alone.
Status with_unit_stopped(const ServiceTarget& service, const std::function<Status()>& work) {
  if (!service.unit) return work();
  auto systemd = service::ServiceManager::connect(service.bus);
  if (!systemd) return systemd.error();
  const auto now = [] { return std::chrono::steady_clock::now(); };
  if (auto stopped = systemd->stop_unit(*service.unit, now() + service.stop_timeout); !stopped) {
    return stopped.error();
  }
  Status done = work();
  auto started = systemd->start_unit(*service.unit, now() + service.start_timeout);
  if (!started) {
    return make_error(started.error().kind,
                      started.error().message +
                          (done ? " (the replica work before it succeeded)"
                                : "; before that: " + done.error().message));
  }
  if (!done) {
    return make_error(done.error().kind,
                      done.error().message + " (" + *service.unit + " was started again)");
  }
  return Ok{};
}

struct StagedReplica {
  ScratchDirectory scratch;
  fs::path replica;  // inside scratch
  archive::ReplicatedLogSummary summary;
};

Result<StagedReplica> stage_from_archive(const fs::path& archive_path, const fs::path& parent,
                                         const std::string& prefix,
                                         const std::optional<archive::ArchiveKey>& key) {
  auto reader = archive::ArchiveReader::open(archive_path, key);
  if (!reader) return reader.error();
  if (!reader->manifest()) {
    return make_error(ErrorKind::Corrupt, archive_path.string() +
                                              " has no zk-tool manifest (a dcos-zk ZooKeeper "
                                              "archive?), not a mesos-replicated-log archive");
  }
  const archive::Manifest& manifest = *reader->manifest();
  if (manifest.kind() != archive::Kind::ReplicatedLog) {
    return make_error(ErrorKind::Corrupt, archive_path.string() + " is a " +
                                              std::string(archive::to_string(manifest.kind())) +
                                              " archive, not mesos-replicated-log");
  }
  const std::set<std::string> expected_files{kMetadataPath, kActionsPath};
  std::set<std::string> listed;
  for (const archive::FileEntry& f : manifest.files) listed.insert(f.path);
  if (listed != expected_files) {
    return make_error(ErrorKind::Corrupt, archive_path.string() + ": the payload must be " +
                                              kMetadataPath + " and " + kActionsPath +
                                              " and nothing else");
  }

  auto scratch = ScratchDirectory::create(parent, prefix);
  if (!scratch) return scratch.error();
  const fs::path payload = scratch->path() / "archive";
  std::error_code ec;
  if (!fs::create_directory(payload, ec)) {
    return make_error(ErrorKind::Io, "cannot create " + payload.string() + ": " + ec.message());
  }
  if (auto extracted = reader->extract_verified(payload); !extracted) {
    return scratch->named(extracted.error());
  }
  const auto summary = std::get<archive::ReplicatedLogSummary>(manifest.summary);
  fs::path replica = scratch->path() / "replica";
  if (Status s = rlog::build_from_payload(payload / kPayloadDir, replica,
                                          {summary.begin, summary.end, summary.entries});
      !s) {
    return scratch->named(
        make_error(s.error().kind, archive_path.string() + ": " + s.error().message));
  }
  return StagedReplica{std::move(scratch.value()), std::move(replica), summary};
}

Result<StagedReplica> stage_blank(const fs::path& parent, const std::string& prefix) {
  auto scratch = ScratchDirectory::create(parent, prefix);
  if (!scratch) return scratch.error();
  fs::path replica = scratch->path() / "replica";
  if (Status s = rlog::initialize(replica); !s) return s.error();
  return StagedReplica{std::move(scratch.value()), std::move(replica), {}};
}

// Moves `replica` (if any) aside and the staged one in, under the journal.
// The journal names the staged replica where its scratch directory was made:
// the next run, which reads it, has no descriptor of it.
Result<std::optional<fs::path>> swap_in(const fs::path& replica, const StagedReplica& staging) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(replica, ec))) {
    // Rule 6 for a replica: nothing may hold it. A damaged one may still be replaced.
    auto held = rlog::ReplicaStore::open_read_only(replica);
    if (!held && held.error().kind != ErrorKind::Corrupt) return held.error();
  }
  auto aside = swap_directories(
      swap_journal_beside(replica),
      {{replica, staging.replica, staging.scratch.named(staging.replica)}}, "pre-restore",
      "log-restore");
  if (!aside) return aside.error();
  if (aside->empty()) return std::optional<fs::path>();
  return std::optional<fs::path>(aside->front());
}

}  // namespace

Result<archive::Manifest> backup_replicated_log(const LogBackupRequest& request) {
  const fs::path replica = replica_path(request.replica);
  auto lock = lock_replica(replica, "log backup");
  if (!lock) return lock.error();
  if (Status s = settle_interrupted_restore(replica); !s) return s.error();
  auto writer = archive::ArchiveWriter::open(request.archive, request.write);
  if (!writer) return writer.error();
  const fs::path parent = parent_of(request.archive);
  auto scratch = ScratchDirectory::create(parent, ".zk-tool-log-backup-");
  if (!scratch) return scratch.error();

  std::optional<rlog::ReplicaState> state;
  Status exported = with_unit_stopped(request.service, [&]() -> Status {
    auto s = rlog::export_payload(replica, scratch->path());
    if (!s) return s.error();
    state = std::move(s.value());
    return Ok{};
  });
  if (!exported) return exported.error();
  if (Status s = writer->add_file(kMetadataPath, scratch->path() / rlog::kMetadataFile);
      !s) {
    return s.error();
  }
  if (Status s = writer->add_file(kActionsPath, scratch->path() / rlog::kActionsFile);
      !s) {
    return s.error();
  }

  archive::Manifest manifest;
  manifest.created =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  manifest.host = host_name();
  manifest.tool_version = ZKTOOL_VERSION;
  manifest.mode = archive::Mode::Cold;  // the store's LOCK proves nothing was writing
  manifest.source.paths = {replica.string()};
  manifest.source.unit = request.service.unit;
  manifest.summary = archive::ReplicatedLogSummary{state->begin, state->end, state->actions};
  // Prove the archive as a restore would: rebuild the replica from it.
  auto written = writer->commit(std::move(manifest), [&](const fs::path& part, const auto&) {
    auto proof = stage_from_archive(part, parent, ".zk-tool-log-verify-", request.write.key);
    return proof ? Status(Ok{}) : Status(proof.error());
  });
  if (!written) return written.error();
  return written;
}

Result<LogRestoreReport> restore_replicated_log(const LogRestoreRequest& request) {
  if (request.blank == request.archive.has_value()) {
    return make_error(ErrorKind::Usage, "restore needs an archive or --blank, and not both");
  }
  const fs::path replica = replica_path(request.replica);
  auto lock = lock_replica(replica, "log restore");
  if (!lock) return lock.error();
  if (Status s = settle_interrupted_restore(replica); !s) return s.error();
  const fs::path parent = replica.parent_path();
  const std::string prefix = staging_prefix(replica);
  auto staged = request.blank ? stage_blank(parent, prefix)
                              : stage_from_archive(*request.archive, parent, prefix, request.key);
  if (!staged) return staged.error();
  std::error_code ec;
  if (fs::is_directory(replica, ec)) {
    if (Status s = take_ownership_of(staged->replica, replica); !s) return s.error();
  }

  LogRestoreReport report;
  report.summary = staged->summary;
  Status swapped = with_unit_stopped(request.service, [&]() -> Status {
    auto aside = swap_in(replica, *staged);
    if (!aside) return aside.error();
    report.moved_aside = std::move(aside.value());
    return Ok{};
  });
  if (!swapped) return swapped.error();
  return report;
}

}  // namespace zktool
