// The zk-tool binary's inspect command as an operator meets it: output,
// JSON fields, one-line errors and exit codes, on real ZooKeeper files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../snapshot/fixtures.h"
#include "snapshot/snapshot_file.h"
#include "support/zk_tool.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::ScratchDir;
using testing::write_file;

using CliRun = testsupport::CapturedRun;

using testsupport::zk_tool;

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

// A DC/OS dcos-zk archive (gzip tar rooted at ./zookeeper) of the zk38 files.
fs::path make_dcos_zk_archive(const ScratchDir& dir) {
  dir.copy_zk38();
  fs::path root = dir.path() / "dcos";
  fs::create_directories(root / "zookeeper/snapshot");
  fs::create_directories(root / "zookeeper/transactions");
  fs::copy(dir.data(), root / "zookeeper/snapshot/version-2");
  fs::copy(dir.logs(), root / "zookeeper/transactions/version-2");
  fs::path archive = dir.path() / "dcos-zk.tar.gz";
  auto tar = testsupport::run_captured(
      {"/bin/tar", "-czf", archive.string(), "-C", root.string(), "./zookeeper"});
  EXPECT_EQ(tar.exit_code, 0) << tar.err;
  return archive;
}

// A bad TMPDIR matters only where zk-tool would stage in it: --staging-dir wins, and without it
// the refusal is one line naming TMPDIR and the flag (exit 2), never an internal error.
TEST(StagingCli, ABadTmpdirIsAUsageErrorOnlyWithoutStagingDir) {
  ScratchDir dir;
  fs::path archive = make_dcos_zk_archive(dir);
  fs::create_directories(dir.path() / "staging");
  const std::string bad_tmp = "TMPDIR=" + (dir.path() / "no-such-dir").string();
  auto given = testsupport::run_captured({"/usr/bin/env", bad_tmp, ZKTOOL_BINARY, "verify",
                                          archive.string(), "--staging-dir",
                                          (dir.path() / "staging").string()});
  EXPECT_EQ(given.exit_code, 0) << given.out << given.err;
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"verify", archive.string()},
        std::vector<std::string>{"inspect", archive.string()}}) {
    std::vector<std::string> args = {"/usr/bin/env", bad_tmp, ZKTOOL_BINARY};
    args.insert(args.end(), command.begin(), command.end());
    auto run = testsupport::run_captured(args);
    EXPECT_EQ(run.exit_code, 2) << command[0] << ": " << run.out << run.err;
    EXPECT_EQ(lines_in(run.err), 1u) << run.err;
    EXPECT_NE(run.err.find("TMPDIR=" + (dir.path() / "no-such-dir").string()), std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find("--staging-dir"), std::string::npos) << run.err;
    EXPECT_EQ(run.err.find("internal error"), std::string::npos) << run.err;
  }
}

// A snapshot whose znode names carry bytes a terminal acts on and bytes that are not UTF-8 (a
// C client can create both): --json stays valid JSON, the listing escapes them.
TEST(InspectCli, HostileZnodeNamesNeitherBreakJsonNorReachTheTerminal) {
  ScratchDir dir;
  fs::create_directories(dir.path() / "data/version-2");
  snapshot::SnapshotContents contents;
  const std::string escape = "/title\x1b]0;owned\x07\x1b[2J";
  const std::string not_utf8 = "/bytes\xff\xfe\xc0\xaf";
  for (const std::string* path : {&escape, &not_utf8}) {
    snapshot::SnapshotNode node;
    node.path = *path;
    node.data = std::string_view("x");
    node.stat.czxid = node.stat.mzxid = node.stat.pzxid = 1;
    contents.nodes.push_back(node);
  }
  snapshot::SnapshotNode root;
  root.path = "";
  root.stat.pzxid = 1;
  root.stat.cversion = 2;
  contents.nodes.insert(contents.nodes.begin(), root);
  auto written = snapshot::write_snapshot_file(contents, 1, dir.path() / "data/version-2",
                                               snapshot::SnapshotCompression::None);
  ASSERT_TRUE(written) << written.error().message;

  CliRun json = zk_tool({"inspect", (dir.path() / "data").string(), "--json", "--nodes"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto parsed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << json.out;
  EXPECT_EQ(json.out.find('\x1b'), std::string::npos) << "JSON escapes control characters";

  CliRun text = zk_tool({"inspect", (dir.path() / "data").string(), "--nodes"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('\x07'), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('\xff'), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("/title\\x1b]0;owned\\x07\\x1b[2J "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("/bytes\\xff\\xfe\\xc0\\xaf "), std::string::npos) << text.out;
}

// The data directory's owner links a name of ZooKeeper's to a file only root may read: zk-tool
// (root) refuses to follow it, names it in one line (exit 7), and reads nothing through it.
TEST(InspectCli, ALinkPlantedInTheDataDirectoryIsRefusedNotFollowed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: plays the directory's owner as nobody";
  ScratchDir dir;
  dir.copy_zk38();
  fs::permissions(dir.path(), fs::perms(0755));
  const fs::path secret = dir.path() / "root-only";
  write_file(secret, "root's secret");
  fs::permissions(secret, fs::perms(0600));
  auto chown = testsupport::run_captured(
      {"/bin/chown", "-R", "nobody:nogroup", (dir.path() / "data").string()});
  ASSERT_EQ(chown.exit_code, 0) << chown.err;
  auto plant = testsupport::run_captured({"/usr/sbin/runuser", "-u", "nobody", "--", "/bin/ln",
                                          "-s", secret.string(), dir.data() / "snapshot.1ff"});
  ASSERT_EQ(plant.exit_code, 0) << plant.err;
  CliRun run = zk_tool({"inspect", (dir.path() / "data").string(), "--data-log-dir",
                        (dir.path() / "logs").string()});
  EXPECT_EQ(run.exit_code, 7) << run.out << run.err;
  EXPECT_EQ(lines_in(run.err), 1u) << run.err;
  EXPECT_NE(run.err.find((dir.data() / "snapshot.1ff").string() + " is a symbolic link"),
            std::string::npos)
      << run.err;
  EXPECT_EQ(read_file(secret), "root's secret");
}

}  // namespace
}  // namespace zktool
