#include "replicated_log/replica_store.h"

#include <chrono>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "replicated_log/keys.h"
#include "test_support.h"

namespace zktool::replicated_log {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::append_action;
using testing::nop_action;
using testing::raw_put;
using testing::read_tree;
using testing::record_bytes;
using testing::TempDir;
using testing::truncate_action;

Metadata metadata(Metadata::Status status, uint64_t promised) {
  Metadata m;
  m.set_status(status);
  m.set_promised(promised);
  return m;
}

void write_replica(const fs::path& dir, const std::vector<Action>& actions,
                   const Metadata& meta = metadata(Metadata::VOTING, 1)) {
  auto store = ReplicaStore::open_writable(dir);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE(store->write_metadata(meta).ok());
  ASSERT_TRUE(store->write_actions(actions).ok());
}

ReplicaState recovered(const fs::path& dir) {
  auto store = ReplicaStore::open_read_only(dir);
  EXPECT_TRUE(store.ok()) << store.error().message;
  auto state = store->recover();
  EXPECT_TRUE(state.ok()) << state.error().message;
  return *state;
}

TEST(ReplicaStore, EmptyDatabaseReadsAsEmptyPromisedZero) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "replica";
  { ASSERT_TRUE(ReplicaStore::open_writable(dir).ok()); }
  ASSERT_TRUE(fs::exists(dir / "CURRENT"));
  auto store = ReplicaStore::open_read_only(dir);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto meta = store->read_metadata();
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->status(), Metadata::EMPTY);
  EXPECT_EQ(meta->promised(), 0u);
  auto state = store->recover();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->metadata.status(), Metadata::EMPTY);
  EXPECT_EQ(state->begin, 0u);
  EXPECT_EQ(state->end, 0u);
  EXPECT_EQ(state->actions, 0u);
}

TEST(ReplicaStore, GoldenActionKeyAndBytes) {
  TempDir tmp;
  Action action = append_action(5, "hi");
  action.set_promised(2);
  action.set_performed(2);
  write_replica(tmp.path(), {action});
  auto entries = testing::raw_entries(tmp.path());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].first, "0000000006");
  // Record{type=ACTION, action={position 5, promised 2, performed 2, learned, APPEND "hi"}}
  EXPECT_EQ(entries[1].second, std::string("\x08\x02\x1a\x10\x08\x05\x10\x02\x18\x02\x20\x01"
                                           "\x28\x02\x3a\x04\x0a\x02hi",
                                           20));
}

TEST(ReplicaStore, WriteThenReadRoundTrips) {
  TempDir tmp;
  Action unperformed;
  unperformed.set_position(12);
  unperformed.set_promised(4);
  Action with_cksum = append_action(3, std::string("\0bin\xff", 5));
  with_cksum.mutable_append()->set_cksum("sum");
  const std::vector<Action> actions = {
      nop_action(0),          with_cksum,
      append_action(4, "unlearned", false), truncate_action(7, 2),
      unperformed,            append_action(9999999999, "long key"),
      append_action(kMaxPosition, "last")};
  write_replica(tmp.path(), actions, metadata(Metadata::RECOVERING, 42));

  auto store = ReplicaStore::open_read_only(tmp.path());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto meta = store->read_metadata();
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->status(), Metadata::RECOVERING);
  EXPECT_EQ(meta->promised(), 42u);
  for (const Action& written : actions) {
    auto read = store->read_action(written.position());
    ASSERT_TRUE(read.ok()) << read.error().message;
    ASSERT_TRUE(read->has_value()) << written.position();
    EXPECT_EQ((*read)->SerializeAsString(), written.SerializeAsString());
  }
  auto hole = store->read_action(5);
  ASSERT_TRUE(hole.ok());
  EXPECT_FALSE(hole->has_value());

  std::vector<uint64_t> visited;
  ASSERT_TRUE(store->for_each_action(3, 9999999999, [&](const Action& action) {
    visited.push_back(action.position());
    return Status(Ok{});
  }).ok());
  EXPECT_EQ(visited, (std::vector<uint64_t>{3, 4, 7, 12, 9999999999}));

  auto state = store->recover();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->actions, actions.size());
  EXPECT_EQ(state->end, kMaxPosition);
  EXPECT_EQ(state->begin, 2u);
}

