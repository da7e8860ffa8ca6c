#include "log_backup.h"

#include <unistd.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "archive/archive_reader.h"
#include "file_ops.h"
#include "lock.h"
#include "replicated_log/initialize.h"
#include "replicated_log/keys.h"
#include "replicated_log/replica_store.h"

namespace zktool {

namespace {

namespace fs = std::filesystem;
namespace rlog = replicated_log;

constexpr std::string_view kMetadataPath = "replicated_log/metadata.bin";
constexpr std::string_view kActionsPath = "replicated_log/actions.bin";
// Bounds the memory a restore holds between two synced LevelDB batches.
constexpr size_t kBatchActions = 1024;

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

// --- The restore journal ---
//
// `<replica>.zk-tool-restore` exists exactly while a restore swaps replicas:
// written (synced) before the live replica is moved aside, removed once the
// new one is renamed in. It names both, so that a run after a crash between
// the two renames can tell the operator where each replica is.

struct Journal {
  fs::path aside;   // where the live replica goes
  fs::path staged;  // the new replica, inside its scratch directory
};

fs::path journal_path(const fs::path& replica) {
  return with_suffix(replica, ".zk-tool-restore");
}

Status write_journal(const fs::path& replica, const Journal& journal) {
  return write_file_atomically(journal_path(replica), "aside=" + journal.aside.string() +
                                                          "\nstaged=" + journal.staged.string() +
                                                          "\n");
}

Result<std::optional<Journal>> read_journal(const fs::path& replica) {
  const fs::path path = journal_path(replica);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return std::optional<Journal>();
  std::ifstream in(path);
  if (!in) return make_error(ErrorKind::Io, "cannot open " + path.string());
  Journal journal;
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("aside=")) journal.aside = line.substr(6);
    if (line.starts_with("staged=")) journal.staged = line.substr(7);
  }
  // Only what this code writes is trusted: the staged replica must sit in a
  // scratch directory of ours beside the replica, since it may be deleted.
  const fs::path scratch = journal.staged.parent_path();
  if (journal.aside.parent_path() != replica.parent_path() ||
      scratch.parent_path() != replica.parent_path() ||
      !scratch.filename().string().starts_with(staging_prefix(replica))) {
    return make_error(ErrorKind::Unsafe, path.string() +
                                             " is not a restore journal zk-tool wrote; "
                                             "inspect the replicas beside it by hand");
  }
  return std::optional<Journal>(std::move(journal));
}

Status remove_journal(const fs::path& replica) {
  std::error_code ec;
  fs::remove(journal_path(replica), ec);
  if (ec) return make_error(ErrorKind::Io, "cannot remove " + journal_path(replica).string() +
                                               ": " + ec.message());
  return fsync_path(replica.parent_path());
}

// Settles what a restore that died mid-swap left. Between its two renames
// (both replicas still where the journal says) nothing is guessed: the
// operator is told where each replica is and how to finish or go back. Any
// other leftover is a restore that either finished or never started its
// swap; the journal and the unused staged copy are then removed.
Status settle_interrupted_restore(const fs::path& replica) {
  auto journal = read_journal(replica);
  if (!journal) return journal.error();
  if (!*journal) return Ok{};
  const Journal& j = **journal;
  std::error_code ec;
  const bool aside = fs::exists(fs::symlink_status(j.aside, ec));
  const bool staged = fs::exists(fs::symlink_status(j.staged, ec));
  if (aside && staged) {
    const bool recreated = fs::exists(fs::symlink_status(replica, ec));
    const std::string clear =
        recreated ? "mv " + replica.string() + " " + replica.string() + ".recreated && " : "";
    return make_error(
        ErrorKind::Unsafe,
        "a restore of " + replica.string() +
            " stopped between moving the old replica aside and renaming the new one in (" +
            journal_path(replica).string() + "): the previous replica is " + j.aside.string() +
            ", the restored one " + j.staged.string() +
            (recreated ? ", and " + replica.string() + " was created since" : "") +
            ". To finish the restore: " + clear + "mv " + j.staged.string() + " " +
            replica.string() + "; to go back: " + clear + "mv " + j.aside.string() + " " +
            replica.string() + "; then run this again (the unit may still be stopped)");
  }
  fs::remove_all(j.staged.parent_path(), ec);
  if (ec) {
    return make_error(ErrorKind::Io, "cannot remove " + j.staged.parent_path().string() +
                                         " left by an earlier restore: " + ec.message());
  }
  return remove_journal(replica);
}

std::string summary_text(const archive::ReplicatedLogSummary& s) {
  return "begin " + std::to_string(s.begin) + ", end " + std::to_string(s.end) + ", " +
         std::to_string(s.entries) + " entries";
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

// --- The payload (replicated_log/FORMAT.md, "Archive payload") ---

Status write_bytes(std::ofstream& out, const fs::path& path, std::string_view bytes) {
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return make_error(ErrorKind::Io, "cannot write " + path.string());
  return Ok{};
}

std::string serialize(const google::protobuf::MessageLite& message) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) throw std::logic_error("cannot serialize a record");
  return bytes;
}

