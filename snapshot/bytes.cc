#include "snapshot/bytes.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace zktool::snapshot {

Result<std::shared_ptr<const Bytes>> Bytes::map_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(ErrorKind::Io, path.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return make_error(ErrorKind::Io, path.string() + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(ErrorKind::Io, path.string() + ": not a regular file");
  }
  std::shared_ptr<Bytes> bytes(new Bytes());
  if (st.st_size > 0) {
    auto size = static_cast<size_t>(st.st_size);
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return make_error(ErrorKind::Io, path.string() + ": mmap: " + std::strerror(err));
    }
    ::madvise(p, size, MADV_SEQUENTIAL);
    bytes->mapping_ = p;
    bytes->mapping_size_ = size;
    bytes->view_ = std::string_view(static_cast<const char*>(p), size);
  }
  bytes->fd_ = fd;
  return std::shared_ptr<const Bytes>(std::move(bytes));
}

std::shared_ptr<const Bytes> Bytes::own(std::string contents) {
  std::shared_ptr<Bytes> bytes(new Bytes());
  bytes->owned_ = std::move(contents);
  bytes->view_ = bytes->owned_;
  return bytes;
}

Bytes::~Bytes() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapping_size_);
  if (fd_ >= 0) ::close(fd_);
}

namespace {

std::optional<size_t> first_non_zero_in(std::string_view bytes, size_t base) {
  // memcmp against a zero block is vectorised; a byte loop is not.
  static const char zeros[4096] = {};
  for (size_t pos = 0; pos < bytes.size(); pos += sizeof(zeros)) {
    size_t n = std::min(sizeof(zeros), bytes.size() - pos);
    if (std::memcmp(bytes.data() + pos, zeros, n) == 0) continue;
    for (size_t i = pos; i < pos + n; ++i) {
      if (bytes[i] != 0) return base + i;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<size_t> Bytes::first_non_zero(size_t from) const {
  if (fd_ < 0) return first_non_zero_in(view_.substr(std::min(from, view_.size())), from);
  size_t pos = from;
  while (pos < view_.size()) {
    off_t data = ::lseek(fd_, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0) {
      // ENXIO: only a hole remains. Anything else: the file system cannot
      // say, so read the rest.
      if (errno == ENXIO) return std::nullopt;
      return first_non_zero_in(view_.substr(pos), pos);
    }
    off_t hole = ::lseek(fd_, data, SEEK_HOLE);
    auto end = hole < 0 ? view_.size() : std::min(view_.size(), static_cast<size_t>(hole));
    auto begin = static_cast<size_t>(data);
    if (begin >= view_.size()) return std::nullopt;
    if (auto hit = first_non_zero_in(view_.substr(begin, end - begin), begin)) return hit;
    pos = end;
  }
  return std::nullopt;
}

}  // namespace zktool::snapshot
