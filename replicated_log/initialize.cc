#include "replicated_log/initialize.h"

#include <string>
#include <system_error>

#include "replicated_log/replica_store.h"

namespace zktool::replicated_log {

namespace fs = std::filesystem;

namespace {

// The metadata of a replica that may be initialized.
Result<Metadata> empty_replica_metadata(const ReplicaStore& store) {
  auto state = store.recover();
  if (!state) return state.error();
  const std::string dir = store.dir().string();
  if (state->metadata.status() != Metadata::EMPTY) {
    return make_error(ErrorKind::Unsafe,
                      "replica " + dir + " is already initialized (status " +
                          Metadata::Status_Name(state->metadata.status()) +
                          "); only an EMPTY replica can be initialized");
  }
  if (state->actions > 0) {
    return make_error(ErrorKind::Unsafe, "replica " + dir + " holds " +
                                             std::to_string(state->actions) +
                                             " actions although its status is EMPTY; "
                                             "refusing to initialize it");
  }
  return state->metadata;
}

}  // namespace

Status initialize(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "CURRENT", ec)) {
    // Check without writing first, so that a refusal leaves every byte as it was.
    auto store = ReplicaStore::open_read_only(dir);
    if (!store) return store.error();
    if (auto metadata = empty_replica_metadata(*store); !metadata) return metadata.error();
  } else if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec)) {
    return make_error(ErrorKind::Unsafe, dir.string() +
                                             " has files but no LevelDB database; refusing to "
                                             "create a replica among them");
  }

  auto store = ReplicaStore::open_writable(dir);
  if (!store) return store.error();
  // Again, now that the store holds the replica's LOCK.
  auto metadata = empty_replica_metadata(*store);
  if (!metadata) return metadata.error();
  Metadata voting;
  voting.set_status(Metadata::VOTING);
  voting.set_promised(metadata->promised());
  return store->write_metadata(voting);
}

}  // namespace zktool::replicated_log
