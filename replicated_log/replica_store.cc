#include "replicated_log/replica_store.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "replicated_log/escape.h"
#include "replicated_log/keys.h"
#include "replicated_log/replica_env.h"

namespace zktool::replicated_log {

namespace fs = std::filesystem;

struct ReplicaHandle {
  fs::path dir;
  bool read_only = true;
  std::unique_ptr<ReplicaEnv> env;  // declared before `db`: it must outlive it
  std::unique_ptr<leveldb::DB> db;

  Error corrupt(std::string_view key, const std::string& what) const {
    return make_error(ErrorKind::Corrupt, "replica " + dir.string() + ": key '" +
                                              escape_bytes(key) + "' " + what);
  }
};

namespace {

std::string_view view(const leveldb::Slice& slice) { return {slice.data(), slice.size()}; }

Status check_directory(const fs::path& dir, bool read_only) {
  std::error_code ec;
  fs::file_status status = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return make_error(ErrorKind::Io, "replica " + dir.string() + ": " + ec.message());
  }
  if (!fs::exists(status)) {
    if (read_only) {
      return make_error(ErrorKind::Io, "replica directory " + dir.string() + " does not exist");
    }
    fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
    if (!fs::is_directory(parent, ec)) {
      return make_error(ErrorKind::Io, "cannot create replica " + dir.string() + ": " +
                                           parent.string() + " is not an existing directory");
    }
    return Ok{};
  }
  if (!fs::is_directory(status)) {
    return make_error(ErrorKind::Io, "replica " + dir.string() + " is not a directory");
  }
  if (read_only && !fs::exists(dir / "CURRENT", ec)) {
    return make_error(ErrorKind::Corrupt, "replica " + dir.string() +
                                              " is not a LevelDB database (no CURRENT file)");
  }
  return Ok{};
}

Error open_error(const fs::path& dir, const ReplicaEnv& env, const leveldb::Status& status) {
  if (std::optional<pid_t> holder = env.lock_holder()) {
    return make_error(ErrorKind::Locked,
                      "replica " + dir.string() + " is in use: process " + std::to_string(*holder) +
                          " holds its LOCK (stop the scheduler or Mesos master using it first)");
  }
  ErrorKind kind = status.IsCorruption() || status.IsInvalidArgument() ? ErrorKind::Corrupt
                                                                       : ErrorKind::Io;
  return make_error(kind, "cannot open replica " + dir.string() + ": " + status.ToString());
}

Result<std::unique_ptr<ReplicaHandle>> open_handle(const fs::path& dir, bool read_only) {
  if (Status checked = check_directory(dir, read_only); !checked) return checked.error();
  auto handle = std::make_unique<ReplicaHandle>();
  handle->dir = dir;
  handle->read_only = read_only;
  handle->env = read_only ? std::make_unique<ReadOnlyReplicaEnv>() : std::make_unique<ReplicaEnv>();

  leveldb::Options options;
  options.env = handle->env.get();
  options.create_if_missing = !read_only;
  // Mesos leaves this off, which lets LevelDB drop a damaged log tail silently;
  // a backup tool must say so instead.
  options.paranoid_checks = true;
  leveldb::DB* db = nullptr;
  leveldb::Status status = leveldb::DB::Open(options, dir.string(), &db);
  if (!status.ok()) return open_error(dir, *handle->env, status);
  handle->db.reset(db);
  return handle;
}

leveldb::ReadOptions checked_reads() {
  leveldb::ReadOptions options;
  options.verify_checksums = true;
  return options;
}

}  // namespace

ReplicaStore::ReplicaStore(std::unique_ptr<ReplicaHandle> handle) : handle_(std::move(handle)) {}
ReplicaStore::ReplicaStore(ReplicaStore&&) noexcept = default;
ReplicaStore& ReplicaStore::operator=(ReplicaStore&&) noexcept = default;
ReplicaStore::~ReplicaStore() = default;

const fs::path& ReplicaStore::dir() const { return handle_->dir; }

Result<ReplicaStore> ReplicaStore::open_read_only(const fs::path& dir) {
  auto handle = open_handle(dir, true);
  if (!handle) return handle.error();
  return ReplicaStore(std::move(handle).value());
}

