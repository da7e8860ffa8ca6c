#include "archive/sparse_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace zktool::archive {
namespace {

constexpr size_t kHoleBlock = 4096;

bool all_zero(const char* data, size_t size) {
  return size == 0 || (data[0] == 0 && std::memcmp(data, data + 1, size - 1) == 0);
}

Error system_error(const char* call) {
  return make_error(ErrorKind::Io, std::string("cannot ") + call + ": " + std::strerror(errno));
}

}  // namespace

Status SparseWriter::write(const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    // The block ends on a kHoleBlock boundary of the file, so holes line up
    // with the file system's blocks whatever sizes the caller hands in.
    const size_t block =
        std::min<size_t>(size - done, kHoleBlock - (offset_ + done) % kHoleBlock);
    if (all_zero(data + done, block)) {
      done += block;
      continue;
    }
    // Write this block and every following one that is not all zeros.
    size_t end = done + block;
    while (end < size) {
      const size_t next = std::min(size - end, kHoleBlock);
      if (all_zero(data + end, next)) break;
      end += next;
    }
    while (done < end) {
      const ssize_t w = ::pwrite(fd_, data + done, end - done, static_cast<off_t>(offset_ + done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return system_error("write");
      done += static_cast<size_t>(w);
    }
  }
  offset_ += size;
  return Ok{};
}

Status SparseWriter::finish() {
  if (::ftruncate(fd_, static_cast<off_t>(offset_)) != 0) return system_error("set the length");
  return Ok{};
}

}  // namespace zktool::archive
