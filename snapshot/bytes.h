// Immutable bytes that decoded records point into. A file is memory-mapped
// read-only (so parsing a snapshot touches each byte once and copies none); a
// decompressed or generated buffer is owned. Hold the shared_ptr for as long as
// any view into the bytes is in use.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace zktool::snapshot {

class Bytes {
 public:
  // Maps `path` read-only. An empty file maps to an empty view.
  static Result<std::shared_ptr<const Bytes>> map_file(const std::filesystem::path& path);
  static std::shared_ptr<const Bytes> own(std::string contents);

  ~Bytes();
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;

  std::string_view view() const { return view_; }

  // The offset of the first non-zero byte at or after `from`, or nullopt when
  // every byte from there on is zero. For a mapped file only the regions that
  // hold data are read: the holes of a sparse file (ZooKeeper's preallocated
  // log tails) are zero by definition and are never faulted in.
  std::optional<size_t> first_non_zero(size_t from) const;

 private:
  Bytes() = default;
  std::string owned_;
  int fd_ = -1;  // kept open for SEEK_DATA on mapped files
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::string_view view_;
};

}  // namespace zktool::snapshot
