#include "replicated_log/initialize.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "replicated_log/keys.h"
#include "replicated_log/replica_store.h"
#include "test_support.h"

namespace zktool::replicated_log {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::append_action;
using testing::raw_entries;
using testing::raw_put;
using testing::read_tree;
using testing::TempDir;

// Record{type=METADATA(3), metadata={status=VOTING(1), promised=0}}: what
// `mesos-log initialize` stores under the metadata key.
const std::string kInitializedRecord("\x08\x03\x22\x04\x08\x01\x10\x00", 8);

TEST(Initialize, WritesExactlyMesosMetadataRecord) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "replica";
  ASSERT_TRUE(initialize(dir).ok());
  EXPECT_THAT(raw_entries(dir), ElementsAre(Pair("0000000000", kInitializedRecord)));
}

TEST(Initialize, AcceptsAnExistingEmptyDatabaseOrDirectory) {
  TempDir tmp;
  { ASSERT_TRUE(ReplicaStore::open_writable(tmp.path() / "db").ok()); }
  fs::create_directory(tmp.path() / "dir");
  for (const char* name : {"db", "dir"}) {
    ASSERT_TRUE(initialize(tmp.path() / name).ok()) << name;
    EXPECT_THAT(raw_entries(tmp.path() / name),
                ElementsAre(Pair("0000000000", kInitializedRecord)));
  }
}

TEST(Initialize, KeepsThePromiseOfAnEmptyReplica) {
  TempDir tmp;
  {
    auto store = ReplicaStore::open_writable(tmp.path());
    ASSERT_TRUE(store.ok());
    Metadata empty;
    empty.set_status(Metadata::EMPTY);
    empty.set_promised(5);
    ASSERT_TRUE(store->write_metadata(empty).ok());
  }
  ASSERT_TRUE(initialize(tmp.path()).ok());
  auto store = ReplicaStore::open_read_only(tmp.path());
  ASSERT_TRUE(store.ok());
  auto meta = store->read_metadata();
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->status(), Metadata::VOTING);
  EXPECT_EQ(meta->promised(), 5u);
}

void expect_refused(const fs::path& dir, ErrorKind kind, const std::string& why) {
  const auto before = read_tree(dir);
  Status status = initialize(dir);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, kind);
  EXPECT_THAT(status.error().message, HasSubstr(why));
  EXPECT_EQ(read_tree(dir), before);
}

TEST(Initialize, RefusesAnInitializedReplica) {
  TempDir tmp;
  ASSERT_TRUE(initialize(tmp.path()).ok());
  expect_refused(tmp.path(), ErrorKind::Unsafe, "already initialized (status VOTING)");
}

TEST(Initialize, RefusesAReplicaWithEntries) {
  TempDir tmp;
  {
    auto store = ReplicaStore::open_writable(tmp.path());
    ASSERT_TRUE(store.ok());
    const Action action = append_action(0, "data");
    ASSERT_TRUE(store->write_actions({&action, 1}).ok());
  }
  expect_refused(tmp.path(), ErrorKind::Unsafe, "holds 1 actions although its status is EMPTY");
}

TEST(Initialize, RefusesADirectoryOfOtherFiles) {
  TempDir tmp;
  std::ofstream(tmp.path() / "important.txt") << "keep me";
  expect_refused(tmp.path(), ErrorKind::Unsafe, "has files but no LevelDB database");
}

TEST(Initialize, RefusesAForeignDatabase) {
  TempDir tmp;
  raw_put(tmp.path(), {{"user:1", "alice"}});
  expect_refused(tmp.path(), ErrorKind::Corrupt, "key 'user:1' is not a replica key");
}

TEST(Initialize, MissingParentIsAnIoError) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "no" / "replica";
  Status status = initialize(dir);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Io);
  EXPECT_FALSE(fs::exists(tmp.path() / "no"));
}

}  // namespace
}  // namespace zktool::replicated_log
