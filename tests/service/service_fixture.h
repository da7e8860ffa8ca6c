// Shared by the service tests: a real systemd user manager per test, units
// written into it, and a ServiceManager connected to it.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "service/service_manager.h"
#include "systemd/user_manager.h"

namespace zktool::service {

// Service bodies for the tests. %t is the manager's runtime directory; a
// unit touches a file there once its signal handling is in place, so a test
// never stops it before that.
inline constexpr const char* kSleepUnit = "[Service]\nExecStart=/bin/sleep infinity\n";
// Ignores SIGTERM (inherited through exec), so only SIGKILL stops it.
inline constexpr const char* kStubbornUnit =
    "[Service]\nTimeoutStopSec=2\n"
    "ExecStart=/bin/sh -c \"trap '' TERM; touch %t/stubborn.ready; exec sleep infinity\"\n";

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Writes the unit and reloads the manager.
  void install(const std::string& name, const std::string& text);
  // Another connection straight to the manager's private socket.
  Result<ServiceManager> connect() const;
  // Waits (up to 5 s) for a file under the manager's runtime directory.
  void wait_for_file(const std::string& name) const;

  static Deadline in(std::chrono::milliseconds timeout) { return Deadline::clock::now() + timeout; }

  std::unique_ptr<testsupport::UserManager> systemd_;
  // Connected by SetUp(), through the private socket.
  std::optional<ServiceManager> services_;
};

// Whether a process with this pid exists (zombies included).
bool process_exists(pid_t pid);

}  // namespace zktool::service
