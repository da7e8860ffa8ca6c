#include "command.h"

namespace zktool {

std::unique_ptr<Command> make_inspect_command();
std::unique_ptr<Command> make_log_command();
std::unique_ptr<Command> make_status_command();

std::vector<std::unique_ptr<Command>> make_commands() {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(make_inspect_command());
  commands.push_back(make_log_command());
  commands.push_back(make_status_command());
  return commands;
}

}  // namespace zktool
