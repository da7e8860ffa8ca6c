// Internal to the user-manager fixture: the cgroups a test's systemd manager
// is confined to (see user_manager.h for why it needs them).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/result.h"

namespace zktool::testsupport {

struct ManagerCgroups {
  // Fresh directories, children of the test's own cgroup, one per hierarchy
  // systemd tracks processes in (name=systemd and cgroup2, or cgroup2 alone).
  std::vector<std::filesystem::path> dirs;
  // The controllers live in cgroup v1 hierarchies, which the manager's mount
  // namespace must hide; then `unified` says whether cgroup2 is mounted too.
  bool hide_v1_controllers = false;
  bool unified = false;
};

// Creates the directories, named `name`, for the caller to move the manager into.
Result<ManagerCgroups> make_manager_cgroups(const std::string& name);

// SIGKILLs every process left in the directories (and below), waits up to
// 5 s for them to leave, and removes the directories, deepest first.
// Returns what could not be cleaned up, empty if everything was.
std::string kill_and_remove(const std::vector<std::filesystem::path>& dirs);

}  // namespace zktool::testsupport
