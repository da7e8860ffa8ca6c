// One zk-tool run at a time per ZooKeeper data directory (DESIGN.md rule 7),
// or per any other path whose lock file must live outside it (a replicated
// log replica, which restore moves aside and replaces).
//
// The lock is flock(2) on `<dataDir>/.zk-tool.lock`: the kernel drops it when
// the holder exits, however it exits, so a lock can never outlive its process.
// The file also records who holds it (pid, host, command, start time) so that
// a refused run can say who is in the way, and a run that finds a record
// whose process is gone can say the previous run was killed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace zktool {

class DirectoryLock {
 public:
  // Takes the lock for `command` (e.g. "restore"). ErrorKind::Locked, naming
  // the holder, when another run holds it; never waits.
  static Result<DirectoryLock> acquire(const std::filesystem::path& data_dir,
                                       const std::string& command);
  // The same with the lock in `lock_file` (created if missing; its directory
  // must exist), guarding `guarded`, which the refusal names.
  static Result<DirectoryLock> acquire_file(const std::filesystem::path& lock_file,
                                            const std::filesystem::path& guarded,
                                            const std::string& command);

  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  ~DirectoryLock();

  // "pid=123 host=... command=restore started=..." of a run that took this
  // lock before us and ended without releasing it (it was killed), if any.
  const std::optional<std::string>& stale_holder() const { return stale_holder_; }
  // Adds a warning about the stale holder, if there was one, to `warnings`.
  void report_stale_holder(std::vector<std::string>& warnings) const {
    if (stale_holder_) {
      warnings.push_back("a previous run ended without releasing the lock: " + *stale_holder_);
    }
  }

 private:
  DirectoryLock(int fd, std::filesystem::path path, std::optional<std::string> stale)
      : fd_(fd), path_(std::move(path)), stale_holder_(std::move(stale)) {}
  int fd_ = -1;
  std::filesystem::path path_;
  std::optional<std::string> stale_holder_;
};

}  // namespace zktool
