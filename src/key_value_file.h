// `name = value` files: zoo.cfg (Java properties, as ZooKeeper writes them)
// and zk-tool.conf. `#` starts a comment; blanks around names and values go.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace zktool {

struct KeyValue {
  std::string key;
  std::string value;
  int line = 0;
};

// Reads `file`. A line without '=' is skipped, or with `strict` an
// ErrorKind::Usage error naming file and line. An unreadable file is Io.
Result<std::vector<KeyValue>> read_key_value_file(const std::filesystem::path& file, bool strict);

}  // namespace zktool