std::array<char, 8> big_endian(uint64_t value) {
  std::array<char, 8> out{};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(static_cast<uint8_t>(value >> (56 - 8 * i)));
  }
  return out;
}

// Writes metadata.bin and actions.bin into `dir` from the replica, which must
// be VOTING: any other replica may be missing entries the others hold.
Result<rlog::ReplicaState> export_replica(const fs::path& replica, const fs::path& dir) {
  auto store = rlog::ReplicaStore::open_read_only(replica);
  if (!store) return store.error();
  auto state = store->recover();
  if (!state) return state.error();
  if (state->metadata.status() != rlog::Metadata::VOTING) {
    return make_error(ErrorKind::Unsafe,
                      replica.string() + " is " +
                          rlog::Metadata::Status_Name(state->metadata.status()) +
                          ", not VOTING: it may lack entries; back up a VOTING replica");
  }
  const fs::path metadata_file = dir / "metadata.bin";
  std::ofstream metadata(metadata_file, std::ios::binary | std::ios::trunc);
  if (Status s = write_bytes(metadata, metadata_file, serialize(state->metadata)); !s) {
    return s.error();
  }
  metadata.close();
  if (!metadata) return make_error(ErrorKind::Io, "cannot write " + metadata_file.string());

  const fs::path actions_file = dir / "actions.bin";
  std::ofstream actions(actions_file, std::ios::binary | std::ios::trunc);
  uint64_t count = 0;
  Status read = store->for_each_action(0, state->end, [&](const rlog::Action& action) {
    const std::string bytes = serialize(action);
    const auto length = big_endian(bytes.size());
    if (Status s = write_bytes(actions, actions_file, {length.data(), length.size()}); !s) return s;
    ++count;
    return write_bytes(actions, actions_file, bytes);
  });
  if (!read) return read.error();
  actions.close();
  if (!actions) return make_error(ErrorKind::Io, "cannot write " + actions_file.string());
  if (count != state->actions) {
    return make_error(ErrorKind::Internal, replica.string() + ": read " + std::to_string(count) +
                                               " actions, recovery counted " +
                                               std::to_string(state->actions));
  }
  return state;
}

Result<std::string> read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::Io, "cannot open " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(ErrorKind::Io, "cannot read " + path.string());
  return bytes;
}

// Calls `visit` for each action of actions.bin, checking that each record
// parses and that positions strictly increase.
Status read_actions(const fs::path& path, const std::function<Status(rlog::Action&&)>& visit) {
  std::error_code ec;
  const uintmax_t file_size = fs::file_size(path, ec);
  if (ec) return make_error(ErrorKind::Io, "cannot read " + path.string() + ": " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::Io, "cannot open " + path.string());
  uint64_t offset = 0;
  std::optional<uint64_t> previous;
  std::string bytes;
  while (offset < file_size) {
    const auto corrupt = [&](const std::string& what) {
      return make_error(ErrorKind::Corrupt,
                        path.string() + " at offset " + std::to_string(offset) + ": " + what);
    };
    std::array<char, 8> header{};
    if (file_size - offset < header.size() || !in.read(header.data(), header.size())) {
      return corrupt("the file ends inside a length prefix");
    }
    uint64_t length = 0;
    for (char c : header) length = (length << 8) | static_cast<uint8_t>(c);
    if (length > file_size - offset - header.size()) {
      return corrupt("a record of " + std::to_string(length) + " bytes runs past the end");
    }
    bytes.resize(length);
    if (!in.read(bytes.data(), static_cast<std::streamsize>(length))) {
      return make_error(ErrorKind::Io, "cannot read " + path.string());
    }
    rlog::Action action;
    if (!action.ParseFromString(bytes)) return corrupt("the record is not an Action");
    if (action.position() > rlog::kMaxPosition || (previous && action.position() <= *previous)) {
      return corrupt("position " + std::to_string(action.position()) + " is out of order");
    }
    previous = action.position();
    offset += header.size() + length;
    if (Status s = visit(std::move(action)); !s) return s;
  }
  return Ok{};
}