TEST(ReplicaStore, ForEachStopsAtTheVisitorsError) {
  TempDir tmp;
  write_replica(tmp.path(), {append_action(0, "a"), append_action(1, "b"), append_action(2, "c")});
  auto store = ReplicaStore::open_read_only(tmp.path());
  ASSERT_TRUE(store.ok());
  int calls = 0;
  Status status = store->for_each_action(0, 2, [&](const Action&) -> Status {
    return ++calls == 2 ? Status(make_error(ErrorKind::Io, "stop")) : Status(Ok{});
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "stop");
  EXPECT_EQ(calls, 2);
}

struct BeginEndCase {
  const char* name;
  std::vector<Action> actions;
  uint64_t begin;
  uint64_t end;
};

class BeginEnd : public ::testing::TestWithParam<BeginEndCase> {};

TEST_P(BeginEnd, FollowsMesosRecovery) {
  TempDir tmp;
  write_replica(tmp.path(), GetParam().actions);
  ReplicaState state = recovered(tmp.path());
  EXPECT_EQ(state.begin, GetParam().begin);
  EXPECT_EQ(state.end, GetParam().end);
  EXPECT_EQ(state.actions, GetParam().actions.size());
}

INSTANTIATE_TEST_SUITE_P(
    ReplicaStore, BeginEnd,
    ::testing::Values(
        BeginEndCase{"no_actions", {}, 0, 0},
        BeginEndCase{"appends_only", {append_action(0, "a"), append_action(6, "b")}, 0, 6},
        BeginEndCase{"learned_truncate",
                     {append_action(3, "a"), truncate_action(4, 3), append_action(5, "b")}, 3, 5},
        BeginEndCase{"largest_truncate_wins",
                     {truncate_action(4, 3), truncate_action(8, 6), truncate_action(9, 2)}, 6, 9},
        BeginEndCase{"unlearned_truncate_is_ignored",
                     {append_action(3, "a"), truncate_action(4, 4, false)}, 0, 4},
        BeginEndCase{"learned_tombstone", {nop_action(5, true), truncate_action(6, 2)}, 6, 6},
        BeginEndCase{"plain_nop_is_not_a_truncation", {nop_action(5), append_action(7, "x")}, 0,
                     7}),
    [](const auto& test) { return std::string(test.param.name); });

// The corruption tests below check that the error names the key and that the
// directory is left exactly as it was.
class CorruptReplica : public ::testing::Test {
 protected:
  void expect_corrupt_everywhere(const std::string& key) {
    const auto before = read_tree(tmp_.path());
    {
      auto store = ReplicaStore::open_read_only(tmp_.path());
      ASSERT_TRUE(store.ok()) << store.error().message;
      auto state = store->recover();
      ASSERT_FALSE(state.ok());
      EXPECT_EQ(state.error().kind, ErrorKind::Corrupt);
      EXPECT_THAT(state.error().message, HasSubstr("key '" + key + "'"));
      EXPECT_THAT(state.error().message, HasSubstr(tmp_.path().string()));
      auto parsed = parse_key(key);
      if (parsed && !parsed->is_metadata) {
        auto read = store->read_action(parsed->position);
        ASSERT_FALSE(read.ok());
        EXPECT_EQ(read.error().kind, ErrorKind::Corrupt);
        Status each = store->for_each_action(0, kMaxPosition,
                                             [](const Action&) { return Status(Ok{}); });
        ASSERT_FALSE(each.ok());
        EXPECT_THAT(each.error().message, HasSubstr("key '" + key + "'"));
      }
    }
    EXPECT_EQ(read_tree(tmp_.path()), before);
  }

  TempDir tmp_;
};

TEST_F(CorruptReplica, ValueThatIsNotARecord) {
  write_replica(tmp_.path(), {append_action(0, "fine")});
  raw_put(tmp_.path(), {{position_key(1), "\xff\xff garbage"}});
  expect_corrupt_everywhere("0000000002");
}

TEST_F(CorruptReplica, ActionWhosePositionDisagreesWithItsKey) {
  write_replica(tmp_.path(), {});
  raw_put(tmp_.path(), {{position_key(3), record_bytes(append_action(4, "misplaced"))}});
  expect_corrupt_everywhere("0000000004");
}

TEST_F(CorruptReplica, MetadataWhereAnActionBelongs) {
  write_replica(tmp_.path(), {});
  Record record;
  record.set_type(Record::METADATA);
  *record.mutable_metadata() = metadata(Metadata::VOTING, 0);
  raw_put(tmp_.path(), {{position_key(0), record.SerializeAsString()}});
  expect_corrupt_everywhere("0000000001");
}

TEST_F(CorruptReplica, ActionWhereTheMetadataBelongs) {
  raw_put(tmp_.path(), {{std::string(kMetadataKey), record_bytes(append_action(0, "x"))}});
  expect_corrupt_everywhere("0000000000");
}

TEST_F(CorruptReplica, TruncateWithoutItsBody) {
  Action action = truncate_action(2, 1);
  action.clear_truncate();
  raw_put(tmp_.path(), {{position_key(2), record_bytes(action)}});
  expect_corrupt_everywhere("0000000003");
}

TEST_F(CorruptReplica, ForeignLevelDbKeys) {
  raw_put(tmp_.path(), {{"user:1", "alice"}, {"user:2", "bob"}});
  expect_corrupt_everywhere("user:1");
}

TEST_F(CorruptReplica, ForeignKeyAmongReplicaKeys) {
  write_replica(tmp_.path(), {append_action(0, "a")});
  raw_put(tmp_.path(), {{"00000000015", "x"}});
  expect_corrupt_everywhere("00000000015");
}

TEST(ReplicaStore, ReadsAnOldPromiseRecordAsVoting) {
  TempDir tmp;
  Record record;
  record.set_type(Record::PROMISE);
  record.mutable_promise()->set_proposal(9);
  raw_put(tmp.path(), {{std::string(kMetadataKey), record.SerializeAsString()}});
  ReplicaState state = recovered(tmp.path());
  EXPECT_EQ(state.metadata.status(), Metadata::VOTING);
  EXPECT_EQ(state.metadata.promised(), 9u);
}

TEST(ReplicaStore, ReadOnlyOpenLeavesEveryByteAsItWas) {
  TempDir tmp;
  // Many small synced writes leave a LevelDB log that recovery would rewrite.
  for (uint64_t i = 0; i < 50; ++i) {
    write_replica(tmp.path(), {append_action(i, std::string(1000, 'x'))});
  }
  const auto before = read_tree(tmp.path());
  {
    ReplicaState state = recovered(tmp.path());
    EXPECT_EQ(state.end, 49u);
  }
  EXPECT_EQ(read_tree(tmp.path()), before);
  // The check above can fail: an ordinary open does change these files.
  { ASSERT_TRUE(ReplicaStore::open_writable(tmp.path()).ok()); }
  EXPECT_NE(read_tree(tmp.path()), before);
}

TEST(ReplicaStore, MissingDirectoryIsAnIoErrorAndStaysMissing) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "absent";
  auto store = ReplicaStore::open_read_only(dir);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::Io);
  EXPECT_THAT(store.error().message, HasSubstr(dir.string()));
  EXPECT_THAT(store.error().message, HasSubstr("does not exist"));
  EXPECT_FALSE(fs::exists(dir));
}

