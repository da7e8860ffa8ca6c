#include "cluster/unit_file.h"

#include <cstdio>

namespace zktool::testsupport {

namespace {

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

std::string double_percent(std::string_view text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '%') out += '%';
  }
  return out;
}

std::string quote_argument(std::string_view arg) {
  std::string out = "\"";
  for (char c : arg) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '%': out += "%%"; break;
      case '$': out += "$$"; break;
      default:
        if (is_control(c)) {
          char hex[5];
          std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string exec_command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line += ' ';
    line += quote_argument(arg);
  }
  return line;
}

Result<std::string> unit_path_value(const std::filesystem::path& path) {
  const std::string text = path.string();
  const bool blank_edge = !text.empty() && (text.front() == ' ' || text.back() == ' ');
  bool control = false;
  for (char c : text) control = control || is_control(c);
  if (!path.is_absolute() || blank_edge || control) {
    return make_error(ErrorKind::Usage,
                      "\"" + text + "\" cannot be a path in a unit file (it must be absolute, "
                      "without control characters or blanks at either end)");
  }
  return double_percent(text);
}

Result<std::string> zk_node_unit(const EnsembleLayout& layout, size_t index,
                                 std::string_view extra_service_lines) {
  const NodeLayout& node = layout.nodes.at(index);
  auto dir = unit_path_value(node.dir);
  if (!dir.ok()) return dir.error();
  auto log = unit_path_value(node.log_file);
  if (!log.ok()) return log.error();
  // Java exits 128+15 on SIGTERM. KillMode=mixed: SIGTERM to the JVM alone,
  // SIGKILL to anything left in the unit once the stop times out.
  return "[Unit]\n"
         "Description=ZooKeeper node " + std::to_string(node.id) + " of the test ensemble in " +
         double_percent(layout.config.base_dir.string()) + "\n"
         "\n"
         "[Service]\n"
         "Type=simple\n"
         "WorkingDirectory=" + *dir + "\n"
         "ExecStart=" + exec_command_line(java_command(layout, index)) + "\n"
         "SuccessExitStatus=143\n"
         "KillMode=mixed\n"
         "TimeoutStopSec=20\n"
         "Restart=no\n"
         "StandardOutput=append:" + *log + "\n"
         "StandardError=append:" + *log + "\n" +
         std::string(extra_service_lines);
}

}  // namespace zktool::testsupport
