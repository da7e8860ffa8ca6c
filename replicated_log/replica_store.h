// A Mesos replicated-log replica on disk: a LevelDB directory holding one
// protobuf Record per key (keys.h, FORMAT.md). The store reads and writes the
// records exactly as Mesos' LevelDBStorage does and checks every record it
// reads: a key outside the replica layout, a value that does not parse, or a
// record that disagrees with its key is an ErrorKind::Corrupt naming the key.
//
// A ReplicaStore owns its LevelDB handle and holds the replica's LOCK until it
// is destroyed; a replica locked by a running Mesos or Aurora fails to open
// with ErrorKind::Locked. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "util/result.h"
#include "replicated_log/log.pb.h"

namespace zktool::replicated_log {

using Action = mesos::internal::log::Action;
using Metadata = mesos::internal::log::Metadata;
using Record = mesos::internal::log::Record;

// What Mesos' LevelDBStorage::restore derives from a whole replica.
struct ReplicaState {
  Metadata metadata;    // EMPTY, promised 0 when the database has none
  uint64_t begin = 0;   // first readable position: after the last learned truncation
  uint64_t end = 0;     // highest stored position, 0 when none is stored
  uint64_t actions = 0; // action records stored, including any below `begin`
};

struct ReplicaHandle;  // the open database (replica_store.cc)

class ReplicaStore {
 public:
  // Opens an existing replica without changing a byte of its directory.
  // A missing directory is ErrorKind::Io; one that is not a LevelDB database,
  // or a database LevelDB finds damaged, is ErrorKind::Corrupt.
  static Result<ReplicaStore> open_read_only(const std::filesystem::path& dir);
  // Opens a replica to write it, creating an empty database when `dir` has
  // none (and `dir` itself, but not its parents), as Mesos does.
  static Result<ReplicaStore> open_writable(const std::filesystem::path& dir);

  ReplicaStore(ReplicaStore&&) noexcept;
  ReplicaStore& operator=(ReplicaStore&&) noexcept;
  ~ReplicaStore();

  const std::filesystem::path& dir() const;

  // The metadata record; a database without one reads as EMPTY, promised 0.
  Result<Metadata> read_metadata() const;
  // The action stored at `position`, or nullopt when that key is absent.
  Result<std::optional<Action>> read_action(uint64_t position) const;
  // Calls `visit` for each stored action with from <= position <= to, in
  // position order, and stops at the first error, its own or visit's.
  Status for_each_action(uint64_t from, uint64_t to,
                         const std::function<Status(const Action&)>& visit) const;
  // Checks every key and record, then derives the state Mesos recovers.
  Result<ReplicaState> recover() const;

  // Writes with sync, as Mesos does. Both need a writable store.
  Status write_metadata(const Metadata& metadata);
  // Writes `actions` in one atomic, synced batch. Unlike Mesos, a learned
  // TRUNCATE does not delete the positions below it: the store writes what
  // it is given and nothing else.
  Status write_actions(std::span<const Action> actions);

 private:
  explicit ReplicaStore(std::unique_ptr<ReplicaHandle> handle);

  std::unique_ptr<ReplicaHandle> handle_;
};

}  // namespace zktool::replicated_log
