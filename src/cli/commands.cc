#include "cli/command.h"

#include <string>

namespace zktool {

std::unique_ptr<Command> make_backup_command();
std::unique_ptr<Command> make_restore_command();
std::unique_ptr<Command> make_rollback_command();
std::unique_ptr<Command> make_verify_command();
std::unique_ptr<Command> make_inspect_command();
std::unique_ptr<Command> make_log_command();
std::unique_ptr<Command> make_status_command();
std::unique_ptr<Command> make_list_command();
std::unique_ptr<Command> make_keygen_command();

CLI::App* add_command(CLI::App& parent, Command& command) {
  CLI::App* sub = parent.add_subcommand(command.name(), command.summary());
  command.setup(*sub);
  std::string footer = sub->get_footer();
  if (!footer.empty()) footer += "\n\n";
  sub->footer(footer + "Example:\n  " + command.example());
  return sub;
}

std::vector<std::unique_ptr<Command>> make_commands() {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(make_backup_command());
  commands.push_back(make_restore_command());
  commands.push_back(make_verify_command());
  commands.push_back(make_rollback_command());
  commands.push_back(make_inspect_command());
  commands.push_back(make_list_command());
  commands.push_back(make_log_command());
  commands.push_back(make_status_command());
  commands.push_back(make_keygen_command());
  return commands;
}

}  // namespace zktool
