#include "snapshot/bytes.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
  ::close(fd);
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
}

}  // namespace zktool::snapshot
