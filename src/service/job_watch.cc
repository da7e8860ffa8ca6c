#include "service/job_watch.h"

#include <cerrno>
#include <chrono>

namespace zktool::service {

namespace {

Error watch_error(std::string message) {
  return make_error(ErrorKind::ServiceControl, std::move(message));
}

// Our own deadline check must fire before sd-bus times the call out, so that
// a late reply reads as "no reply" rather than as a call error.
constexpr uint64_t kReplyTimeoutMarginUsec = 1'000'000;

}  // namespace

Result<std::unique_ptr<JobWatch>> JobWatch::create(Bus& bus, Deadline deadline) {
  // Through a broker, adding the match is itself a blocking AddMatch call,
  // bounded only by the connection's default timeout once connected.
  auto ready = bus.wait_ready(deadline, "AddMatch");
  if (!ready.ok()) return ready.error();
  std::unique_ptr<JobWatch> watch(new JobWatch(bus));
  int r = sd_bus_set_method_call_timeout(bus.get(), usec_until(deadline));
  sd_bus_slot* slot = nullptr;
  if (r >= 0) {
    r = sd_bus_match_signal(bus.get(), &slot, bus.signal_sender(), kManagerPath, kManagerInterface,
                            "JobRemoved", &JobWatch::on_job_removed, watch.get());
  }
  if (r < 0) return watch_error("AddMatch JobRemoved: " + errno_text(r));
  watch->match_.reset(slot);

  auto subscribe = bus.new_manager_call("Subscribe");
  if (!subscribe.ok()) return subscribe.error();
  auto reply = bus.call(deadline, subscribe->get());
  if (!reply.ok()) return reply.error();
  return watch;
}

int JobWatch::on_job_removed(sd_bus_message* message, void* userdata, sd_bus_error*) {
  auto* self = static_cast<JobWatch*>(userdata);
  if (!self->running_) return 0;
  uint32_t id = 0;
  const char* job = nullptr;
  const char* unit = nullptr;
  const char* result = nullptr;
  if (sd_bus_message_read(message, "uoss", &id, &job, &unit, &result) >= 0) {
    self->removed_.emplace(job, result);
  }
  return 0;
}

int JobWatch::on_reply(sd_bus_message* message, void* userdata, sd_bus_error*) {
  auto* self = static_cast<JobWatch*>(userdata);
  self->replied_ = true;
  if (const sd_bus_error* error = sd_bus_message_get_error(message)) {
    self->call_error_ = describe_bus_error(*error, -sd_bus_message_get_errno(message));
    return 0;
  }
  const char* job = nullptr;
  const int r = sd_bus_message_read(message, "o", &job);
  if (r < 0) {
    self->call_error_ = "reply without a job path: " + errno_text(r);
  } else {
    self->job_ = job;
  }
  return 0;
}

Result<JobRun> JobWatch::run(const char* method, std::string_view unit, Deadline deadline) {
  auto call = bus_.new_manager_call(method);
  if (!call.ok()) return call.error();
  const std::string unit_name(unit);
  int r = sd_bus_message_append(call->get(), "ss", unit_name.c_str(), "replace");
  if (r < 0) return watch_error(std::string(method) + ": " + errno_text(r));

  removed_.clear();
  replied_ = false;
  job_.clear();
  call_error_.clear();
  running_ = true;
  struct EndRun {
    bool& running;
    ~EndRun() { running = false; }
  } end_run{running_};

  sd_bus_slot* raw_slot = nullptr;
  r = sd_bus_call_async(bus_.get(), &raw_slot, call->get(), &JobWatch::on_reply, this,
                        usec_until(deadline) + kReplyTimeoutMarginUsec);
  if (r < 0) return watch_error(std::string(method) + ": " + errno_text(r));
  // Dropping the slot on return cancels a reply still to come.
  const SlotPtr reply_slot(raw_slot);

  for (;;) {
    if (!call_error_.empty()) return watch_error(std::string(method) + ": " + call_error_);
    if (replied_) {
      const auto removed = removed_.find(job_);
      if (removed != removed_.end()) return JobRun{JobRun::Outcome::Removed, job_, removed->second};
    }
    r = sd_bus_process(bus_.get(), nullptr);
    if (r < 0) {
      return watch_error("waiting for the " + std::string(method) + " job: " + errno_text(r));
    }
    if (r > 0) continue;
    if (Deadline::clock::now() >= deadline) {
      return JobRun{replied_ ? JobRun::Outcome::Pending : JobRun::Outcome::NoReply, job_, {}};
    }
    r = sd_bus_wait(bus_.get(), usec_until(deadline));
    if (r < 0 && r != -EINTR) {
      return watch_error("waiting for the " + std::string(method) + " job: " + errno_text(r));
    }
  }
}

}  // namespace zktool::service
