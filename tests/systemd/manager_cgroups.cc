#include "systemd/manager_cgroups.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <thread>

namespace zktool::testsupport {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCgroupRoot = "/sys/fs/cgroup";

bool is_fs_type(const fs::path& path, decltype(statfs::f_type) type) {
  struct statfs info {};
  return ::statfs(path.c_str(), &info) == 0 && info.f_type == type;
}

// The test's own path in a hierarchy, from /proc/self/cgroup lines
// "<id>:<controllers>:<path>"; `controllers` is "" for cgroup2.
Result<std::string> own_cgroup(const std::string& controllers) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const size_t first = line.find(':');
    const size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    if (line.substr(first + 1, second - first - 1) == controllers) {
      return line.substr(second + 1);
    }
  }
  return make_error(ErrorKind::Io, "no '" + controllers + "' hierarchy in /proc/self/cgroup");
}

Result<fs::path> make_child(const fs::path& mount, const std::string& controllers,
                            const std::string& name) {
  auto own = own_cgroup(controllers);
  if (!own.ok()) return own.error();
  const fs::path dir = mount / fs::path(*own).relative_path() / name;
  if (::mkdir(dir.c_str(), 0755) != 0) {
    return make_error(ErrorKind::Io,
                      "cannot create cgroup " + dir.string() + ": " + std::strerror(errno));
  }
  return dir;
}

// `dir` and every cgroup below it, deepest first.
std::vector<fs::path> subtree(const fs::path& dir) {
  std::vector<fs::path> dirs{dir};
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) dirs.push_back(it->path());
  }
  return {dirs.rbegin(), dirs.rend()};
}

std::vector<pid_t> processes_in(const std::vector<fs::path>& dirs) {
  std::vector<pid_t> pids;
  for (const auto& dir : dirs) {
    std::ifstream in(dir / "cgroup.procs");
    for (pid_t pid = 0; in >> pid;) pids.push_back(pid);
  }
  return pids;
}

}  // namespace

Result<ManagerCgroups> make_manager_cgroups(const std::string& name) {
  ManagerCgroups cgroups;
  std::vector<std::pair<fs::path, std::string>> hierarchies;  // mount, controllers
  if (is_fs_type(kCgroupRoot, CGROUP2_SUPER_MAGIC)) {
    hierarchies.emplace_back(kCgroupRoot, "");
  } else if (is_fs_type(kCgroupRoot, TMPFS_MAGIC) &&
             is_fs_type(fs::path(kCgroupRoot) / "systemd", CGROUP_SUPER_MAGIC)) {
    cgroups.hide_v1_controllers = true;
    hierarchies.emplace_back(fs::path(kCgroupRoot) / "systemd", "name=systemd");
    cgroups.unified = is_fs_type(fs::path(kCgroupRoot) / "unified", CGROUP2_SUPER_MAGIC);
    if (cgroups.unified) hierarchies.emplace_back(fs::path(kCgroupRoot) / "unified", "");
  } else {
    return make_error(ErrorKind::Io, std::string("unknown cgroup layout under ") + kCgroupRoot +
                                         " (neither cgroup2 nor tmpfs with name=systemd)");
  }
  for (const auto& [mount, controllers] : hierarchies) {
    auto dir = make_child(mount, controllers, name);
    if (!dir.ok()) {
      kill_and_remove(cgroups.dirs);
      return dir.error();
    }
    cgroups.dirs.push_back(std::move(dir).value());
  }
  return cgroups;
}

std::string kill_and_remove(const std::vector<fs::path>& dirs) {
  std::vector<fs::path> all;
  for (const auto& dir : dirs) {
    auto below = subtree(dir);
    all.insert(all.end(), below.begin(), below.end());
  }
  // Killed processes leave their cgroup as they exit, reaped or not.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto pids = processes_in(all); !pids.empty(); pids = processes_in(all)) {
    if (std::chrono::steady_clock::now() > give_up) {
      return std::to_string(pids.size()) + " process(es) survived SIGKILL in " +
             dirs.front().string();
    }
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string problems;
  for (const auto& dir : all) {
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
      problems += "cannot remove " + dir.string() + ": " + std::strerror(errno) + "; ";
    }
  }
  return problems;
}

}  // namespace zktool::testsupport
