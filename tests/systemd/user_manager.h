// A real `systemd --user` manager for one test, so
// that service control is tested against systemd itself. Needs root.
//
// What works on these machines (Debian 12, systemd 252, PID 1 not systemd,
// cgroup v1 "hybrid": controllers in v1, name=systemd in v1, cgroup2 at
// /sys/fs/cgroup/unified), found by experiment:
//
// - systemd --user refuses to run ("the system has not been booted with
//   systemd") unless /run/systemd/system exists. The manager runs in a
//   private mount namespace, so that the tmpfs on /run/systemd holding it is
//   invisible to every other process here.
//   The test process itself stays outside: it only needs the sockets in
//   $XDG_RUNTIME_DIR, which is an ordinary directory under /tmp. So the
//   fixture forks a child that unshares, mounts and execs
//   /lib/systemd/systemd --user; re-running the test binary under
//   unshare(1) would buy nothing and hide the manager's pid from the test.
// - The manager must get a cgroup of its own first. Started in the root
//   cgroup, as the process that runs every command here is, systemd takes
//   the root as its own and moves EVERY process of the machine into its
//   init.scope, in the memory, cpu and pids hierarchies too. The fixture
//   makes a fresh child of the test's cgroup in the name=systemd and cgroup2
//   hierarchies and moves the child there, and inside the namespace hides the
//   controller hierarchies (a fresh tmpfs on /sys/fs/cgroup with only
//   name=systemd and cgroup2 mounted), so the manager never moves a process
//   out of the controller groups it was started in. On a unified (cgroup2
//   only) machine the fresh cgroup alone confines it.
// - Two addresses work: systemd's private socket
//   $XDG_RUNTIME_DIR/systemd/private (a direct connection, no bus daemon),
//   and the user bus $XDG_RUNTIME_DIR/bus, whose dbus.socket unit the
//   manager starts from dbus-user-session and which activates dbus-daemon on
//   the first connection. systemctl --user uses the first, busctl --user
//   the second (busctl cannot use the first: it insists on a bus's Hello).
// - Started as root, the manager reads units from $XDG_CONFIG_HOME/systemd/user
//   and also the machine's /etc/systemd/user and /usr/lib/systemd/user.
// - Logging: with LogTarget=console a user manager writes to /dev/console
//   (reopened per message, and only if it is a terminal), not to its stderr.
//   Inside the namespace a pseudo-terminal the fixture reads is bound over
//   /dev/console, so the log lands in console.log and the machine's console
//   stays quiet. There is no journal; units default to StandardOutput=tty
//   (TTYPath=/dev/console), so their output lands there too. These settings
//   are in $XDG_CONFIG_HOME/systemd/user.conf, which survives daemon-reload
//   (command-line options do not).
//
// Teardown: SIGTERM (the manager stops its units and exits; SIGKILL after
// 10 s), SIGKILL to anything left in its cgroup, remove the cgroups and the
// directory. The mount namespace ends with its last process. If the test
// process dies first, the manager gets SIGTERM (PR_SET_PDEATHSIG, which
// follows the thread that forked it: start() on a thread that outlives it).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/files.h"
#include "util/result.h"

namespace zktool::testsupport {

class ConsoleCapture;

class UserManager {
 public:
  // Starts a manager in a fresh directory under /tmp and waits (up to 10 s)
  // until it has finished starting up.
  static Result<std::unique_ptr<UserManager>> start();
  ~UserManager();
  UserManager(const UserManager&) = delete;
  UserManager& operator=(const UserManager&) = delete;

  // systemd's own socket: a direct connection to the manager.
  std::string private_address() const;
  // The user bus (dbus-daemon, socket-activated by the manager).
  std::string bus_address() const;
  const std::filesystem::path& runtime_dir() const { return runtime_dir_; }
  std::filesystem::path unit_dir() const;
  pid_t pid() const { return pid_; }

  // Writes unit file `name`; systemd sees it after reload().
  Status write_unit(const std::string& name, const std::string& text) const;
  // daemon-reload (Manager.Reload, answered once the reload is done).
  Status reload() const;
  // The end of the manager's log and of its stderr, for failure messages.
  std::string log() const;

 private:
  UserManager();
  Status launch();
  Status wait_until_running();
  void stop_manager();
  void remove_cgroups();

  testing::TempDir root_;  // removed last, once systemd and its cgroups are gone
  std::filesystem::path runtime_dir_;
  std::filesystem::path stderr_path_;
  std::filesystem::path console_path_;
  std::unique_ptr<ConsoleCapture> console_;
  std::vector<std::filesystem::path> cgroups_;  // one per hierarchy, created by us
  pid_t pid_ = -1;
};

}  // namespace zktool::testsupport
