// Stopping and starting real units of a real systemd user manager, over
// systemd's private socket and over the user bus (dbus-daemon).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <thread>

#include "service_fixture.h"

namespace zktool::service {
namespace {

using namespace std::chrono_literals;

TEST_F(ServiceTest, StartsAndStopsASimpleService) {
  install("sleep.service", kSleepUnit);

  auto started = services_->start_unit("sleep.service", in(10s));
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->active_state, "active");
  EXPECT_EQ(started->sub_state, "running");
  EXPECT_EQ(started->service_type, "simple");
  ASSERT_NE(started->main_pid, 0u);
  const auto pid = static_cast<pid_t>(started->main_pid);
  EXPECT_TRUE(process_exists(pid));

  auto stopped = services_->stop_unit("sleep.service", in(10s));
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_EQ(stopped->active_state, "inactive");
  EXPECT_EQ(stopped->sub_state, "dead");
  EXPECT_EQ(stopped->main_pid, 0u);
  EXPECT_TRUE(stopped->stopped());
  EXPECT_FALSE(process_exists(pid)) << "sleep " << pid << " survived the stop";

  auto state = services_->unit_state("sleep.service", in(5s));
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->load_state, "loaded");
  EXPECT_EQ(state->active_state, "inactive");
}

TEST_F(ServiceTest, StartingARunningUnitAndStoppingAStoppedOneSucceed) {
  install("sleep.service", kSleepUnit);

  auto first = services_->start_unit("sleep.service", in(10s));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto again = services_->start_unit("sleep.service", in(10s));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->main_pid, first->main_pid) << "a second start must not restart the service";

  ASSERT_TRUE(services_->stop_unit("sleep.service", in(10s)).ok());
  auto stopped_again = services_->stop_unit("sleep.service", in(10s));
  ASSERT_TRUE(stopped_again.ok()) << stopped_again.error().message;
  EXPECT_TRUE(stopped_again->stopped());
}

TEST_F(ServiceTest, StopOfAServiceIgnoringSigtermEndsWithSigkill) {
  install("stubborn.service", kStubbornUnit);
  auto started = services_->start_unit("stubborn.service", in(10s));
  ASSERT_TRUE(started.ok()) << started.error().message;
  wait_for_file("stubborn.ready");
  const auto pid = static_cast<pid_t>(started->main_pid);

  const auto begin = Deadline::clock::now();
  auto stopped = services_->stop_unit("stubborn.service", in(10s));
  const auto took = Deadline::clock::now() - begin;
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_GE(took, 1900ms) << "systemd waits TimeoutStopSec=2 before SIGKILL";
  EXPECT_TRUE(stopped->stopped());
  EXPECT_EQ(stopped->main_pid, 0u);
  EXPECT_EQ(stopped->result, "timeout") << stopped->describe();
  EXPECT_FALSE(process_exists(pid));
}

// A stop job is "done" even when the unit ends "failed": what counts is that
// nothing runs any more.
TEST_F(ServiceTest, StopThatLeavesTheUnitFailedStillCountsAsStopped) {
  // Short sleeps in a loop, not one long one: SIGTERM reaches every process
  // of the unit, and a child caught between fork and exec would swallow it
  // (the shell's trap is still installed there) and then sleep on.
  install("exits-3.service",
          "[Service]\n"
          "ExecStart=/bin/sh -c \"trap 'exit 3' TERM; touch %t/exits-3.ready; "
          "while :; do sleep 0.1; done\"\n");
  ASSERT_TRUE(services_->start_unit("exits-3.service", in(10s)).ok());
  wait_for_file("exits-3.ready");

  auto stopped = services_->stop_unit("exits-3.service", in(10s));
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_EQ(stopped->active_state, "failed");
  EXPECT_EQ(stopped->main_pid, 0u);
  EXPECT_EQ(stopped->result, "exit-code");
  EXPECT_EQ(stopped->exec_main_status, 3);
}

TEST_F(ServiceTest, JobsOfOtherUnitsDoNotEndTheWait) {
  // slow.service's start job outlives the jobs of the others, whose
  // JobRemoved signals reach every subscribed connection first.
  install("slow.service", "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sleep 1\n");
  install("quick.service", kSleepUnit);
  install("broken.service", "[Service]\nType=oneshot\nExecStart=/bin/false\n");

  Result<UnitState> slow = make_error(ErrorKind::Internal, "not run");
  std::thread slow_starter([&] { slow = services_->start_unit("slow.service", in(10s)); });
  Result<UnitState> broken = make_error(ErrorKind::Internal, "not run");
  std::thread broken_starter([&] {
    auto own = connect();
    broken = own.ok() ? own->start_unit("broken.service", in(10s)) : own.error();
  });
  auto other = connect();
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto quick = other->start_unit("quick.service", in(10s));
  broken_starter.join();
  slow_starter.join();

  ASSERT_TRUE(quick.ok()) << quick.error().message;
  EXPECT_FALSE(broken.ok());
  ASSERT_TRUE(slow.ok()) << slow.error().message;
  EXPECT_EQ(slow->active_state, "active");
  EXPECT_EQ(slow->sub_state, "exited");
  EXPECT_EQ(slow->result, "success");
}

TEST_F(ServiceTest, WorksThroughTheUserBusDaemon) {
  install("sleep.service", kSleepUnit);
  auto services = ServiceManager::connect(BusTarget::broker(systemd_->bus_address()));
  ASSERT_TRUE(services.ok()) << services.error().message;

  auto started = services->start_unit("sleep.service", in(10s));
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_NE(started->main_pid, 0u);
  auto stopped = services->stop_unit("sleep.service", in(10s));
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_TRUE(stopped->stopped());
}

TEST_F(ServiceTest, UserTargetFindsTheBusThroughXdgRuntimeDir) {
  install("sleep.service", kSleepUnit);
  ASSERT_EQ(::unsetenv("DBUS_SESSION_BUS_ADDRESS"), 0);
  ASSERT_EQ(::setenv("XDG_RUNTIME_DIR", systemd_->runtime_dir().c_str(), 1), 0);
  auto services = ServiceManager::connect(BusTarget::user());
  ASSERT_TRUE(services.ok()) << services.error().message;
  EXPECT_EQ(services->bus_description(), "user bus");

  auto started = services->start_unit("sleep.service", in(10s));
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->active_state, "active");
}

}  // namespace
}  // namespace zktool::service
