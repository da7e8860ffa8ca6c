// Text from data (znode paths, names read from archives) made safe to print: what a terminal
// would act on, or cannot show, is written as \xNN instead of the byte itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zktool {

// `text` with every C0 and C1 control character, DEL, and every byte that is not part of a
// valid UTF-8 sequence replaced by \xNN (hex, of each byte). Valid UTF-8 otherwise unchanged.
inline std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  auto escape = [&](unsigned char byte) {
    out += "\\x";
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  };
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      if (lead < 0x20 || lead == 0x7f) {
        escape(lead);
      } else {
        out += static_cast<char>(lead);
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: its length from the lead byte, then each continuation byte; no
    // overlong forms, no surrogates, nothing above U+10FFFF.
    size_t length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3
                    : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    uint32_t code = length == 2 ? lead & 0x1f : length == 3 ? lead & 0x0f : lead & 0x07;
    bool valid = length != 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xc0) == 0x80;
      code = (code << 6) | (next & 0x3f);
    }
    valid = valid && !(length == 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) &&
            !(length == 4 && (code < 0x10000 || code > 0x10ffff));
    if (!valid) {
      escape(lead);
      ++i;
    } else if (code >= 0x80 && code <= 0x9f) {  // C1 controls, e.g. U+009B (CSI)
      for (size_t k = 0; k < length; ++k) escape(static_cast<unsigned char>(text[i + k]));
      i += length;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace zktool
