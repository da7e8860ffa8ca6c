#include "util/key_value_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/unique_fd.h"

namespace zktool {

namespace {

// Configuration files are small; a bigger one is not a configuration file.
constexpr size_t kMaxFileSize = 1 << 20;

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return lines;
}

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xc0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    out += static_cast<char>(0xe0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
}

// Decodes the escapes of a Java properties key or value.
Result<std::string> unescape(std::string_view raw, const std::string& where) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out += raw[i];
      continue;
    }
    const char c = raw[++i];
    switch (c) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        uint32_t code = 0;
        for (int k = 0; k < 4; ++k) {
          const char h = i + 1 < raw.size() ? raw[++i] : '\0';
          const int digit = h >= '0' && h <= '9'   ? h - '0'
                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                   : -1;
          if (digit < 0) return make_error(ErrorKind::Usage, where + ": malformed \\uXXXX escape");
          code = code * 16 + static_cast<uint32_t>(digit);
        }
        append_utf8(out, code);
        break;
      }
      default: out += c;
    }
  }
  return out;
}

bool ends_in_odd_backslashes(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[line.size() - 1 - n] == '\\') ++n;
  return n % 2 == 1;
}

Result<std::vector<KeyValue>> parse_java_properties(std::string_view text,
                                                    const std::filesystem::path& file) {
  std::vector<KeyValue> entries;
  const std::vector<std::string_view> lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const int number = static_cast<int>(i) + 1;
    std::string_view first = trim(lines[i]);
    if (first.empty() || first.front() == '#' || first.front() == '!') continue;
    // Join continuation lines; each continuation's leading blanks go.
    std::string logical(lines[i].substr(lines[i].find_first_not_of(" \t\f")));
    while (!logical.empty() && logical.back() == '\r') logical.pop_back();
    while (ends_in_odd_backslashes(logical) && i + 1 < lines.size()) {
      logical.pop_back();
      std::string_view next = lines[++i];
      while (!next.empty() && is_blank(next.front())) next.remove_prefix(1);
      if (!next.empty() && next.back() == '\r') next.remove_suffix(1);
      logical += next;
    }
    // The name ends at the first unescaped separator or blank.
    size_t end = 0;
    while (end < logical.size()) {
      const char c = logical[end];
      if (c == '\\') {
        end += 2;
        continue;
      }
      if (c == '=' || c == ':' || is_blank(c)) break;
      ++end;
    }
    end = std::min(end, logical.size());
    size_t value_at = end;
    while (value_at < logical.size() && is_blank(logical[value_at])) ++value_at;
    if (value_at < logical.size() && (logical[value_at] == '=' || logical[value_at] == ':')) {
      ++value_at;
    }
    const std::string where = file.string() + ":" + std::to_string(number);
    auto key = unescape(std::string_view(logical).substr(0, end), where);
    if (!key) return key.error();
    auto value = unescape(std::string_view(logical).substr(value_at), where);
    if (!value) return value.error();
    entries.push_back({std::string(trim(*key)), std::string(trim(*value)), number});
  }
  return entries;
}

// A '#' at the start, or after a blank outside quotes, starts a comment.
std::string_view strip_conf_comment(std::string_view line) {
  char quote = '\0';
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != '\0') {
      if (c == quote) quote = '\0';
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' && (i == 0 || is_blank(line[i - 1]))) {
      return line.substr(0, i);
    }
  }
  return line;
}

Result<std::vector<KeyValue>> parse_zk_tool_conf(std::string_view text,
                                                 const std::filesystem::path& file) {
  std::vector<KeyValue> entries;
  int number = 0;
  for (std::string_view line : split_lines(text)) {
    ++number;
    const std::string_view content = trim(strip_conf_comment(line));
    if (content.empty()) continue;
    const std::string where = file.string() + ":" + std::to_string(number);
    const size_t eq = content.find('=');
    if (eq == std::string_view::npos) {
      return make_error(ErrorKind::Usage, where + ": expected name = value");
    }
    const std::string_view key = trim(content.substr(0, eq));
    if (key.empty()) return make_error(ErrorKind::Usage, where + ": no name before '='");
    entries.push_back({std::string(key), std::string(trim(content.substr(eq + 1))), number});
  }
  return entries;
}

}  // namespace

Result<std::vector<KeyValue>> parse_key_values(std::string_view text,
                                               const std::filesystem::path& file,
                                               KeyValueSyntax syntax) {
  return syntax == KeyValueSyntax::kJavaProperties ? parse_java_properties(text, file)
                                                   : parse_zk_tool_conf(text, file);
}

Result<std::vector<KeyValue>> read_key_value_file(const std::filesystem::path& file,
                                                  KeyValueSyntax syntax) {
  auto cannot = [&](const std::string& why) {
    return make_error(ErrorKind::Io, file.string() + ": cannot read: " + why);
  };
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return cannot(std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return cannot(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return cannot("not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxFileSize) {
    return cannot("larger than " + std::to_string(kMaxFileSize >> 20) + " MiB");
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return cannot(std::strerror(errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return parse_key_values(text, file, syntax);
}

}  // namespace zktool
