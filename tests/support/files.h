// Files for tests: a scratch directory that removes itself, and whole-file
// reads and writes. Header-only, so every test binary can use it whatever it
// links.
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

namespace zktool::testing {

// A fresh directory <parent>/<prefix>XXXXXX, removed with everything in it
// unless release() hands it over. The default parent is the system temp dir;
// servers with unix sockets inside want a short one (a socket's path has room
// for 107 bytes).
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "zktool-test-",
                   const std::filesystem::path& parent = std::filesystem::temp_directory_path()) {
    std::string pattern = (parent / (std::string(prefix) + "XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    }
    path_ = pattern;
  }
  ~TempDir() {
    if (released_) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

  // Leaves the directory in place when this object goes (kept for a look
  // after a failure, or removed by its new owner); returns its path.
  std::filesystem::path release() {
    released_ = true;
    return path_;
  }

 private:
  std::filesystem::path path_;
  bool released_ = false;
};

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Creates missing parent directories; replaces the file.
inline void write_file(const std::filesystem::path& path, std::string_view content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace zktool::testing
