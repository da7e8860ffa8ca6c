// zk-tool's replicas against a reader and writer that share no code with it
// (independent_replica.py: Python's plyvel and protobuf).
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "replicated_log/initialize.h"
#include "replicated_log/keys.h"
#include "replicated_log/replica_store.h"
#include "test_support.h"

namespace zktool::replicated_log {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::append_action;
using testing::nop_action;
using testing::TempDir;
using testing::truncate_action;

// Pure-Python protobuf: the default backend would decode with the same C++
// libprotobuf that zk-tool links.
std::string python(const std::string& mode, const fs::path& dir) {
  return "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python PYTHONPATH=" +
         testing::shell_quote(ZKTOOL_REPLICATED_LOG_PYTHONPATH) + " " +
         ZKTOOL_TEST_PYTHON + " " + testing::shell_quote(ZKTOOL_INDEPENDENT_REPLICA_PY) + " " +
         mode + " " + testing::shell_quote(dir.string());
}

std::vector<json> python_read(const fs::path& dir) {
  auto output = testing::run_command(python("read", dir));
  EXPECT_EQ(output.exit_code, 0) << output.err;
  std::vector<json> lines;
  std::istringstream in(output.out);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

std::string hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kHex[static_cast<unsigned char>(c) & 0xf]);
  }
  return out;
}

json expected_entry(const Action& action) {
  json entry = {{"key", position_key(action.position())},
                {"position", action.position()},
                {"record", "ACTION"},
                {"action_position", action.position()},
                {"promised", action.promised()},
                {"performed", action.has_performed() ? json(action.performed()) : json()},
                {"learned", action.learned()},
                {"type", action.has_type() ? json(Action::Type_Name(action.type())) : json()}};
  if (action.has_append()) {
    entry["bytes_hex"] = hex(action.append().bytes());
    entry["cksum_hex"] = action.append().has_cksum() ? json(hex(action.append().cksum())) : json();
  }
  if (action.has_truncate()) entry["to"] = action.truncate().to();
  if (action.has_nop()) entry["tombstone"] = action.nop().tombstone();
  return entry;
}

TEST(IndependentReader, AgreesWithTheInitializeRecord) {
  TempDir tmp;
  ASSERT_TRUE(initialize(tmp.path() / "replica").ok());
  std::vector<json> lines = python_read(tmp.path() / "replica");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], (json{{"key", "0000000000"}, {"position", -1}, {"record", "METADATA"},
                            {"status", "VOTING"}, {"promised", 0}}));
}

TEST(IndependentReader, AgreesWithEveryActionZkToolWrote) {
  TempDir tmp;
  Action unperformed;
  unperformed.set_position(6);
  unperformed.set_promised(2);
  Action with_cksum = append_action(2, std::string("\0\x01zk\xff", 5));
  with_cksum.mutable_append()->set_cksum("crc");
  const std::vector<Action> actions = {
      nop_action(0, true), append_action(1, "first"), with_cksum,
      append_action(3, "pending", false), truncate_action(4, 1), unperformed,
      append_action(9999999998, "last short key"), append_action(9999999999, "first long key")};
  {
    auto store = ReplicaStore::open_writable(tmp.path());
    ASSERT_TRUE(store.ok());
    Metadata meta;
    meta.set_status(Metadata::STARTING);
    meta.set_promised(17);
    ASSERT_TRUE(store->write_metadata(meta).ok());
    ASSERT_TRUE(store->write_actions(actions).ok());
  }
  std::vector<json> lines = python_read(tmp.path());
  ASSERT_EQ(lines.size(), actions.size() + 1);
  EXPECT_EQ(lines[0], (json{{"key", "0000000000"}, {"position", -1}, {"record", "METADATA"},
                            {"status", "STARTING"}, {"promised", 17}}));
  for (size_t i = 0; i < actions.size(); ++i) {
    EXPECT_EQ(lines[i + 1], expected_entry(actions[i])) << "position " << actions[i].position();
  }
}

TEST(IndependentReader, ZkToolReadsWhatPythonWrote) {
  TempDir tmp;
  auto written = testing::run_command(python("write", tmp.path()));
  ASSERT_EQ(written.exit_code, 0) << written.err;
  auto store = ReplicaStore::open_read_only(tmp.path());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto state = store->recover();
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->metadata.status(), Metadata::VOTING);
  EXPECT_EQ(state->metadata.promised(), 3u);
  EXPECT_EQ(state->actions, 3u);
  EXPECT_EQ(state->begin, 1u);
  EXPECT_EQ(state->end, 9999999999u);
  auto nop = store->read_action(0);
  ASSERT_TRUE(nop.ok() && nop->has_value());
  EXPECT_EQ((*nop)->type(), Action::NOP);
  auto append = store->read_action(1);
  ASSERT_TRUE(append.ok() && append->has_value());
  EXPECT_EQ((*append)->append().bytes(), std::string("from python\0\xff", 13));
  auto truncate = store->read_action(9999999999);
  ASSERT_TRUE(truncate.ok() && truncate->has_value());
  EXPECT_EQ((*truncate)->truncate().to(), 1u);
}

}  // namespace
}  // namespace zktool::replicated_log
