#include "config_file.h"

#include "key_value_file.h"

namespace zktool {

namespace {

std::string unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

}  // namespace

Result<ConfigEntries> read_config_file(const std::filesystem::path& file, bool required) {
  std::error_code ec;
  if (!required && !std::filesystem::exists(file, ec)) return ConfigEntries{};
  auto lines = read_key_value_file(file, /*strict=*/true);
  if (!lines) return make_error(ErrorKind::Usage, lines.error().message);
  ConfigEntries entries;
  for (KeyValue& kv : *lines) entries.emplace_back(std::move(kv.key), unquote(std::move(kv.value)));
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
