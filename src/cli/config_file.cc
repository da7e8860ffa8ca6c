#include "cli/config_file.h"

#include <map>

#include "util/key_value_file.h"

namespace zktool {

namespace {

std::string unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    return v.substr(1, v.size() - 2);
  }
  return v;
}

}  // namespace

Result<ConfigFile> read_config_file(const std::filesystem::path& file, bool required) {
  std::error_code ec;
  if (!required && !std::filesystem::exists(file, ec)) return ConfigFile{file, {}};
  auto lines = read_key_value_file(file, KeyValueSyntax::kZkToolConf);
  if (!lines) return make_error(ErrorKind::Usage, lines.error().message);
  ConfigFile config{file, {}};
  std::map<std::string, int> first_line;
  for (KeyValue& kv : *lines) {
    auto [seen, fresh] = first_line.emplace(kv.key, kv.line);
    if (!fresh) {
      return make_error(ErrorKind::Usage, file.string() + ":" + std::to_string(kv.line) + ": " +
                                              kv.key + " is set again (first on line " +
                                              std::to_string(seen->second) + ")");
    }
    kv.value = unquote(std::move(kv.value));
    config.entries.push_back(std::move(kv));
  }
  return config;
}

Result<std::vector<std::string>> config_arguments(const CLI::App& command,
                                                  const ConfigFile& config) {
  std::vector<std::string> args;
  for (const KeyValue& entry : config.entries) {
    const CLI::Option* option = nullptr;
    for (const CLI::Option* o : command.get_options()) {
      for (const std::string& long_name : o->get_lnames()) {
        if (long_name == entry.key) option = o;
      }
    }
    if (option == nullptr || entry.key == "config" || option->count() > 0) continue;
    if (option->get_expected_max() == 0) {  // a flag: it takes no value on the command line
      if (entry.value != "true" && entry.value != "false") {
        return make_error(ErrorKind::Usage, config.path.string() + ":" +
                                                std::to_string(entry.line) + ": " + entry.key +
                                                " is a flag: true or false, not \"" +
                                                entry.value + "\"");
      }
      if (entry.value == "true") args.push_back("--" + entry.key);
      continue;
    }
    args.push_back("--" + entry.key + "=" + entry.value);
  }
  return args;
}

}  // namespace zktool
