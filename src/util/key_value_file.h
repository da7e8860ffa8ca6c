// `name = value` files in the two syntaxes zk-tool reads:
//
// - Java properties (zoo.cfg, which ZooKeeper reads with java.util.Properties
//   and Exhibitor writes with Properties.store, escaping every ':' as "\:"):
//   a line whose first non-blank is '#' or '!' is a comment; a line ending in
//   an odd number of backslashes continues on the next; the name ends at the
//   first unescaped '=', ':' or blank, and one '=' or ':' among the blanks
//   after it belongs to the separator; "\t", "\n", "\r", "\f" and "\uXXXX"
//   are decoded and any other escaped character stands for itself. Names and
//   values are trimmed, as ZooKeeper trims them.
// - zk-tool.conf: `name = value` per line; '#' at the start of a line, or
//   after a blank outside quotes, starts a comment; a line without '=', or
//   with an empty name, is ErrorKind::Usage naming the file and line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/result.h"

namespace zktool {

struct KeyValue {
  std::string key;
  std::string value;
  int line = 0;  // where the entry starts
};

enum class KeyValueSyntax { kJavaProperties, kZkToolConf };

// Parses `text`, read from `file` (named in errors).
Result<std::vector<KeyValue>> parse_key_values(std::string_view text,
                                               const std::filesystem::path& file,
                                               KeyValueSyntax syntax);

// Reads and parses `file`; one that cannot be read (a directory among them)
// is ErrorKind::Io.
Result<std::vector<KeyValue>> read_key_value_file(const std::filesystem::path& file,
                                                  KeyValueSyntax syntax);

}  // namespace zktool
