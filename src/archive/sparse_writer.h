// Internal to the archive library: writes a new file front to back, leaving
// each 4 KiB block that holds only zeros as a hole. A hole reads back as
// zeros, so the content is the same; the disk is spared the zeros, as
// ZooKeeper's own preallocated logs are (a dcos-zk archive holds them as
// tens of MiB of zeros each).
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/result.h"

namespace zktool::archive {

class SparseWriter {
 public:
  // `fd`: an empty regular file open for writing; the caller keeps it open.
  explicit SparseWriter(int fd) : fd_(fd) {}

  // Appends `size` bytes. Errors name the system call, not the file.
  Status write(const char* data, size_t size);
  // Sets the file's length to the bytes written, a trailing hole included.
  Status finish();

 private:
  int fd_;
  uint64_t offset_ = 0;
};

}  // namespace zktool::archive
