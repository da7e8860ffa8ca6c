// Every way a stop or start can fail, against a real systemd user manager:
// each is ErrorKind::ServiceControl, comes within its deadline (plus the one
// second allowed for describing the unit), and says which unit, which bus and
// what state the unit is in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "service_fixture.h"

namespace zktool::service {
namespace {

using namespace std::chrono_literals;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST_F(ServiceTest, StopDeadlineBeforeSigkillSaysTheJobIsPending) {
  install("stubborn.service", kStubbornUnit);
  auto started = services_->start_unit("stubborn.service", in(10s));
  ASSERT_TRUE(started.ok()) << started.error().message;
  wait_for_file("stubborn.ready");

  const auto begin = Deadline::clock::now();
  auto stopped = services_->stop_unit("stubborn.service", in(300ms));
  const auto took = Deadline::clock::now() - begin;
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().kind, ErrorKind::ServiceControl);
  EXPECT_THAT(stopped.error().message,
              AllOf(HasSubstr("stop stubborn.service on systemd socket unix:path="),
                    HasSubstr("is still pending"), HasSubstr("deactivating (stop-sigterm)"),
                    HasSubstr("MainPID " + std::to_string(started->main_pid))));
  EXPECT_LT(took, 1500ms);

  // The job was left queued, not cancelled: asking again joins it.
  auto later = services_->stop_unit("stubborn.service", in(10s));
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_TRUE(later->stopped());
}

TEST_F(ServiceTest, StartDeadlineSaysTheJobIsPending) {
  install("slow-start.service",
          "[Service]\nExecStartPre=/bin/sleep 5\nExecStart=/bin/sleep infinity\n");
  auto started = services_->start_unit("slow-start.service", in(300ms));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().kind, ErrorKind::ServiceControl);
  EXPECT_THAT(started.error().message,
              AllOf(HasSubstr("start slow-start.service"), HasSubstr("is still pending"),
                    HasSubstr("activating (start-pre)")));
}

TEST_F(ServiceTest, OneshotThatFailsIsAStartError) {
  install("broken.service", "[Service]\nType=oneshot\nExecStart=/bin/false\n");
  auto started = services_->start_unit("broken.service", in(10s));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().kind, ErrorKind::ServiceControl);
  EXPECT_THAT(started.error().message,
              AllOf(HasSubstr("start broken.service on systemd socket"),
                    HasSubstr("job ended 'failed'"), HasSubstr("failed (failed)"),
                    HasSubstr("Result=exit-code"), HasSubstr("ExecMainStatus=1")));
}

TEST_F(ServiceTest, ServiceWhosePreparationFailsIsAStartError) {
  install("unprepared.service",
          "[Service]\nExecStartPre=/bin/sh -c 'exit 7'\nExecStart=/bin/sleep infinity\n");
  auto started = services_->start_unit("unprepared.service", in(10s));
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.error().message,
              AllOf(HasSubstr("start unprepared.service"), HasSubstr("job ended 'failed'"),
                    HasSubstr("Result=exit-code")));
  auto state = services_->unit_state("unprepared.service", in(5s));
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->active_state, "failed");
  EXPECT_EQ(state->main_pid, 0u);
}

TEST_F(ServiceTest, UnknownUnitIsAnError) {
  auto state = services_->unit_state("no-such.service", in(5s));
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().kind, ErrorKind::ServiceControl);
  EXPECT_THAT(state.error().message, AllOf(HasSubstr("no-such.service"), HasSubstr("not-found")));

  for (const auto& result : {services_->start_unit("no-such.service", in(5s)),
                             services_->stop_unit("no-such.service", in(5s))}) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind, ErrorKind::ServiceControl);
    EXPECT_THAT(result.error().message, AllOf(HasSubstr("no-such.service on systemd socket"),
                                              HasSubstr("org.freedesktop.systemd1.NoSuchUnit")));
  }
}

TEST_F(ServiceTest, AddressWithNothingListeningFailsAtOnce) {
  const std::string address =
      "unix:path=" + (systemd_->runtime_dir() / "nothing-listens-here").string();
  for (const auto& target : {BusTarget::direct(address), BusTarget::broker(address)}) {
    const auto begin = Deadline::clock::now();
    auto services = ServiceManager::connect(target);
    EXPECT_LT(Deadline::clock::now() - begin, 1s);
    ASSERT_FALSE(services.ok());
    EXPECT_EQ(services.error().kind, ErrorKind::ServiceControl);
    EXPECT_THAT(services.error().message, AllOf(HasSubstr("cannot connect to"), HasSubstr(address),
                                                HasSubstr("No such file or directory")));
  }
}

TEST_F(ServiceTest, PeerThatNeverAnswersFailsAtTheDeadline) {
  // A socket that accepts connections (the kernel queues them) but never
  // speaks: sd-bus connects, then waits for the authentication reply.
  const auto path = systemd_->runtime_dir() / "silent";
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 8), 0);

  auto services = ServiceManager::connect(BusTarget::direct("unix:path=" + path.string()));
  ASSERT_TRUE(services.ok()) << services.error().message;
  const auto begin = Deadline::clock::now();
  auto stopped = services->stop_unit("zookeeper.service", in(300ms));
  const auto took = Deadline::clock::now() - begin;
  ::close(listener);

  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().kind, ErrorKind::ServiceControl);
  EXPECT_THAT(
      stopped.error().message,
      AllOf(HasSubstr("stop zookeeper.service on systemd socket unix:path=" + path.string()),
            HasSubstr("timed out connecting")));
  EXPECT_LT(took, 2500ms);
}

}  // namespace
}  // namespace zktool::service
