#include "archive/archive_path.h"

#include <algorithm>

namespace zktool::archive {

std::optional<std::string> unsafe_path_reason(std::string_view path) {
  if (path.empty()) return "the path is empty";
  if (path.front() == '/') return "absolute paths are not allowed";
  for (char c : path) {
    if (c < 0x20 || c > 0x7e) return "the path has a character that is not printable ASCII";
  }
  size_t start = 0;
  while (true) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty()) return "the path has an empty component";
    if (part == ".") return "the path has a \".\" component";
    if (part == "..") return "the path has a \"..\" component";
    if (end == path.size()) break;
    start = end + 1;
  }
  const std::string_view root = path_root(path);
  if (root != kZooKeeperRoot && root != kReplicatedLogRoot) {
    return "the path is outside the roots zookeeper/ and replicated_log/";
  }
  return std::nullopt;
}

std::string_view path_root(std::string_view path) { return path.substr(0, path.find('/')); }

std::string_view normalize_entry_path(std::string_view raw) {
  if (raw.starts_with("./")) raw.remove_prefix(2);
  while (raw.ends_with('/')) raw.remove_suffix(1);
  if (raw == ".") raw = {};
  return raw;
}

std::string quote_for_message(std::string_view text) {
  constexpr size_t kMaxShown = 200;
  std::string quoted = "\"";
  for (char c : text.substr(0, kMaxShown)) quoted.push_back(c >= 0x20 && c <= 0x7e ? c : '?');
  if (text.size() > kMaxShown) quoted += "...";
  return quoted + "\"";
}

}  // namespace zktool::archive
