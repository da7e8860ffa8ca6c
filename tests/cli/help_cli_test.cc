// zk-tool's --help and --version as a newcomer meets them: every usage line names the program
// and the command, every command's help ends with an example of that command, and --version
// names the version and the commit the binary was built from.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "support/zk_tool.h"

namespace zktool {
namespace {

using testsupport::zk_tool;

// The names listed under "Subcommands:" in a help text.
std::vector<std::string> subcommands_in(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream in(help);
  std::string line;
  bool listing = false;
  while (std::getline(in, line)) {
    if (line == "Subcommands:") {
      listing = true;
    } else if (listing && line.rfind("  ", 0) == 0 && line.size() > 2 && line[2] != ' ') {
      names.push_back(line.substr(2, line.find(' ', 2) - 2));
    } else if (listing && line.empty()) {
      break;
    }
  }
  return names;
}

// The last two non-empty lines of a help text.
std::vector<std::string> last_lines(const std::string& help) {
  std::vector<std::string> lines;
  std::istringstream in(help);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.size() > 2) lines.erase(lines.begin(), lines.end() - 2);
  return lines;
}

void expect_help_of(const std::vector<std::string>& command) {
  std::string words;
  for (const std::string& w : command) words += " " + w;
  std::vector<std::string> args = command;
  args.push_back("--help");
  auto run = zk_tool(args);
  ASSERT_EQ(run.exit_code, 0) << words << ": " << run.err;
  EXPECT_NE(run.out.find("Usage: zk-tool" + words + " "), std::string::npos) << run.out;
  std::vector<std::string> tail = last_lines(run.out);
  ASSERT_EQ(tail.size(), 2u) << run.out;
  EXPECT_EQ(tail[0], "Example:") << words << ":\n" << run.out;
  std::string prefix = "  zk-tool" + (command.empty() ? std::string(" ") : words + " ");
  EXPECT_EQ(tail[1].rfind(prefix, 0), 0u) << words << ": the example is not of this command: "
                                          << tail[1];
}

TEST(HelpCli, EveryUsageLineNamesTheProgramAndEndsWithAnExample) {
  auto top = zk_tool({"--help"});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  EXPECT_NE(top.out.find("Usage: zk-tool [OPTIONS] SUBCOMMAND"), std::string::npos) << top.out;
  expect_help_of({});
  std::vector<std::string> commands = subcommands_in(top.out);
  ASSERT_GE(commands.size(), 8u) << top.out;
  for (const std::string& command : commands) {
    expect_help_of({command});
    auto help = zk_tool({command, "--help"});
    for (const std::string& sub : subcommands_in(help.out)) expect_help_of({command, sub});
  }
  auto log = zk_tool({"log", "--help"});
  EXPECT_EQ(subcommands_in(log.out),
            (std::vector<std::string>{"initialize", "read", "backup", "restore"}));
}

// "zk-tool 1.2.3 (commit <40 hex digits>[-dirty])", or "(commit unknown)" outside git.
bool is_version_line(const std::string& line) {
  const std::string prefix = "zk-tool ";
  const std::string middle = " (commit ";
  if (line.rfind(prefix, 0) != 0 || !line.ends_with(")\n")) return false;
  size_t commit_at = line.find(middle);
  if (commit_at == std::string::npos) return false;
  std::string version = line.substr(prefix.size(), commit_at - prefix.size());
  if (version.empty() || std::count(version.begin(), version.end(), '.') != 2 ||
      version.find_first_not_of("0123456789.") != std::string::npos) {
    return false;
  }
  std::string commit = line.substr(commit_at + middle.size());
  commit.resize(commit.size() - 2);  // ")\n"
  if (commit == "unknown") return true;
  if (commit.ends_with("-dirty")) commit.resize(commit.size() - 6);
  return commit.size() == 40 && commit.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(HelpCli, VersionNamesTheVersionAndTheCommit) {
  auto run = zk_tool({"--version"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(is_version_line(run.out)) << run.out;
  EXPECT_FALSE(is_version_line("zk-tool 0.1.0\n"));
  EXPECT_FALSE(is_version_line("zk-tool 0.1.0 (commit abc)\n"));
}

}  // namespace
}  // namespace zktool
