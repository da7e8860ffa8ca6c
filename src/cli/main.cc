// zk-tool's entry point: parse, dispatch to one command, and turn its result
// into a documented exit code and one line on stderr or one journal entry
// (logging.h). No command logic here.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.h"
#include "cli/config_file.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "zktool_build_info.h"

int main(int argc, char** argv) {
  CLI::App app{"zk-tool: verified backup and restore for ZooKeeper and the Mesos replicated log",
               "zk-tool"};
  app.require_subcommand(1);
  app.set_version_flag("--version", ZKTOOL_VERSION_LINE);
  app.footer("zk-tool COMMAND --help shows each command's options.\n\n"
             "Example:\n  zk-tool backup /var/backups/zk-tool/zk-$(date -u +%F).tar.zst");
  int verbosity = 0;
  app.add_flag("-v,--verbose", verbosity, "More detail on stderr (repeat for more)");

  auto commands = zktool::make_commands();
  std::vector<std::pair<CLI::App*, zktool::Command*>> subcommands;
  std::string config_file = zktool::kDefaultConfigFile;
  for (auto& command : commands) {
    CLI::App* sub = zktool::add_command(app, *command);
    sub->add_option("--config", config_file, "Read options from this file (same names)")
        ->capture_default_str();
    subcommands.emplace_back(sub, command.get());
  }

  std::vector<std::string> args(argv + 1, argv + argc);
  std::reverse(args.begin(), args.end());  // CLI11 consumes a reversed vector
  try {
    app.parse(std::vector<std::string>(args));
    // Options the command line left unset come from the config file.
    for (auto& [sub, command] : subcommands) {
      if (!sub->parsed()) continue;
      bool named = sub->get_option("--config")->count() > 0;
      auto entries = zktool::read_config_file(config_file, named);
      if (!entries) {
        std::fprintf(stderr, "zk-tool: %s\n", entries.error().message.c_str());
        return zktool::kExitUsage;
      }
      auto from_file = zktool::config_arguments(*sub, *entries);
      if (!from_file) {
        std::fprintf(stderr, "zk-tool: %s\n", from_file.error().message.c_str());
        return zktool::kExitUsage;
      }
      const std::vector<std::string>& extra = *from_file;
      if (extra.empty()) break;
      std::vector<std::string> again(argv + 1, argv + argc);
      again.insert(again.end(), extra.begin(), extra.end());
      std::reverse(again.begin(), again.end());
      app.clear();
      app.parse(again);
      break;
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "zk-tool: %s (try --help)\n", e.what());
    return zktool::kExitUsage;
  }
  zktool::setup_logging(verbosity);

  for (auto& [sub, command] : subcommands) {
    if (!sub->parsed()) continue;
    zktool::Status status = zktool::Ok{};
    try {
      status = command->run();
    } catch (const std::exception& e) {
      // Expected failures are values; an exception here is a bug or an allocation failure.
      status = zktool::make_error(zktool::ErrorKind::Internal,
                                  std::string("internal error: ") + e.what());
    }
    int code = status.ok() ? zktool::kExitOk : zktool::exit_code_for(status.error().kind);
    zktool::log_result(command->name(), status, code);
    return code;
  }
  return zktool::kExitUsage;
}