// Writes the payload in `payload` as a new VOTING replica at `replica`, then
// checks that the replica recovers to `expected`.
Status build_replica(const fs::path& payload, const fs::path& replica,
                     const archive::ReplicatedLogSummary& expected) {
  const fs::path metadata_file = payload / kMetadataPath;
  auto metadata_bytes = read_whole(metadata_file);
  if (!metadata_bytes) return metadata_bytes.error();
  rlog::Metadata source;
  if (!source.ParseFromString(*metadata_bytes)) {
    return make_error(ErrorKind::Corrupt, metadata_file.string() + " is not a Metadata record");
  }

  auto store = rlog::ReplicaStore::open_writable(replica);
  if (!store) return store.error();
  std::vector<rlog::Action> batch;
  uint64_t count = 0;
  const auto flush = [&]() -> Status {
    Status s = store->write_actions(batch);
    batch.clear();
    return s;
  };
  Status read = read_actions(payload / kActionsPath, [&](rlog::Action&& action) -> Status {
    batch.push_back(std::move(action));
    ++count;
    return batch.size() < kBatchActions ? Status(Ok{}) : flush();
  });
  if (!read) return read;
  if (Status s = flush(); !s) return s;
  if (count != expected.entries) {
    return make_error(ErrorKind::Corrupt, (payload / kActionsPath).string() + " holds " +
                                              std::to_string(count) + " entries, the manifest " +
                                              std::to_string(expected.entries));
  }
  // VOTING, whatever the source was, so the replica serves at once; the
  // promise it made is kept so it never accepts an older proposer's writes.
  rlog::Metadata voting;
  voting.set_status(rlog::Metadata::VOTING);
  voting.set_promised(source.promised());
  if (Status s = store->write_metadata(voting); !s) return s;

  auto state = store->recover();
  if (!state) return state.error();
  const archive::ReplicatedLogSummary got{state->begin, state->end, state->actions};
  if (got != expected) {
    return make_error(ErrorKind::Corrupt, "the replica rebuilt in " + replica.string() +
                                              " has " + summary_text(got) +
                                              ", the manifest says " + summary_text(expected));
  }
  return Ok{};
}

struct StagedReplica {
  ScratchDirectory scratch;
  fs::path replica;  // inside scratch
  archive::ReplicatedLogSummary summary;
};

Result<StagedReplica> stage_from_archive(const fs::path& archive_path, const fs::path& parent,
                                         const std::string& prefix) {
  auto reader = archive::ArchiveReader::open(archive_path);
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
  const std::set<std::string> expected_files{std::string(kMetadataPath),
                                             std::string(kActionsPath)};
  std::set<std::string> listed;
  for (const archive::FileEntry& f : manifest.files) listed.insert(f.path);
  if (listed != expected_files) {
    return make_error(ErrorKind::Corrupt, archive_path.string() + ": the payload must be " +
                                              std::string(kMetadataPath) + " and " +
                                              std::string(kActionsPath) + " and nothing else");
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
  if (Status s = build_replica(payload, replica, summary); !s) {
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

// Moves `replica` (if any) aside and the staged one in, under the journal;
// puts the old one back if the second rename fails. The journal names the
// staged replica where its scratch directory was made: the next run, which
// reads it, has no descriptor of it.
Result<std::optional<fs::path>> swap_in(const fs::path& replica, const StagedReplica& staging) {
  const fs::path& staged = staging.replica;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(replica, ec))) {
    if (Status s = rename_no_replace(staged, replica); !s) return s.error();
    return std::optional<fs::path>();
  }
  {
    // Rule 6 for a replica: nothing may hold it. A damaged one may still be replaced.
    auto held = rlog::ReplicaStore::open_read_only(replica);
    if (!held && held.error().kind != ErrorKind::Corrupt) return held.error();
  }
  const Journal journal{with_suffix(replica, ".pre-restore-" + utc_stamp()),
                        staging.scratch.created_as() / staged.filename()};
  if (Status s = write_journal(replica, journal); !s) return s.error();
  if (Status s = rename_no_replace(replica, journal.aside); !s) {
    (void)remove_journal(replica);  // nothing moved: a journal left here is settled next run
    return s.error();
  }
  if (Status s = rename_no_replace(staged, replica); !s) {
    Status back = rename_no_replace(journal.aside, replica);
    if (back) (void)remove_journal(replica);
    return make_error(s.error().kind,
                      s.error().message + (back ? "; the old replica was put back"
                                                : "; the old replica is still at " +
                                                      journal.aside.string() + ": " +
                                                      back.error().message));
  }
  // The swap is done; a journal that cannot be removed reads as a finished
  // restore next run, which removes it.
  (void)remove_journal(replica);
  return std::optional<fs::path>(journal.aside);
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
    auto s = export_replica(replica, scratch->path());
    if (!s) return s.error();
    state = std::move(s.value());
    return Ok{};
  });
  if (!exported) return exported.error();
  if (Status s = writer->add_file(std::string(kMetadataPath), scratch->path() / "metadata.bin");
      !s) {
    return s.error();
  }
  if (Status s = writer->add_file(std::string(kActionsPath), scratch->path() / "actions.bin");
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
    auto proof = stage_from_archive(part, parent, ".zk-tool-log-verify-");
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
                              : stage_from_archive(*request.archive, parent, prefix);
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
