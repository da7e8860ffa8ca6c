// Pipelined writes on one ZooKeeper session for bulk data sets: up to
// `window` requests are outstanding at once, and ZooKeeper applies them in
// the order they were issued (so a parent may be created just before its
// children). The client must outlive the writer.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"
#include "support/zk_client.h"

namespace zktool::testsupport {

class AsyncWriter {
 public:
  explicit AsyncWriter(ZkClient& client, size_t window = 1000);
  AsyncWriter(const AsyncWriter&) = delete;
  AsyncWriter& operator=(const AsyncWriter&) = delete;
  ~AsyncWriter();  // waits for what is still outstanding

  // Queue a create (the plain create request, open ACL) or a setData; they
  // block only while the window is full. After a failure they return it
  // without sending anything more.
  Status create(const std::string& path, std::optional<std::string_view> data,
                CreateMode mode = CreateMode::kPersistent);
  Status set(const std::string& path, std::optional<std::string_view> data);

  // Waits for every outstanding request; the first failure, if any.
  Status finish();

 private:
  struct Request;
  static void on_done(int rc, Request* request);
  Status reserve_slot();
  Status issued(int rc, Request* request);

  ZkClient& client_;
  size_t window_;
  std::mutex mutex_;
  std::condition_variable slot_freed_;
  size_t outstanding_ = 0;
  std::optional<Error> error_;
};

}  // namespace zktool::testsupport
