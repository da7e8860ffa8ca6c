#include "replicated_log/replica_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <leveldb/helpers/memenv.h>

namespace zktool::replicated_log {

namespace {

leveldb::Status read_only_refusal(const std::string& name) {
  return leveldb::Status::IOError(name, "not changed: the replica is open read-only");
}

// LevelDB locks with fcntl(F_SETLK); F_GETLK names the process holding such a
// lock (never this process: its own locks do not conflict).
std::optional<pid_t> fcntl_lock_holder(const std::string& name) {
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock probe = {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  std::optional<pid_t> holder;
  if (::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) holder = probe.l_pid;
  ::close(fd);
  return holder;
}

}  // namespace

std::optional<pid_t> ReplicaEnv::lock_holder() const {
  std::lock_guard guard(mutex_);
  return lock_holder_;
}

leveldb::Status ReplicaEnv::LockFile(const std::string& name, leveldb::FileLock** lock) {
  leveldb::Status status = target()->LockFile(name, lock);
  std::optional<pid_t> holder = status.ok() ? std::nullopt : fcntl_lock_holder(name);
  std::lock_guard guard(mutex_);
  lock_holder_ = holder;
  return status;
}

ReadOnlyReplicaEnv::ReadOnlyReplicaEnv() : memory_(leveldb::NewMemEnv(leveldb::Env::Default())) {}

ReadOnlyReplicaEnv::~ReadOnlyReplicaEnv() = default;

bool ReadOnlyReplicaEnv::on_disk(const std::string& name) {
  {
    std::lock_guard guard(overlay_mutex_);
    if (hidden_.contains(name)) return false;
  }
  return target()->FileExists(name);
}

leveldb::Status ReadOnlyReplicaEnv::NewSequentialFile(const std::string& name,
                                                      leveldb::SequentialFile** result) {
  if (memory_->FileExists(name)) return memory_->NewSequentialFile(name, result);
  if (!on_disk(name)) return leveldb::Status::NotFound(name, "deleted in memory");
  return target()->NewSequentialFile(name, result);
}

leveldb::Status ReadOnlyReplicaEnv::NewRandomAccessFile(const std::string& name,
                                                        leveldb::RandomAccessFile** result) {
  if (memory_->FileExists(name)) return memory_->NewRandomAccessFile(name, result);
  if (!on_disk(name)) return leveldb::Status::NotFound(name, "deleted in memory");
  return target()->NewRandomAccessFile(name, result);
}

leveldb::Status ReadOnlyReplicaEnv::NewWritableFile(const std::string& name,
                                                    leveldb::WritableFile** result) {
  {
    std::lock_guard guard(overlay_mutex_);
    hidden_.insert(name);  // the disk copy, if any, is replaced by the one in memory
  }
  return memory_->NewWritableFile(name, result);
}

leveldb::Status ReadOnlyReplicaEnv::NewAppendableFile(const std::string& name,
                                                      leveldb::WritableFile** result) {
  // LevelDB appends only when Options::reuse_logs is set, which the store never sets.
  *result = nullptr;
  return read_only_refusal(name);
}

bool ReadOnlyReplicaEnv::FileExists(const std::string& name) {
  return memory_->FileExists(name) || on_disk(name);
}

leveldb::Status ReadOnlyReplicaEnv::GetChildren(const std::string& dir,
                                                std::vector<std::string>* result) {
  leveldb::Status status = target()->GetChildren(dir, result);
  if (!status.ok()) return status;
  std::vector<std::string> in_memory;
  status = memory_->GetChildren(dir, &in_memory);
  if (!status.ok()) return status;
  {
    std::lock_guard guard(overlay_mutex_);
    std::erase_if(*result, [&](const std::string& child) {
      return hidden_.contains(dir + "/" + child);
    });
  }
  for (std::string& child : in_memory) {
    if (std::find(result->begin(), result->end(), child) == result->end()) {
      result->push_back(std::move(child));
    }
  }
  return leveldb::Status::OK();
}

leveldb::Status ReadOnlyReplicaEnv::RemoveFile(const std::string& name) {
  if (memory_->FileExists(name)) return memory_->RemoveFile(name);
  if (!on_disk(name)) return leveldb::Status::NotFound(name, "no such file");
  std::lock_guard guard(overlay_mutex_);
  hidden_.insert(name);
  return leveldb::Status::OK();
}

leveldb::Status ReadOnlyReplicaEnv::CreateDir(const std::string& dir) {
  // LevelDB creates the database directory "in case it does not exist"; a
  // read-only open only accepts one that does.
  if (target()->FileExists(dir)) return leveldb::Status::OK();
  return read_only_refusal(dir);
}

leveldb::Status ReadOnlyReplicaEnv::RemoveDir(const std::string& dir) {
  return read_only_refusal(dir);
}

leveldb::Status ReadOnlyReplicaEnv::GetFileSize(const std::string& name, uint64_t* size) {
  if (memory_->FileExists(name)) return memory_->GetFileSize(name, size);
  if (!on_disk(name)) return leveldb::Status::NotFound(name, "deleted in memory");
  return target()->GetFileSize(name, size);
}

leveldb::Status ReadOnlyReplicaEnv::RenameFile(const std::string& from, const std::string& to) {
  // LevelDB renames the temporary CURRENT it just wrote, and moves the old
  // info log aside, ignoring a failure (its new info log goes nowhere).
  if (!memory_->FileExists(from)) return read_only_refusal(from);
  {
    std::lock_guard guard(overlay_mutex_);
    hidden_.insert(to);
  }
  return memory_->RenameFile(from, to);
}

leveldb::Status ReadOnlyReplicaEnv::LockFile(const std::string& name, leveldb::FileLock** lock) {
  // Locking a missing LOCK would create it; nothing can hold a lock on a file
  // that does not exist, so an in-memory lock is as good.
  if (!on_disk(name)) return memory_->LockFile(name, lock);
  leveldb::Status status = ReplicaEnv::LockFile(name, lock);
  if (status.ok()) {
    std::lock_guard guard(overlay_mutex_);
    disk_locks_.insert(*lock);
  }
  return status;
}

leveldb::Status ReadOnlyReplicaEnv::UnlockFile(leveldb::FileLock* lock) {
  {
    std::lock_guard guard(overlay_mutex_);
    if (disk_locks_.erase(lock) == 1) return target()->UnlockFile(lock);
  }
  return memory_->UnlockFile(lock);
}

leveldb::Status ReadOnlyReplicaEnv::NewLogger(const std::string& name, leveldb::Logger** result) {
  return memory_->NewLogger(name, result);
}

}  // namespace zktool::replicated_log
