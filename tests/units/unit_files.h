// Reading and adjusting the shipped unit files for tests: the test runs them
// as they ship, with only the settings it names added at the end of a section
// (where a later assignment overrides, and an empty one resets a list).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace zktool::testing {

// `text` with `lines` (each ending in a newline) inserted as the last lines of
// `[section]`. The section must exist.
std::string append_to_section(std::string text, std::string_view section, std::string_view lines);

// The words of the last `key=` line, split on blanks (no quoting in the
// shipped units).
std::vector<std::string> setting_words(const std::string& text, std::string_view key);

// Every regular file under `root`, as paths relative to it, sorted.
std::vector<std::string> regular_files(const std::filesystem::path& root);

}  // namespace zktool::testing
