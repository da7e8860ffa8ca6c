// One subcommand of zk-tool. Like osmium-tool, each command lives in its own
// command_<name>.cc with two steps: setup() declares its options on the CLI11
// subcommand (parsing only, no I/O), run() does the work once parsing is done.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/result.h"

namespace zktool {

class Command {
 public:
  virtual ~Command() = default;
  virtual const char* name() const = 0;
  virtual const char* summary() const = 0;
  // Declares options and arguments on `app`; must not touch files or services.
  virtual void setup(CLI::App& app) = 0;
  // Runs the command after a successful parse.
  virtual Status run() = 0;
};

// Every subcommand, in the order `zk-tool --help` lists them (commands.cc).
std::vector<std::unique_ptr<Command>> make_commands();

}  // namespace zktool
