#include "support/async_writer.h"

#include <algorithm>

namespace zktool::testsupport {

struct AsyncWriter::Request {
  AsyncWriter* writer;
  const char* op;
  std::string path;
};

AsyncWriter::AsyncWriter(ZkClient& client, size_t window)
    : client_(client), window_(std::max<size_t>(window, 1)) {}

AsyncWriter::~AsyncWriter() { (void)finish(); }

void AsyncWriter::on_done(int rc, Request* request) {
  AsyncWriter& w = *request->writer;
  {
    std::lock_guard lock(w.mutex_);
    if (rc != ZOK && !w.error_) w.error_ = zk_error(request->op, request->path, rc);
    --w.outstanding_;
    w.slot_freed_.notify_all();
  }
  delete request;
}

Status AsyncWriter::reserve_slot() {
  std::unique_lock lock(mutex_);
  slot_freed_.wait(lock, [&] { return outstanding_ < window_ || error_; });
  if (error_) return *error_;
  ++outstanding_;
  return Ok{};
}

// A request the C client refused outright never completes: complete it here.
Status AsyncWriter::issued(int rc, Request* request) {
  if (rc == ZOK) return Ok{};
  on_done(rc, request);
  std::lock_guard lock(mutex_);
  return *error_;
}

Status AsyncWriter::create(const std::string& path, std::optional<std::string_view> data,
                           CreateMode mode) {
  if (auto st = reserve_slot(); !st) return st;
  auto* request = new Request{this, "create", path};
  int rc = zoo_acreate(
      client_.handle(), path.c_str(), data ? data->data() : nullptr,
      data ? static_cast<int>(data->size()) : -1, &ZOO_OPEN_ACL_UNSAFE, zoo_create_flags(mode),
      [](int result, const char*, const void* ctx) {
        on_done(result, static_cast<Request*>(const_cast<void*>(ctx)));
      },
      request);
  return issued(rc, request);
}

Status AsyncWriter::set(const std::string& path, std::optional<std::string_view> data) {
  if (auto st = reserve_slot(); !st) return st;
  auto* request = new Request{this, "set", path};
  int rc = zoo_aset(
      client_.handle(), path.c_str(), data ? data->data() : nullptr,
      data ? static_cast<int>(data->size()) : -1, -1,
      [](int result, const Stat*, const void* ctx) {
        on_done(result, static_cast<Request*>(const_cast<void*>(ctx)));
      },
      request);
  return issued(rc, request);
}

Status AsyncWriter::finish() {
  std::unique_lock lock(mutex_);
  slot_freed_.wait(lock, [&] { return outstanding_ == 0; });
  if (error_) return *error_;
  return Ok{};
}

}  // namespace zktool::testsupport
