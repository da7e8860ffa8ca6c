// The LevelDB Envs a ReplicaStore opens its database through (internal to the
// library). Each Env must outlive every DB opened through it.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <sys/types.h>

#include <leveldb/env.h>

namespace zktool::replicated_log {

// The default Env, except that when the LOCK cannot be taken it finds out
// which process holds it, so a replica in use by a running Mesos or Aurora
// reads as locked (and by whom), not as an I/O error.
class ReplicaEnv : public leveldb::EnvWrapper {
 public:
  ReplicaEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}

  // The process that held the LOCK when the last LockFile call failed.
  std::optional<pid_t> lock_holder() const;

  leveldb::Status LockFile(const std::string& name, leveldb::FileLock** lock) override;

 private:
  mutable std::mutex mutex_;
  std::optional<pid_t> lock_holder_;
};

// Reads the replica directory but never changes it: every file LevelDB
// creates, rewrites or deletes while recovering and compacting lives in memory
// and is dropped with the Env. An existing LOCK file is still locked (opened,
// not created), so a running replica is detected.
class ReadOnlyReplicaEnv : public ReplicaEnv {
 public:
  ReadOnlyReplicaEnv();
  ~ReadOnlyReplicaEnv() override;

  leveldb::Status NewSequentialFile(const std::string& name,
                                    leveldb::SequentialFile** result) override;
  leveldb::Status NewRandomAccessFile(const std::string& name,
                                      leveldb::RandomAccessFile** result) override;
  leveldb::Status NewWritableFile(const std::string& name,
                                  leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& name,
                                    leveldb::WritableFile** result) override;
  bool FileExists(const std::string& name) override;
  leveldb::Status GetChildren(const std::string& dir, std::vector<std::string>* result) override;
  leveldb::Status RemoveFile(const std::string& name) override;
  leveldb::Status CreateDir(const std::string& dir) override;
  leveldb::Status RemoveDir(const std::string& dir) override;
  leveldb::Status GetFileSize(const std::string& name, uint64_t* size) override;
  leveldb::Status RenameFile(const std::string& from, const std::string& to) override;
  leveldb::Status LockFile(const std::string& name, leveldb::FileLock** lock) override;
  leveldb::Status UnlockFile(leveldb::FileLock* lock) override;
  leveldb::Status NewLogger(const std::string& name, leveldb::Logger** result) override;

 private:
  // Whether `name` still shows on disk (exists there and was not deleted in memory).
  bool on_disk(const std::string& name);

  std::unique_ptr<leveldb::Env> memory_;
  std::mutex overlay_mutex_;
  std::set<std::string> hidden_;  // disk files deleted in memory
  std::set<leveldb::FileLock*> disk_locks_;
};

}  // namespace zktool::replicated_log
