// One zk-tool run at a time per ZooKeeper data directory (README safety rule 7),
// or per replicated log replica (locked through its parent directory, since
// restore moves the replica itself aside and replaces it).
//
// The lock is flock(2) on the directory itself: the kernel drops it when the
// holder exits, however it exits, so a lock can never outlive its process;
// and a directory cannot be swapped by its owner the way a file inside it
// can, so whoever owns ZooKeeper's data directory cannot hand two runs two
// different locks. Beside it a record (`<dataDir>/.zk-tool.lock`) says who
// holds it (pid, host, command, start time), so that a refused run can say
// who is in the way and a run that finds a record whose process is gone can
// say the previous run was killed. The record is rewritten atomically
// (write_file_atomically_at), never opened for writing in place.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace zktool {

class DirectoryLock {
 public:
  // Takes the lock for `command` (e.g. "restore"). ErrorKind::Locked, naming
  // the holder, when another run holds it; never waits.
  static Result<DirectoryLock> acquire(const std::filesystem::path& data_dir,
                                       const std::string& command);
  // The same with the lock on `dir` and its record in `record` there,
  // guarding `guarded`, which the refusal names.
  static Result<DirectoryLock> acquire_in(const std::filesystem::path& dir,
                                          const std::string& record,
                                          const std::filesystem::path& guarded,
                                          const std::string& command);

  DirectoryLock(DirectoryLock&& other) noexcept = default;
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
  DirectoryLock(UniqueFd dir, std::filesystem::path record, std::optional<std::string> stale)
      : dir_(std::move(dir)), record_(std::move(record)), stale_holder_(std::move(stale)) {}
  UniqueFd dir_;  // holds the flock
  std::filesystem::path record_;
  std::optional<std::string> stale_holder_;
};

}  // namespace zktool
