#include "lock.h"

#include "file_ops.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace zktool {

namespace fs = std::filesystem;

namespace {

constexpr const char* kLockName = ".zk-tool.lock";

std::string read_record(int fd) {
  std::string text(512, '\0');
  ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

// "pid=123 host=m1 command=restore started=2026-11-21T20:00:00Z"
std::string make_record(const std::string& command) {
  std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return "pid=" + std::to_string(::getpid()) + " host=" + host_name() + " command=" + command +
         " started=" + when + "\n";
}

}  // namespace

Result<DirectoryLock> DirectoryLock::acquire(const fs::path& data_dir, const std::string& command) {
  return acquire_file(data_dir / kLockName, data_dir, command);
}

Result<DirectoryLock> DirectoryLock::acquire_file(const fs::path& path, const fs::path& guarded,
                                                  const std::string& command) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return make_error(ErrorKind::Io, path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder = read_record(fd);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return make_error(ErrorKind::Locked,
                        guarded.string() + " is locked by another zk-tool run (" +
                            (holder.empty() ? std::string("holder unknown") : holder) + ")");
    }
    return make_error(ErrorKind::Io, path.string() + ": flock: " + std::strerror(err));
  }
  // We hold the lock, so whoever wrote a record here is gone.
  std::string previous = read_record(fd);
  std::optional<std::string> stale;
  if (!previous.empty()) stale = previous;
  std::string record = make_record(command);
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) {
    int err = errno;
    ::close(fd);
    return make_error(ErrorKind::Io, path.string() + ": " + std::strerror(err));
  }
  return DirectoryLock(fd, path, std::move(stale));
}

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)), stale_holder_(std::move(other.stale_holder_)) {
  other.fd_ = -1;
}

DirectoryLock::~DirectoryLock() {
  if (fd_ < 0) return;
  // An empty record means "released cleanly"; a record left behind means the
  // holder died.
  if (::ftruncate(fd_, 0) != 0) {
    // Nothing to do: the next run will merely report us as a stale holder.
  }
  ::close(fd_);
}

}  // namespace zktool
