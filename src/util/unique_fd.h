// An owned file descriptor, closed once.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include <utility>

namespace zktool {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now; returns close()'s result so writers can see a late error.
  int reset() { return fd_ >= 0 ? ::close(std::exchange(fd_, -1)) : 0; }

 private:
  int fd_ = -1;
};

// The path that reaches `fd`'s file whatever its name becomes meanwhile.
inline std::string fd_path(int fd) {
  // Appended, not "lit" + string: GCC 12 warns falsely (-Wrestrict) on that at -O3.
  std::string path("/proc/self/fd/");
  path.append(std::to_string(fd));
  return path;
}

// Whether `name` in the directory open as `dir` is, right now, the file open
// as `fd` (the name not followed if it is a link).
inline bool names_file(int dir, const char* name, int fd) {
  struct stat named {}, open_file {};
  return ::fstatat(dir, name, &named, AT_SYMLINK_NOFOLLOW) == 0 && ::fstat(fd, &open_file) == 0 &&
         named.st_dev == open_file.st_dev && named.st_ino == open_file.st_ino;
}

}  // namespace zktool
