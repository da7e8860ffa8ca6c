#include "systemd/user_manager.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "systemd/console_capture.h"
#include "systemd/manager_cgroups.h"

namespace zktool::testsupport {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kSystemd = "/lib/systemd/systemd";
constexpr auto kStartupTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(10);
constexpr auto kCallTimeout = std::chrono::seconds(10);
constexpr size_t kLogTail = 4000;
// The log and every unit's output go to /dev/console: the captured terminal.
constexpr const char* kManagerConfig =
    "[Manager]\n"
    "LogTarget=console\n"
    "LogColor=no\n"
    "LogTime=yes\n"
    "DefaultStandardOutput=tty\n"
    "DefaultStandardError=tty\n";

Error fixture_error(std::string message) {
  return make_error(ErrorKind::ServiceControl, "user manager: " + std::move(message));
}

// Everything the child needs, prepared before fork(): between fork() and
// execve() the child makes system calls only.
struct ChildPlan {
  pid_t parent = 0;
  std::string stderr_path;
  std::string console;                    // a terminal to bind over /dev/console
  std::vector<std::string> cgroup_procs;  // the manager's own cgroups, to join
  bool hide_v1_controllers = false;
  bool unified = false;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

[[noreturn]] void child_fail(const char* step) {
  const int err = errno;
  char digits[12];
  size_t n = 0;
  for (int value = err; n == 0 || value > 0; value /= 10) {
    digits[n++] = static_cast<char>('0' + value % 10);
  }
  (void)!::write(STDERR_FILENO, "user manager child: ", 20);
  (void)!::write(STDERR_FILENO, step, std::strlen(step));
  (void)!::write(STDERR_FILENO, " failed, errno ", 15);
  while (n > 0) (void)!::write(STDERR_FILENO, &digits[--n], 1);
  (void)!::write(STDERR_FILENO, "\n", 1);
  _exit(127);
}

void mount_or_fail(const char* source, const char* target, const char* type, unsigned long flags,
                   const char* options) {
  if (::mkdir(target, 0755) != 0 && errno != EEXIST) child_fail(target);
  if (::mount(source, target, type, flags, options) != 0) child_fail(target);
}

[[noreturn]] void run_child(const ChildPlan& plan) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != plan.parent) _exit(1);
  const int log = ::open(plan.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log < 0 || null < 0 || ::dup2(null, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0) {
    _exit(126);
  }
  for (const auto& procs : plan.cgroup_procs) {
    const int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) child_fail(procs.c_str());
    ::close(fd);
  }
  if (::unshare(CLONE_NEWNS) != 0) child_fail("unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    child_fail("making mounts private");
  }
  if (::mount(plan.console.c_str(), "/dev/console", nullptr, MS_BIND, nullptr) != 0) {
    child_fail("binding the capturing terminal over /dev/console");
  }
  constexpr unsigned long kCgroupFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (plan.hide_v1_controllers) {
    mount_or_fail("tmpfs", "/sys/fs/cgroup", "tmpfs", kCgroupFlags, "mode=755");
    mount_or_fail("cgroup", "/sys/fs/cgroup/systemd", "cgroup", kCgroupFlags, "none,name=systemd");
    if (plan.unified) {
      mount_or_fail("cgroup2", "/sys/fs/cgroup/unified", "cgroup2", kCgroupFlags, nullptr);
    }
  }
  mount_or_fail("tmpfs", "/run/systemd", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755");
  if (::mkdir("/run/systemd/system", 0755) != 0) child_fail("/run/systemd/system");
  ::execve(kSystemd, plan.argv.data(), plan.envp.data());
  child_fail(kSystemd);
}

struct BusClose {
  void operator()(sd_bus* bus) const { sd_bus_close_unref(bus); }
};
using BusPtr = std::unique_ptr<sd_bus, BusClose>;

std::string bus_failure(const sd_bus_error& error, int r) {
  if (sd_bus_error_is_set(&error)) return std::string(error.name) + ": " + error.message;
  return std::strerror(-r);
}

// A direct connection to the manager's private socket.
Result<BusPtr> connect_private(const std::string& address, std::chrono::microseconds timeout) {
  sd_bus* raw = nullptr;
  int r = sd_bus_new(&raw);
  BusPtr bus(raw);
  if (r >= 0) r = sd_bus_set_address(bus.get(), address.c_str());
  if (r >= 0) r = sd_bus_set_method_call_timeout(bus.get(), static_cast<uint64_t>(timeout.count()));
  if (r >= 0) r = sd_bus_start(bus.get());
  if (r < 0) return fixture_error("cannot connect to " + address + ": " + std::strerror(-r));
  return bus;
}

Result<std::string> system_state(const std::string& address) {
  auto bus = connect_private(address, std::chrono::seconds(1));
  if (!bus.ok()) return bus.error();
  sd_bus_error error{};  // SD_BUS_ERROR_NULL, which is a C compound literal
  char* state = nullptr;
  const int r = sd_bus_get_property_string(
      bus->get(), "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
      "org.freedesktop.systemd1.Manager", "SystemState", &error, &state);
  if (r < 0) {
    auto failure = fixture_error("SystemState: " + bus_failure(error, r));
    sd_bus_error_free(&error);
    return failure;
  }
  std::string value(state);
  std::free(state);
  return value;
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "stopped";
}

}  // namespace

// Under /tmp whatever TMPDIR says: systemd's sockets are in there.
UserManager::UserManager()
    : root_("zktool-systemd-", "/tmp"),
      runtime_dir_(root_.path() / "runtime"),
      stderr_path_(root_.path() / "stderr.log"),
      console_path_(root_.path() / "console.log") {}

