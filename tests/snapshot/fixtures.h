// Real ZooKeeper 3.8 files under tests/data/zk38 (written by a standalone
// server through zkCli: plain, gzip and snappy snapshots, snapshots with and
// without digests, and their logs trimmed of preallocated zeros), and a
// scratch directory to copy and mutate them in.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

namespace zktool::testing {

inline std::filesystem::path zk38_data() {
  return std::filesystem::path(ZKTOOL_TEST_DATA_DIR) / "zk38" / "data" / "version-2";
}
inline std::filesystem::path zk38_logs() {
  return std::filesystem::path(ZKTOOL_TEST_DATA_DIR) / "zk38" / "logs" / "version-2";
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A fresh directory removed when the object dies.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "zktool-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

  // Copies the fixture into <scratch>/data/version-2 and <scratch>/logs/version-2.
  void copy_zk38() const {
    std::filesystem::create_directories(path_ / "data");
    std::filesystem::create_directories(path_ / "logs");
    std::filesystem::copy(zk38_data(), path_ / "data" / "version-2");
    std::filesystem::copy(zk38_logs(), path_ / "logs" / "version-2");
  }
  std::filesystem::path data() const { return path_ / "data" / "version-2"; }
  std::filesystem::path logs() const { return path_ / "logs" / "version-2"; }

 private:
  std::filesystem::path path_;
};

}  // namespace zktool::testing
