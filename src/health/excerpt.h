// Quotes the start of an untrusted reply for a one-line error message.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zktool::health {

// `text` cut to `max` bytes (marked with "..."), in double quotes, with
// newlines, quotes and other control bytes escaped so it stays on one line.
std::string excerpt(std::string_view text, size_t max = 120);

}  // namespace zktool::health
