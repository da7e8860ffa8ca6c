#include "replicated_log/payload.h"

#include <array>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "replicated_log/keys.h"

namespace zktool::replicated_log {

namespace fs = std::filesystem;

namespace {

// Bounds the memory a rebuild holds between two synced LevelDB batches.
constexpr size_t kBatchActions = 1024;

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

Result<std::string> read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::Io, "cannot open " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(ErrorKind::Io, "cannot read " + path.string());
  return bytes;
}

// Calls `visit` for each action of actions.bin, checking that each record
// parses and that positions strictly increase.
Status read_actions(const fs::path& path, const std::function<Status(Action&&)>& visit) {
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
    Action action;
    if (!action.ParseFromString(bytes)) return corrupt("the record is not an Action");
    if (action.position() > kMaxPosition || (previous && action.position() <= *previous)) {
      return corrupt("position " + std::to_string(action.position()) + " is out of order");
    }
    previous = action.position();
    offset += header.size() + length;
    if (Status s = visit(std::move(action)); !s) return s;
  }
  return Ok{};
}

}  // namespace

std::string PayloadSummary::text() const {
  return "begin " + std::to_string(begin) + ", end " + std::to_string(end) + ", " +
         std::to_string(entries) + " entries";
}

Result<ReplicaState> export_payload(const fs::path& replica, const fs::path& dir) {
  auto store = ReplicaStore::open_read_only(replica);
  if (!store) return store.error();
  auto state = store->recover();
  if (!state) return state.error();
  if (state->metadata.status() != Metadata::VOTING) {
    return make_error(ErrorKind::Unsafe,
                      replica.string() + " is " +
                          Metadata::Status_Name(state->metadata.status()) +
                          ", not VOTING: it may lack entries; back up a VOTING replica");
  }
  const fs::path metadata_file = dir / kMetadataFile;
  std::ofstream metadata(metadata_file, std::ios::binary | std::ios::trunc);
  if (Status s = write_bytes(metadata, metadata_file, serialize(state->metadata)); !s) {
    return s.error();
  }
  metadata.close();
  if (!metadata) return make_error(ErrorKind::Io, "cannot write " + metadata_file.string());

  const fs::path actions_file = dir / kActionsFile;
  std::ofstream actions(actions_file, std::ios::binary | std::ios::trunc);
  uint64_t count = 0;
  Status read = store->for_each_action(0, state->end, [&](const Action& action) {
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

Status build_from_payload(const fs::path& payload, const fs::path& replica,
                          const PayloadSummary& expected) {
  const fs::path metadata_file = payload / kMetadataFile;
  auto metadata_bytes = read_whole(metadata_file);
  if (!metadata_bytes) return metadata_bytes.error();
  Metadata source;
  if (!source.ParseFromString(*metadata_bytes)) {
    return make_error(ErrorKind::Corrupt, metadata_file.string() + " is not a Metadata record");
  }

  auto store = ReplicaStore::open_writable(replica);
  if (!store) return store.error();
  std::vector<Action> batch;
  uint64_t count = 0;
  const auto flush = [&]() -> Status {
    Status s = store->write_actions(batch);
    batch.clear();
    return s;
  };
  Status read = read_actions(payload / kActionsFile, [&](Action&& action) -> Status {
    batch.push_back(std::move(action));
    ++count;
    return batch.size() < kBatchActions ? Status(Ok{}) : flush();
  });
  if (!read) return read;
  if (Status s = flush(); !s) return s;
  if (count != expected.entries) {
    return make_error(ErrorKind::Corrupt, (payload / kActionsFile).string() + " holds " +
                                              std::to_string(count) + " entries, the manifest " +
                                              std::to_string(expected.entries));
  }
  // VOTING, whatever the source was, so the replica serves at once; the
  // promise it made is kept so it never accepts an older proposer's writes.
  Metadata voting;
  voting.set_status(Metadata::VOTING);
  voting.set_promised(source.promised());
  if (Status s = store->write_metadata(voting); !s) return s;

  auto state = store->recover();
  if (!state) return state.error();
  const PayloadSummary got{state->begin, state->end, state->actions};
  if (got != expected) {
    return make_error(ErrorKind::Corrupt, "the replica rebuilt in " + replica.string() +
                                              " has " + got.text() + ", the manifest says " +
                                              expected.text());
  }
  return Ok{};
}

}  // namespace zktool::replicated_log
