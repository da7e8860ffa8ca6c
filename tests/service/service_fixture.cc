#include "service_fixture.h"

#include <signal.h>

#include <cerrno>
#include <iostream>
#include <thread>

namespace zktool::service {

void ServiceTest::SetUp() {
  auto systemd = testsupport::UserManager::start();
  ASSERT_TRUE(systemd.ok()) << systemd.error().message;
  systemd_ = std::move(systemd).value();
  auto services = connect();
  ASSERT_TRUE(services.ok()) << services.error().message;
  services_.emplace(std::move(services).value());
}

void ServiceTest::TearDown() {
  services_.reset();
  if (HasFailure() && systemd_) std::cerr << "systemd's log:\n" << systemd_->log() << "\n";
  systemd_.reset();
}

void ServiceTest::install(const std::string& name, const std::string& text) {
  auto written = systemd_->write_unit(name, text);
  ASSERT_TRUE(written.ok()) << written.error().message;
  auto reloaded = systemd_->reload();
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
}

Result<ServiceManager> ServiceTest::connect() const {
  return ServiceManager::connect(BusTarget::direct(systemd_->private_address()));
}

void ServiceTest::wait_for_file(const std::string& name) const {
  const auto path = systemd_->runtime_dir() / name;
  const auto give_up = Deadline::clock::now() + std::chrono::seconds(5);
  while (!std::filesystem::exists(path)) {
    ASSERT_LT(Deadline::clock::now(), give_up) << path << " never appeared";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

}  // namespace zktool::service
