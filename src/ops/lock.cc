#include "ops/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>

#include "util/utc_time.h"
#include "util/file_ops.h"

namespace zktool {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRecordName = ".zk-tool.lock";
constexpr size_t kMaxRecord = 512;

// The record in `name`, as far as it is one: a link or anything not a
// regular file reads as no record, and only its first bytes are read.
std::string read_record(int dir, const std::string& name) {
  std::string text = read_small_file_at(dir, name, kMaxRecord).value_or("");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

// "pid=123 host=m1 command=restore started=2026-11-21T20:00:00Z"
std::string make_record(const std::string& command) {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return "pid=" + std::to_string(::getpid()) + " host=" + host_name() + " command=" + command +
         " started=" + format_utc(now) + "\n";
}

}  // namespace

Result<DirectoryLock> DirectoryLock::acquire(const fs::path& data_dir, const std::string& command) {
  return acquire_in(data_dir, kRecordName, data_dir, command);
}

Result<DirectoryLock> DirectoryLock::acquire_in(const fs::path& dir, const std::string& record,
                                                const fs::path& guarded,
                                                const std::string& command) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return make_error(ErrorKind::Io, dir.string() + ": " + std::strerror(errno));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      const std::string holder = read_record(fd.get(), record);
      return make_error(ErrorKind::Locked,
                        guarded.string() + " is locked by another zk-tool run (" +
                            (holder.empty() ? std::string("holder unknown") : holder) + ")");
    }
    return make_error(ErrorKind::Io, dir.string() + ": flock: " + std::strerror(err));
  }
  // We hold the lock, so whoever wrote a record here is gone.
  std::optional<std::string> stale;
  if (std::string previous = read_record(fd.get(), record); !previous.empty()) stale = previous;
  if (Status s = write_file_atomically_at(fd.get(), dir, record, make_record(command), 0600); !s) {
    return s.error();
  }
  return DirectoryLock(std::move(fd), dir / record, std::move(stale));
}

DirectoryLock::~DirectoryLock() {
  if (!dir_.valid()) return;
  // An empty record means "released cleanly"; a record left behind means the
  // holder died. A record that cannot be emptied merely makes the next run
  // report us as a stale holder.
  (void)write_file_atomically_at(dir_.get(), record_.parent_path(), record_.filename().string(),
                                 "", 0600);
}

}  // namespace zktool