Result<ReplicaStore> ReplicaStore::open_writable(const fs::path& dir) {
  auto handle = open_handle(dir, false);
  if (!handle) return handle.error();
  return ReplicaStore(std::move(handle).value());
}

namespace {

Result<Record> parse_record(const ReplicaHandle& handle, std::string_view key,
                            std::string_view value) {
  Record record;
  if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return handle.corrupt(key, "holds " + std::to_string(value.size()) +
                                   " bytes that do not parse as a replica Record");
  }
  return record;
}

Result<Metadata> decode_metadata(const ReplicaHandle& handle, std::string_view key,
                                 std::string_view value) {
  auto record = parse_record(handle, key, value);
  if (!record) return record.error();
  if (record->type() == Record::METADATA && record->has_metadata()) return record->metadata();
  // Replicas written before Metadata existed keep a Promise here; Mesos reads
  // it as a VOTING replica with that promise.
  if (record->type() == Record::PROMISE && record->has_promise()) {
    Metadata metadata;
    metadata.set_status(Metadata::VOTING);
    metadata.set_promised(record->promise().proposal());
    return metadata;
  }
  return handle.corrupt(key, "holds a " + Record::Type_Name(record->type()) +
                                 " record where the metadata belongs");
}

bool has_body_for_type(const Action& action) {
  if (!action.has_type()) return true;
  switch (action.type()) {
    case Action::NOP: return action.has_nop();
    case Action::APPEND: return action.has_append();
    case Action::TRUNCATE: return action.has_truncate();
  }
  return false;
}

Result<Action> decode_action(const ReplicaHandle& handle, std::string_view key,
                             uint64_t position, std::string_view value) {
  auto record = parse_record(handle, key, value);
  if (!record) return record.error();
  if (record->type() != Record::ACTION || !record->has_action()) {
    return handle.corrupt(key, "holds a " + Record::Type_Name(record->type()) +
                                   " record where position " + std::to_string(position) +
                                   " belongs");
  }
  const Action& action = record->action();
  if (action.position() != position) {
    return handle.corrupt(key, "holds the action for position " +
                                   std::to_string(action.position()) + ", not " +
                                   std::to_string(position));
  }
  if (!has_body_for_type(action)) {
    return handle.corrupt(key, "holds a " + Action::Type_Name(action.type()) +
                                   " action without its " + Action::Type_Name(action.type()) +
                                   " body");
  }
  return std::move(record).value().action();
}

Status iteration_status(const ReplicaHandle& handle, const leveldb::Iterator& it) {
  if (it.status().ok()) return Ok{};
  return make_error(ErrorKind::Corrupt,
                    "replica " + handle.dir.string() + ": " + it.status().ToString());
}

Metadata empty_metadata() {
  Metadata metadata;
  metadata.set_status(Metadata::EMPTY);
  metadata.set_promised(0);
  return metadata;
}

}  // namespace

Result<Metadata> ReplicaStore::read_metadata() const {
  std::string value;
  leveldb::Status status =
      handle_->db->Get(checked_reads(), leveldb::Slice(kMetadataKey.data(), kMetadataKey.size()),
                       &value);
  if (status.IsNotFound()) return empty_metadata();
  if (!status.ok()) return handle_->corrupt(kMetadataKey, "cannot be read: " + status.ToString());
  return decode_metadata(*handle_, kMetadataKey, value);
}

Result<std::optional<Action>> ReplicaStore::read_action(uint64_t position) const {
  if (position > kMaxPosition) return std::optional<Action>();
  const std::string key = position_key(position);
  std::string value;
  leveldb::Status status = handle_->db->Get(checked_reads(), key, &value);
  if (status.IsNotFound()) return std::optional<Action>();
  if (!status.ok()) return handle_->corrupt(key, "cannot be read: " + status.ToString());
  auto action = decode_action(*handle_, key, position, value);
  if (!action) return action.error();
  return std::optional<Action>(std::move(action).value());
}