TEST(ReplicaStore, DirectoryWithoutDatabaseIsReportedAndUntouched) {
  TempDir tmp;
  std::ofstream(tmp.path() / "notes.txt") << "not a replica";
  const auto before = read_tree(tmp.path());
  auto store = ReplicaStore::open_read_only(tmp.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::Corrupt);
  EXPECT_THAT(store.error().message, HasSubstr("not a LevelDB database"));
  EXPECT_EQ(read_tree(tmp.path()), before);
}

TEST(ReplicaStore, GarbageFilesAreCorruptAndUntouched) {
  TempDir tmp;
  std::ofstream(tmp.path() / "CURRENT") << "MANIFEST-000002\n";
  std::ofstream(tmp.path() / "MANIFEST-000002") << std::string(300, '\x5a');
  std::ofstream(tmp.path() / "000003.log") << std::string(100, '\x01');
  const auto before = read_tree(tmp.path());
  auto store = ReplicaStore::open_read_only(tmp.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::Corrupt);
  EXPECT_THAT(store.error().message, HasSubstr(tmp.path().string()));
  EXPECT_EQ(read_tree(tmp.path()), before);
}

TEST(ReplicaStore, DamagedLevelDbLogIsReportedNotDropped) {
  TempDir tmp;
  write_replica(tmp.path(), {append_action(0, std::string(200, 'a'))});
  fs::path log;
  for (const auto& entry : fs::directory_iterator(tmp.path())) {
    if (entry.path().extension() == ".log") log = entry.path();
  }
  ASSERT_FALSE(log.empty());
  {
    std::fstream file(log, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('b');  // inside the APPEND's bytes: only the record checksum notices
  }
  auto store = ReplicaStore::open_read_only(tmp.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind, ErrorKind::Corrupt);
  EXPECT_THAT(store.error().message, HasSubstr("checksum"));
}

TEST(ReplicaStore, WritingAReadOnlyStoreIsABug) {
  TempDir tmp;
  write_replica(tmp.path(), {});
  const auto before = read_tree(tmp.path());
  {
    auto store = ReplicaStore::open_read_only(tmp.path());
    ASSERT_TRUE(store.ok());
    Status status = store->write_metadata(metadata(Metadata::VOTING, 0));
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind, ErrorKind::Internal);
    const Action action = append_action(0, "x");
    Status actions = store->write_actions({&action, 1});
    ASSERT_FALSE(actions.ok());
    EXPECT_EQ(actions.error().kind, ErrorKind::Internal);
  }
  EXPECT_EQ(read_tree(tmp.path()), before);
}