Result<std::unique_ptr<UserManager>> UserManager::start() {
  if (::geteuid() != 0) return fixture_error("needs root (mounts, cgroups)");
  std::unique_ptr<UserManager> manager;
  try {
    manager.reset(new UserManager());
  } catch (const std::runtime_error& e) {
    return fixture_error(std::string("cannot create a directory under /tmp: ") + e.what());
  }
  auto launched = manager->launch();
  if (!launched.ok()) return launched.error();
  auto running = manager->wait_until_running();
  if (!running.ok()) return running.error();
  return manager;
}

Status UserManager::launch() {
  std::error_code ec;
  for (const char* dir : {"config/systemd/user", "home", "data", "state", "cache"}) {
    fs::create_directories(root_.path() / dir, ec);
    if (ec) {
      return fixture_error("cannot create " + (root_.path() / dir).string() + ": " + ec.message());
    }
  }
  // In user.conf rather than on the command line: a reload re-reads the
  // file and resets what the command line had set.
  std::ofstream config(root_.path() / "config" / "systemd" / "user.conf");
  config << kManagerConfig;
  config.close();
  if (!config) return fixture_error("cannot write user.conf under " + root_.path().string());
  auto console = ConsoleCapture::open(console_path_);
  if (!console.ok()) return fixture_error(console.error().message);
  console_ = std::move(console).value();
  // systemd wants its runtime directory private to its user.
  if (::mkdir(runtime_dir_.c_str(), 0700) != 0) {
    return fixture_error("cannot create " + runtime_dir_.string() + ": " + std::strerror(errno));
  }

  static std::atomic<int> counter{0};
  auto cgroups = make_manager_cgroups("zktool-user-manager-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(counter++));
  if (!cgroups.ok()) return fixture_error(cgroups.error().message);
  cgroups_ = cgroups->dirs;

  ChildPlan plan;
  plan.parent = ::getpid();
  plan.stderr_path = stderr_path_.string();
  plan.console = console_->terminal();
  for (const auto& dir : cgroups_) plan.cgroup_procs.push_back((dir / "cgroup.procs").string());
  plan.hide_v1_controllers = cgroups->hide_v1_controllers;
  plan.unified = cgroups->unified;
  std::vector<std::string> args = {kSystemd, "--user"};
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LANG=C.UTF-8",
      "HOME=" + (root_.path() / "home").string(),
      "XDG_RUNTIME_DIR=" + runtime_dir_.string(),
      "XDG_CONFIG_HOME=" + (root_.path() / "config").string(),
      "XDG_DATA_HOME=" + (root_.path() / "data").string(),
      "XDG_STATE_HOME=" + (root_.path() / "state").string(),
      "XDG_CACHE_HOME=" + (root_.path() / "cache").string(),
  };
  for (auto& arg : args) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  for (auto& var : env) plan.envp.push_back(var.data());
  plan.envp.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) return fixture_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) run_child(plan);
  pid_ = pid;
  return {};
}

Status UserManager::wait_until_running() {
  const auto give_up = Clock::now() + kStartupTimeout;
  std::string last = "no private socket yet";
  while (Clock::now() < give_up) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;  // reaped: the destructor must not wait for it
      return fixture_error("systemd " + describe_wait_status(status) +
                           " before it was running; its log: " + log());
    }
    if (fs::exists(runtime_dir_ / "systemd" / "private")) {
      auto state = system_state(private_address());
      if (state.ok() && (*state == "running" || *state == "degraded")) return {};
      last = state.ok() ? "SystemState " + *state : state.error().message;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fixture_error("not running after " + std::to_string(kStartupTimeout.count()) + " s (" +
                       last + "); its log: " + log());
}

UserManager::~UserManager() {
  stop_manager();
  remove_cgroups();
  console_.reset();
}

void UserManager::stop_manager() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto give_up = Clock::now() + kStopTimeout;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > give_up) {
      std::fprintf(stderr, "user manager %d ignored SIGTERM for %lld s; killing it\n", pid_,
                   static_cast<long long>(kStopTimeout.count()));
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

void UserManager::remove_cgroups() {
  const std::string problems = kill_and_remove(cgroups_);
  if (!problems.empty()) std::fprintf(stderr, "user manager cleanup: %s\n", problems.c_str());
  cgroups_.clear();
}

std::string UserManager::private_address() const {
  return "unix:path=" + (runtime_dir_ / "systemd" / "private").string();
}

std::string UserManager::bus_address() const {
  return "unix:path=" + (runtime_dir_ / "bus").string();
}

fs::path UserManager::unit_dir() const { return root_.path() / "config" / "systemd" / "user"; }

Status UserManager::write_unit(const std::string& name, const std::string& text) const {
  const fs::path path = unit_dir() / name;
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return fixture_error("cannot write " + path.string());
  return {};
}

Status UserManager::reload() const {
  auto bus = connect_private(private_address(), kCallTimeout);
  if (!bus.ok()) return bus.error();
  sd_bus_error error{};  // SD_BUS_ERROR_NULL, which is a C compound literal
  const int r =
      sd_bus_call_method(bus->get(), "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                         "org.freedesktop.systemd1.Manager", "Reload", &error, nullptr, "");
  if (r < 0) {
    auto failure = fixture_error("Reload: " + bus_failure(error, r));
    sd_bus_error_free(&error);
    return failure;
  }
  return {};
}

std::string UserManager::log() const {
  std::string text;
  for (const auto& path : {console_path_, stderr_path_}) {
    std::ifstream in(path);
    std::stringstream content;
    content << in.rdbuf();
    std::string all = content.str();
    if (all.size() > kLogTail) all = std::string("...").append(all, all.size() - kLogTail);
    if (all.empty()) continue;
    text.append("[").append(path.filename().string()).append("]\n").append(all);
  }
  return text;
}

}  // namespace zktool::testsupport
