#include "key_value_file.h"

#include <fstream>

namespace zktool {

namespace {

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

Result<std::vector<KeyValue>> read_key_value_file(const std::filesystem::path& file, bool strict) {
  std::ifstream in(file);
  if (!in) return make_error(ErrorKind::Io, file.string() + ": cannot read");
  std::vector<KeyValue> entries;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string text = trim(std::string_view(line).substr(0, line.find('#')));
    if (text.empty()) continue;
    auto eq = text.find('=');
    if (eq == std::string::npos) {
      if (!strict) continue;
      return make_error(ErrorKind::Usage, file.string() + ":" + std::to_string(number) +
                                              ": expected name = value");
    }
    entries.push_back({trim(std::string_view(text).substr(0, eq)),
                       trim(std::string_view(text).substr(eq + 1)), number});
  }
  return entries;
}

}  // namespace zktool