TEST(ReplicaStore, IncompleteActionIsNotWritten) {
  TempDir tmp;
  auto store = ReplicaStore::open_writable(tmp.path());
  ASSERT_TRUE(store.ok());
  Action no_promise;
  no_promise.set_position(1);
  const Action batch[] = {append_action(0, "fine"), no_promise};
  Status status = store->write_actions(batch);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Internal);
  auto state = store->recover();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->actions, 0u);  // the batch is all or nothing
}

// A replica held open by another process (here Python's plyvel, as Mesos
// would hold it) is reported as locked, with the holder's pid.
TEST(ReplicaStore, ReplicaInUseByAnotherProcessIsLocked) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "replica";
  write_replica(dir, {append_action(0, "a")});
  const fs::path ready = tmp.path() / "ready";
  auto holder = testsupport::spawn_server(
      {{ZKTOOL_TEST_PYTHON, "-c",
        "import pathlib, plyvel, signal, sys; db = plyvel.DB(sys.argv[1]); "
        "pathlib.Path(sys.argv[2]).touch(); signal.pause()",
        dir.string(), ready.string()},
       tmp.path() / "holder.log"});
  ASSERT_TRUE(holder.ok()) << holder.error().message;
  for (int i = 0; i < 200 && !fs::exists(ready); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const bool held = fs::exists(ready);
  auto read_only = ReplicaStore::open_read_only(dir);
  auto writable = ReplicaStore::open_writable(dir);
  (void)testsupport::terminate_process(*holder, std::chrono::seconds(10));  // SIGTERM ends it
  ASSERT_TRUE(held) << "the holder did not start";
  ASSERT_FALSE(read_only.ok());
  EXPECT_EQ(read_only.error().kind, ErrorKind::Locked);
  EXPECT_THAT(read_only.error().message, HasSubstr("is in use: process "));
  ASSERT_FALSE(writable.ok());
  EXPECT_EQ(writable.error().kind, ErrorKind::Locked);
  EXPECT_TRUE(ReplicaStore::open_read_only(dir).ok());  // free again
}

}  // namespace
}  // namespace zktool::replicated_log