Status ReplicaStore::for_each_action(uint64_t from, uint64_t to,
                                     const std::function<Status(const Action&)>& visit) const {
  if (from > to || from > kMaxPosition) return Ok{};
  const std::string last_key = position_key(std::min(to, kMaxPosition));
  std::unique_ptr<leveldb::Iterator> it(handle_->db->NewIterator(checked_reads()));
  for (it->Seek(position_key(from)); it->Valid(); it->Next()) {
    std::string_view key = view(it->key());
    if (key > last_key) break;
    // Seeking past the metadata key means every key here must name a position.
    std::optional<ParsedKey> parsed = parse_key(key);
    if (!parsed || parsed->is_metadata) return handle_->corrupt(key, "is not a replica key");
    auto action = decode_action(*handle_, key, parsed->position, view(it->value()));
    if (!action) return action.error();
    if (Status visited = visit(*action); !visited) return visited;
  }
  return iteration_status(*handle_, *it);
}

Result<ReplicaState> ReplicaStore::recover() const {
  ReplicaState state;
  state.metadata = empty_metadata();
  std::unique_ptr<leveldb::Iterator> it(handle_->db->NewIterator(checked_reads()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = view(it->key());
    std::optional<ParsedKey> parsed = parse_key(key);
    if (!parsed) return handle_->corrupt(key, "is not a replica key");
    if (parsed->is_metadata) {
      auto metadata = decode_metadata(*handle_, key, view(it->value()));
      if (!metadata) return metadata.error();
      state.metadata = std::move(metadata).value();
      continue;
    }
    auto decoded = decode_action(*handle_, key, parsed->position, view(it->value()));
    if (!decoded) return decoded.error();
    const Action& action = *decoded;
    // Mesos' LevelDBStorage::restore: a learned TRUNCATE, or a learned
    // tombstone NOP standing for one, ends everything before it.
    const bool learned_typed = action.learned() && action.has_type();
    if (learned_typed && action.type() == Action::TRUNCATE) {
      state.begin = std::max(state.begin, action.truncate().to());
    } else if (learned_typed && action.type() == Action::NOP && action.nop().tombstone()) {
      state.begin = std::max(state.begin, action.position() + 1);
    }
    state.end = std::max(state.end, action.position());
    ++state.actions;
  }
  if (Status status = iteration_status(*handle_, *it); !status) return status.error();
  return state;
}

namespace {

Status check_writable(const ReplicaHandle& handle) {
  if (!handle.read_only) return Ok{};
  return make_error(ErrorKind::Internal, "replica " + handle.dir.string() +
                                             " was opened read-only and cannot be written");
}

Status write_batch(const ReplicaHandle& handle, leveldb::WriteBatch& batch) {
  leveldb::WriteOptions options;
  options.sync = true;
  leveldb::Status status = handle.db->Write(options, &batch);
  if (status.ok()) return Ok{};
  return make_error(ErrorKind::Io,
                    "cannot write replica " + handle.dir.string() + ": " + status.ToString());
}

}  // namespace

Status ReplicaStore::write_metadata(const Metadata& metadata) {
  if (Status writable = check_writable(*handle_); !writable) return writable;
  if (!metadata.IsInitialized()) {
    return make_error(ErrorKind::Internal, "metadata to write lacks " +
                                               metadata.InitializationErrorString());
  }
  Record record;
  record.set_type(Record::METADATA);
  *record.mutable_metadata() = metadata;
  leveldb::WriteBatch batch;
  batch.Put(leveldb::Slice(kMetadataKey.data(), kMetadataKey.size()), record.SerializeAsString());
  return write_batch(*handle_, batch);
}

Status ReplicaStore::write_actions(std::span<const Action> actions) {
  if (Status writable = check_writable(*handle_); !writable) return writable;
  leveldb::WriteBatch batch;
  for (const Action& action : actions) {
    if (!action.IsInitialized() || action.position() > kMaxPosition ||
        !has_body_for_type(action)) {
      return make_error(ErrorKind::Internal, "action to write at position " +
                                                 std::to_string(action.position()) +
                                                 " is incomplete or out of range");
    }
    Record record;
    record.set_type(Record::ACTION);
    *record.mutable_action() = action;
    batch.Put(position_key(action.position()), record.SerializeAsString());
  }
  if (actions.empty()) return Ok{};
  return write_batch(*handle_, batch);
}

}  // namespace zktool::replicated_log
