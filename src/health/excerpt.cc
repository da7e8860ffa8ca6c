#include "health/excerpt.h"

#include <cstdio>

namespace zktool::health {

std::string excerpt(std::string_view text, size_t max) {
  std::string out = "\"";
  for (char c : text.substr(0, max)) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    } else {
      out += c;
    }
  }
  out += text.size() > max ? "\"..." : "\"";
  return out;
}

}  // namespace zktool::health
