// zk-tool.conf: every long option of a command can be set here instead of on
// the command line, under the same name. The file is `name = value` lines
// (syntax in key_value_file.h); values may be quoted; a flag takes true or
// false.
// One file serves every command, so each takes the names it knows and leaves
// the rest. The command line wins over the file.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "util/result.h"
#include "util/key_value_file.h"

namespace zktool {

inline constexpr const char* kDefaultConfigFile = "/etc/zk-tool/zk-tool.conf";

struct ConfigFile {
  std::filesystem::path path;
  std::vector<KeyValue> entries;  // values unquoted
};

// A missing file is no entries unless `required` (the operator named it). A
// name set twice is ErrorKind::Usage naming both lines.
Result<ConfigFile> read_config_file(const std::filesystem::path& file, bool required);

// "--name=value" for each entry naming a long option of `command` that the
// command line did not set; "--name" for a flag set true. A flag set to
// anything but true or false is ErrorKind::Usage naming the file and line.
Result<std::vector<std::string>> config_arguments(const CLI::App& command,
                                                  const ConfigFile& config);

}  // namespace zktool
