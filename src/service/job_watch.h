// Internal to the service library: runs one StartUnit/StopUnit job and waits
// for systemd's JobRemoved signal for it, following systemd's own
// bus-wait-for-jobs: subscribe and match JobRemoved before the call, keep the
// job path from the reply, process messages until that job is removed.
//
// The reply and the signal are handled in whatever order they are processed:
// every JobRemoved seen during a run is buffered by job path, so a job that
// finished before its reply was read is still found, and jobs of other units
// (other clients, other threads) are never mistaken for ours.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"
#include "service/bus.h"

namespace zktool::service {

struct JobRun {
  enum class Outcome {
    Removed,  // systemd removed the job; `result` says how it ended
    Pending,  // the deadline passed with the job still queued or running
    NoReply,  // the deadline passed before systemd answered the call
  };
  Outcome outcome = Outcome::NoReply;
  std::string job;     // the job's object path, once the reply arrived
  std::string result;  // done, canceled, timeout, failed, dependency, skipped
};

class JobWatch {
 public:
  // Adds the JobRemoved match and calls Subscribe. `bus` must outlive the watch.
  static Result<std::unique_ptr<JobWatch>> create(Bus& bus, Deadline deadline);
  JobWatch(const JobWatch&) = delete;
  JobWatch& operator=(const JobWatch&) = delete;

  // Calls `method` (StartUnit or StopUnit) with (unit, "replace") and waits.
  // Errors: systemd refused the call, or the connection failed.
  Result<JobRun> run(const char* method, std::string_view unit, Deadline deadline);

 private:
  explicit JobWatch(Bus& bus) : bus_(bus) {}
  static int on_job_removed(sd_bus_message* message, void* userdata, sd_bus_error* error);
  static int on_reply(sd_bus_message* message, void* userdata, sd_bus_error* error);

  Bus& bus_;
  SlotPtr match_;
  // State of the run in progress; signals outside a run are dropped.
  bool running_ = false;
  std::map<std::string, std::string, std::less<>> removed_;  // job path -> result
  bool replied_ = false;
  std::string job_;
  std::string call_error_;
};

}  // namespace zktool::service
