#include "test_support.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>

namespace zktool::replicated_log::testing {

namespace fs = std::filesystem;

namespace {

using zktool::testing::read_file;

std::unique_ptr<leveldb::DB> open_raw(const fs::path& dir, bool create) {
  leveldb::Options options;
  options.create_if_missing = create;
  leveldb::DB* db = nullptr;
  leveldb::Status status = leveldb::DB::Open(options, dir.string(), &db);
  if (!status.ok()) throw std::runtime_error("raw open: " + status.ToString());
  return std::unique_ptr<leveldb::DB>(db);
}

}  // namespace

std::map<std::string, std::string> read_tree(const fs::path& dir) {
  std::map<std::string, std::string> tree;
  if (!fs::exists(dir)) return tree;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    std::string name = fs::relative(entry.path(), dir).string();
    tree[name] = entry.is_regular_file() ? read_file(entry.path()) : "<dir>";
  }
  return tree;
}

std::vector<std::pair<std::string, std::string>> raw_entries(const fs::path& dir) {
  auto db = open_raw(dir, false);
  std::vector<std::pair<std::string, std::string>> entries;
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    entries.emplace_back(it->key().ToString(), it->value().ToString());
  }
  return entries;
}

void raw_put(const fs::path& dir, const std::vector<std::pair<std::string, std::string>>& entries) {
  auto db = open_raw(dir, true);
  leveldb::WriteBatch batch;
  for (const auto& [key, value] : entries) batch.Put(key, value);
  leveldb::WriteOptions options;
  options.sync = true;
  leveldb::Status status = db->Write(options, &batch);
  if (!status.ok()) throw std::runtime_error("raw put: " + status.ToString());
}

Action append_action(uint64_t position, std::string bytes, bool learned) {
  Action action;
  action.set_position(position);
  action.set_promised(1);
  action.set_performed(1);
  action.set_learned(learned);
  action.set_type(Action::APPEND);
  action.mutable_append()->set_bytes(std::move(bytes));
  return action;
}

Action nop_action(uint64_t position, bool tombstone) {
  Action action;
  action.set_position(position);
  action.set_promised(1);
  action.set_performed(1);
  action.set_learned(true);
  action.set_type(Action::NOP);
  if (tombstone) {
    action.mutable_nop()->set_tombstone(true);
  } else {
    action.mutable_nop();
  }
  return action;
}

Action truncate_action(uint64_t position, uint64_t to, bool learned) {
  Action action;
  action.set_position(position);
  action.set_promised(1);
  action.set_performed(1);
  action.set_learned(learned);
  action.set_type(Action::TRUNCATE);
  action.mutable_truncate()->set_to(to);
  return action;
}

std::string record_bytes(const Action& action) {
  Record record;
  record.set_type(Record::ACTION);
  *record.mutable_action() = action;
  return record.SerializeAsString();
}

std::string shell_quote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted.push_back(c);
    }
  }
  return quoted + "'";
}

void write_sample_replica(const fs::path& dir) {
  auto store = ReplicaStore::open_writable(dir);
  ASSERT_TRUE(store) << store.error().message;
  Metadata metadata;
  metadata.set_status(Metadata::VOTING);
  metadata.set_promised(7);
  ASSERT_TRUE(store->write_metadata(metadata));
  std::vector<Action> actions = {append_action(0, "zero"),
                                 nop_action(1, true),
                                 append_action(2, "two"),
                                 append_action(3, std::string("three\n\0x", 8)),
                                 nop_action(4),
                                 truncate_action(5, 3),
                                 append_action(6, "six"),
                                 append_action(7, "seven", false),
                                 nop_action(8)};
  ASSERT_TRUE(store->write_actions(actions));
}

std::vector<std::string> all_actions(const fs::path& dir) {
  auto store = ReplicaStore::open_read_only(dir);
  EXPECT_TRUE(store) << store.error().message;
  if (!store) return {};
  std::vector<std::string> out;
  auto state = store->recover();
  EXPECT_TRUE(state) << state.error().message;
  if (!state) return {};
  Status read = store->for_each_action(0, state->end, [&](const Action& action) {
    out.push_back(action.SerializeAsString());
    return Status(Ok{});
  });
  EXPECT_TRUE(read) << read.error().message;
  return out;
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

CommandOutput run_command(const std::string& command) {
  return testsupport::run_captured({"/bin/sh", "-c", command});
}

}  // namespace zktool::replicated_log::testing
