#include "unit_files.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace zktool::testing {

std::string append_to_section(std::string text, std::string_view section, std::string_view lines) {
  const std::string header = "\n[" + std::string(section) + "]\n";
  // Searching "\n" + text finds a header on the first line too; `start` is
  // then the header's '[' in `text`, and its line ends at start + size - 2.
  size_t start = ("\n" + text).find(header);
  if (start == std::string::npos) throw std::invalid_argument("no section " + header);
  size_t next = text.find("\n[", start + header.size() - 2);
  size_t at = next == std::string::npos ? text.size() : next + 1;
  text.insert(at, lines);
  return text;
}

std::vector<std::string> setting_words(const std::string& text, std::string_view key) {
  const std::string prefix = std::string(key) + "=";
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    words.clear();
    std::istringstream value(line.substr(prefix.size()));
    for (std::string w; value >> w;) words.push_back(w);
  }
  return words;
}

std::vector<std::string> regular_files(const std::filesystem::path& root) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) files.push_back(e.path().lexically_relative(root).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace zktool::testing
