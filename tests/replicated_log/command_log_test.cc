// `zk-tool log initialize` and `zk-tool log read`, run as the binary operators run.
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "replicated_log/replica_store.h"
#include "test_support.h"

namespace zktool::replicated_log {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::append_action;
using testing::CommandOutput;
using testing::nop_action;
using testing::read_tree;
using testing::TempDir;
using testing::truncate_action;

CommandOutput zk_tool(const std::string& args) {
  return testing::run_command(testing::shell_quote(ZKTOOL_BINARY) + " " + args);
}

std::string path_arg(const fs::path& dir) { return "--path " + testing::shell_quote(dir.string()); }

// Positions 0..8: a NOP, then a learned TRUNCATE to 1 (so reading starts at
// 1), entries of every kind, and a hole at 6.
void write_sample(const fs::path& dir) {
  Action tombstone = nop_action(4, true);
  tombstone.set_learned(false);
  Action unperformed;
  unperformed.set_position(5);
  unperformed.set_promised(3);
  Action with_cksum = append_action(7, std::string("\0\xff", 2));
  with_cksum.mutable_append()->set_cksum("crc");
  const std::vector<Action> actions = {nop_action(0),
                                       append_action(1, "hello\n\"x\""),
                                       truncate_action(2, 1),
                                       append_action(3, "pending", false),
                                       tombstone,
                                       unperformed,
                                       with_cksum,
                                       append_action(8, "M")};
  auto store = ReplicaStore::open_writable(dir);
  ASSERT_TRUE(store.ok());
  Metadata meta;
  meta.set_status(Metadata::VOTING);
  meta.set_promised(3);
  ASSERT_TRUE(store->write_metadata(meta).ok());
  ASSERT_TRUE(store->write_actions(actions).ok());
}

TEST(LogCommand, InitializeThenRefuseTheSecondTime) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "replica";
  CommandOutput first = zk_tool("log initialize " + path_arg(dir));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, "initialized replica " + dir.string() + " as VOTING\n");
  EXPECT_THAT(testing::raw_entries(dir),
              ElementsAre(Pair("0000000000", std::string("\x08\x03\x22\x04\x08\x01\x10\x00", 8))));

  const auto before = read_tree(dir);
  CommandOutput second = zk_tool("log initialize " + path_arg(dir));
  EXPECT_EQ(second.exit_code, 7);  // refused as unsafe
  EXPECT_THAT(second.err, HasSubstr("already initialized"));
  EXPECT_THAT(second.err, HasSubstr(dir.string()));
  EXPECT_EQ(read_tree(dir), before);
}

TEST(LogCommand, ReadPrintsEveryStoredPositionFromTheBeginning) {
  TempDir tmp;
  write_sample(tmp.path());
  const auto before = read_tree(tmp.path());
  CommandOutput read = zk_tool("log read " + path_arg(tmp.path()));
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(read.out,
            "1 learned APPEND 9 \"hello\\n\\\"x\\\"\"\n"
            "2 learned TRUNCATE to 1\n"
            "3 unlearned APPEND 7 \"pending\"\n"
            "4 unlearned NOP tombstone\n"
            "5 unlearned NONE\n"
            "7 learned APPEND 2 \"\\x00\\xff\"\n"
            "8 learned APPEND 1 \"M\"\n");
  EXPECT_EQ(read_tree(tmp.path()), before);
}

TEST(LogCommand, ReadJsonLines) {
  TempDir tmp;
  write_sample(tmp.path());
  CommandOutput read = zk_tool("log read --json --from 2 --to 8 " + path_arg(tmp.path()));
  ASSERT_EQ(read.exit_code, 0) << read.err;
  std::vector<json> lines;
  std::istringstream in(read.out);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], (json{{"position", 2}, {"learned", true}, {"promised", 1},
                            {"performed", 1}, {"type", "TRUNCATE"}, {"to", 1}}));
  EXPECT_EQ(lines[1]["learned"], false);
  EXPECT_EQ(lines[1]["bytes"], "cGVuZGluZw==");
  EXPECT_EQ(lines[2]["tombstone"], true);
  EXPECT_EQ(lines[3], (json{{"position", 5}, {"learned", false}, {"promised", 3},
                            {"type", nullptr}}));
  EXPECT_EQ(lines[4], (json{{"position", 7}, {"learned", true}, {"promised", 1},
                            {"performed", 1}, {"type", "APPEND"}, {"size", 2},
                            {"bytes", "AP8="}, {"cksum", "Y3Jj"}}));
  EXPECT_EQ(lines[5]["bytes"], "TQ==");
}

TEST(LogCommand, ReadRangeFollowsMesos) {
  TempDir tmp;
  write_sample(tmp.path());
  CommandOutput one = zk_tool("log read --from 3 --to 3 " + path_arg(tmp.path()));
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, "3 unlearned APPEND 7 \"pending\"\n");

  for (const char* range : {"--from 0", "--to 9", "--from 5 --to 4", "--from -1"}) {
    CommandOutput bad = zk_tool(std::string("log read ") + range + " " + path_arg(tmp.path()));
    EXPECT_EQ(bad.exit_code, 2) << range;  // usage
    EXPECT_EQ(bad.out, "") << range;
  }
  EXPECT_THAT(zk_tool("log read --from 0 " + path_arg(tmp.path())).err,
              HasSubstr("positions before 1 are truncated"));
}

TEST(LogCommand, ReadErrorsSayWhatIsWrong) {
  TempDir tmp;
  CommandOutput missing = zk_tool("log read " + path_arg(tmp.path() / "absent"));
  EXPECT_EQ(missing.exit_code, 4);
  EXPECT_THAT(missing.err, HasSubstr("does not exist"));
  EXPECT_FALSE(fs::exists(tmp.path() / "absent"));

  testing::raw_put(tmp.path() / "foreign", {{"some", "thing"}});
  const auto before = read_tree(tmp.path() / "foreign");
  CommandOutput foreign = zk_tool("log read " + path_arg(tmp.path() / "foreign"));
  EXPECT_EQ(foreign.exit_code, 3);  // corrupt
  EXPECT_THAT(foreign.err, HasSubstr("key 'some' is not a replica key"));
  EXPECT_EQ(read_tree(tmp.path() / "foreign"), before);
}

TEST(LogCommand, LogNeedsASubcommand) {
  CommandOutput bare = zk_tool("log");
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_THAT(bare.err, HasSubstr("subcommand"));
}

}  // namespace
}  // namespace zktool::replicated_log
