// Real ZooKeeper 3.8 files under tests/data/zk38 (written by a standalone
// server through zkCli: plain, gzip and snappy snapshots, snapshots with and
// without digests, and their logs trimmed of preallocated zeros), and a
// scratch directory to copy and mutate them in.
#pragma once

#include <filesystem>

#include "../support/files.h"

namespace zktool::testing {

inline std::filesystem::path zk38_data() {
  return std::filesystem::path(ZKTOOL_TEST_DATA_DIR) / "zk38" / "data" / "version-2";
}
inline std::filesystem::path zk38_logs() {
  return std::filesystem::path(ZKTOOL_TEST_DATA_DIR) / "zk38" / "logs" / "version-2";
}

// A scratch directory with room for a copy of the fixture.
class ScratchDir : public TempDir {
 public:
  // Copies the fixture into <scratch>/data/version-2 and <scratch>/logs/version-2.
  void copy_zk38() const {
    std::filesystem::create_directories(path() / "data");
    std::filesystem::create_directories(path() / "logs");
    std::filesystem::copy(zk38_data(), path() / "data" / "version-2");
    std::filesystem::copy(zk38_logs(), path() / "logs" / "version-2");
  }
  std::filesystem::path data() const { return path() / "data" / "version-2"; }
  std::filesystem::path logs() const { return path() / "logs" / "version-2"; }
};

}  // namespace zktool::testing
