#include "config_file.h"

#include <fstream>

namespace zktool {

namespace {

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::string unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

}  // namespace

Result<ConfigEntries> read_config_file(const std::filesystem::path& file, bool required) {
  std::ifstream in(file);
  if (!in) {
    if (!required) return ConfigEntries{};
    return make_error(ErrorKind::Usage, file.string() + ": cannot read the config file");
  }
  ConfigEntries entries;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string text = trim(line.substr(0, line.find('#')));
    if (text.empty()) continue;
    auto eq = text.find('=');
    if (eq == std::string::npos) {
      return make_error(ErrorKind::Usage, file.string() + ":" + std::to_string(number) +
                                              ": expected name = value");
    }
    entries.emplace_back(trim(std::string_view(text).substr(0, eq)),
                         unquote(trim(std::string_view(text).substr(eq + 1))));
  }
  return entries;
}

std::vector<std::string> config_arguments(const CLI::App& command, const ConfigEntries& entries) {
  std::vector<std::string> args;
  for (const auto& [name, value] : entries) {
    const CLI::Option* option = nullptr;
    for (const CLI::Option* o : command.get_options()) {
      for (const std::string& long_name : o->get_lnames()) {
        if (long_name == name) option = o;
      }
    }
    if (option == nullptr || name == "config" || option->count() > 0) continue;
    if (option->get_type_size() == 0) {  // a flag
      if (value == "true") args.push_back("--" + name);
      continue;
    }
    args.push_back("--" + name + "=" + value);
  }
  return args;
}

}  // namespace zktool
