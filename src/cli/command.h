// One subcommand of zk-tool. Like osmium-tool, each command lives in its own
// command_<name>.cc with two steps: setup() declares its options on the CLI11
// subcommand (parsing only, no I/O), run() does the work once parsing is done.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "util/result.h"
#include "cli/cli_options.h"

namespace zktool {

class Command {
 public:
  virtual ~Command() = default;
  virtual const char* name() const = 0;
  virtual const char* summary() const = 0;
  // One command line an operator would type, shown as the last line of --help.
  virtual const char* example() const = 0;
  // Declares options and arguments on `app`; must not touch files or services.
  virtual void setup(CLI::App& app) = 0;
  // Runs the command after a successful parse.
  virtual Status run() = 0;
};

// Prints a command's --json result. Strings from data (znode paths) may hold any bytes: invalid
// UTF-8 becomes U+FFFD, so the output is always valid JSON and never an exception.
template <typename Json>
void print_json_result(const Json& result) {
  std::printf("%s\n", result.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
}

// Every subcommand, in the order `zk-tool --help` lists them (commands.cc).
std::vector<std::unique_ptr<Command>> make_commands();

// Adds `command` to `parent` as a subcommand: its options (setup()), then its
// example at the end of its help. Returns the subcommand, owned by `parent`.
CLI::App* add_command(CLI::App& parent, Command& command);

}  // namespace zktool
