// The zk-tool binary's inspect command as an operator meets it: output,
// JSON fields, one-line errors and exit codes, on real ZooKeeper files.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../snapshot/fixtures.h"
#include "support/process.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::ScratchDir;
using testing::write_file;

using CliRun = testsupport::CapturedRun;

CliRun zk_tool(std::vector<std::string> args) {
  args.insert(args.begin(), ZKTOOL_BINARY);
  return testsupport::run_captured(args);
}

size_t lines_in(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

TEST(InspectCli, PrintsASummaryOfARealDataDirectory) {
  ScratchDir dir;
  dir.copy_zk38();
  CliRun run = zk_tool({"inspect", (dir.path() / "data").string(), "--data-log-dir",
                     (dir.path() / "logs").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("snapshot.103"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("last zxid        0x11b"), std::string::npos) << run.out;
  EXPECT_TRUE(run.err.empty()) << run.err;
}

TEST(InspectCli, JsonCarriesTheDocumentedFields) {
  ScratchDir dir;
  dir.copy_zk38();
  fs::remove(dir.data() / "snapshot.103");
  fs::remove(dir.data() / "snapshot.e2");
  CliRun run = zk_tool({"inspect", (dir.path() / "data").string(), "--data-log-dir",
                     (dir.path() / "logs").string(), "--json", "--nodes"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["snapshot_zxid"], "0xd1");
  EXPECT_EQ(j["last_zxid"], "0x11b");
  EXPECT_EQ(j["digest_verified"], true);
  EXPECT_GT(j["znode_count"].get<int>(), 100);
  EXPECT_EQ(j["ephemeral_count"], 0);
  EXPECT_EQ(j["session_count"], 0);
  ASSERT_GE(j["files"].size(), 2u);
  EXPECT_EQ(j["files"][0]["role"], "snapshot");
  EXPECT_EQ(j["nodes"].size(), j["znode_count"].get<size_t>());
  bool saw_acl = false;
  for (const auto& node : j["nodes"]) {
    if (node["path"] == "/a/n1") {
      saw_acl = true;
      EXPECT_EQ(node["acl"][0]["perms"], 1);
      EXPECT_EQ(node["aversion"], 1);
    }
  }
  EXPECT_TRUE(saw_acl);
}

TEST(InspectCli, ReadsTheDirectoriesFromAZooCfg) {
  ScratchDir dir;
  dir.copy_zk38();
  write_file(dir.path() / "zoo.cfg", "tickTime=2000\ndataDir=" + (dir.path() / "data").string() +
                                         "\ndataLogDir=" + (dir.path() / "logs").string() +
                                         "\nclientPort=2181\n");
  CliRun run = zk_tool({"inspect", "--zoo-cfg", (dir.path() / "zoo.cfg").string(), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["last_zxid"], "0x11b");
}

TEST(InspectCli, ACorruptLogIsOneLineNamingTheFileAndExitsCorrupt) {
  ScratchDir dir;
  dir.copy_zk38();
  std::string bytes = read_file(dir.logs() / "log.105");
  bytes[200] ^= 0x40;
  write_file(dir.logs() / "log.105", bytes);
  CliRun run = zk_tool({"inspect", (dir.path() / "data").string(), "--data-log-dir",
                     (dir.path() / "logs").string()});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(lines_in(run.err), 1u) << run.err;
  EXPECT_NE(run.err.find("log.105"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("offset"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty());
}

TEST(InspectCli, AMissingDirectoryExitsIo) {
  CliRun run = zk_tool({"inspect", "/nonexistent/zookeeper"});
  EXPECT_EQ(run.exit_code, 4);
  EXPECT_EQ(lines_in(run.err), 1u) << run.err;
  EXPECT_NE(run.err.find("/nonexistent/zookeeper"), std::string::npos);
}

TEST(InspectCli, AForeignDirectoryExitsIo) {
  ScratchDir dir;
  CliRun run = zk_tool({"inspect", dir.path().string()});
  EXPECT_EQ(run.exit_code, 4);
  EXPECT_NE(run.err.find("not a ZooKeeper data directory"), std::string::npos) << run.err;
}

TEST(InspectCli, UsageErrorsExitUsage) {
  EXPECT_EQ(zk_tool({"inspect"}).exit_code, 2);
  EXPECT_EQ(zk_tool({"inspect", "--no-such-flag", "x"}).exit_code, 2);
  EXPECT_EQ(zk_tool({"no-such-command"}).exit_code, 2);
  ScratchDir dir;
  write_file(dir.path() / "zoo.cfg", "clientPort=2181\n");
  CliRun no_data_dir = zk_tool({"inspect", "--zoo-cfg", (dir.path() / "zoo.cfg").string()});
  EXPECT_EQ(no_data_dir.exit_code, 2);
  EXPECT_NE(no_data_dir.err.find("no dataDir"), std::string::npos);
}

TEST(InspectCli, NoIntactSnapshotExitsCorrupt) {
  ScratchDir dir;
  dir.copy_zk38();
  for (const auto& e : fs::directory_iterator(dir.data())) write_file(e.path(), "junk");
  CliRun run = zk_tool({"inspect", (dir.path() / "data").string(), "--data-log-dir",
                     (dir.path() / "logs").string()});
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(lines_in(run.err), 1u) << run.err;
}

TEST(ConfigFile, OptionsComeFromTheFileUnderTheirFlagNames) {
  ScratchDir dir;
  dir.copy_zk38();
  write_file(dir.path() / "zk-tool.conf",
             "# zk-tool.conf\n"
             "json = true\n"
             "data-log-dir = \"" + (dir.path() / "logs").string() + "\"\n"
             "unit = zookeeper.service   # inspect has no --unit: ignored\n");
  CliRun run = zk_tool({"inspect", (dir.path() / "data").string(), "--config",
                        (dir.path() / "zk-tool.conf").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["last_zxid"], "0x11b");
}

TEST(ConfigFile, TheCommandLineWins) {
  ScratchDir dir;
  dir.copy_zk38();
  write_file(dir.path() / "zk-tool.conf", "data-log-dir = /nonexistent\njson = true\n");
  CliRun run = zk_tool({"inspect", (dir.path() / "data").string(), "--data-log-dir",
                        (dir.path() / "logs").string(), "--config",
                        (dir.path() / "zk-tool.conf").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["last_zxid"], "0x11b");
}

TEST(ConfigFile, ANamedFileMustExistAndParse) {
  ScratchDir dir;
  CliRun missing = zk_tool({"inspect", "x", "--config", (dir.path() / "none.conf").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("none.conf"), std::string::npos);
  write_file(dir.path() / "bad.conf", "json = true\nno equals sign here\n");
  CliRun bad = zk_tool({"inspect", "x", "--config", (dir.path() / "bad.conf").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.conf:2"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace zktool
