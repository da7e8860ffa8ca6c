// Services misbehaving under the zk-tool binary, on a real ZooKeeper node run
// by a real systemd user manager and watched through Exhibitor's status API
// (served from the live node, with its fault modes): a unit that will not
// stop, one that will not start, no systemd to talk to, an Exhibitor that
// answers garbage or nothing, and a node that never becomes healthy. Each
// run ends within a bound, with the documented exit code and one line that
// names the unit or source and says where the data is.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/files.h"
#include "cluster/systemd_ensemble.h"
#include "e2e/e2e_support.h"
#include "exhibitor/test_pki.h"
#include "support/process.h"
#include "support/zk_client.h"

namespace zktool {
namespace {

namespace fs = std::filesystem;
namespace ts = zktool::testsupport;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Mode = ts::ExhibitorFixture::Mode;

struct TimedRun {
  ts::CapturedRun run;
  Clock::duration took{};
};

using e2e::lines;
using e2e::listing;

TimedRun zk_tool(std::vector<std::string> args) {
  const auto started = Clock::now();
  ts::CapturedRun run = e2e::zk_tool(std::move(args));
  return {std::move(run), Clock::now() - started};
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ServiceFault : public e2e::EnsembleTest {
 protected:
  void SetUp() override {
    make_scratch_dir("fault");
    ts::EnsembleConfig config;
    config.nodes = 1;
    start_ensemble(config);
  }

  const ts::NodeLayout& node() const { return ensemble_->node(0); }
  std::string unit() const { return ensemble_->unit_name(0); }

  // A standalone node's zoo.cfg names no members, so health comes from Exhibitor.
  std::vector<std::string> node_args() const {
    return {"--zoo-cfg", ensemble_->zoo_cfg(0).string(), "--unit", unit(),
            "--systemd-address", ensemble_->bus_target().address(),
            "--health", "exhibitor", "--exhibitor-url", ensemble_->exhibitor_url()};
  }

  TimedRun run_node(std::vector<std::string> args) const {
    auto extra = node_args();
    args.insert(args.end(), extra.begin(), extra.end());
    return zk_tool(args);
  }

  // A few znodes, then a cold backup of them.
  fs::path backup() {
    auto client = ts::ZkClient::connect(ensemble_->connect_string());
    EXPECT_TRUE(client);
    if (!client) return {};
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE((*client)->create("/app-" + std::to_string(i), "data"));
    }
    fs::path archive = dir_ / "node1.tar.zst";
    auto made = run_node({"backup", archive.string(), "--cold"});
    EXPECT_EQ(made.run.exit_code, 0) << made.run.err;
    EXPECT_TRUE(ensemble_->wait_healthy());
    return archive;
  }

  // The live files and the unit's process, which a refused restore keeps.
  struct Live {
    std::vector<std::string> data_dir, snap_dir;
    uint32_t main_pid = 0;
    bool operator==(const Live&) const = default;
  };
  Live live() {
    auto state = ensemble_->unit_state(0);
    EXPECT_TRUE(state);
    // The lock file a run creates stays, by design (lock.h).
    auto data_dir = listing(node().data_dir);
    std::erase(data_dir, ".zk-tool.lock");
    return {data_dir, listing(node().data_dir / "version-2"), state ? state->main_pid : 0};
  }

  std::optional<fs::path> pre_restore_dir() const {
    for (const std::string& name : listing(node().data_dir)) {
      if (name.starts_with("version-2.pre-restore-")) return node().data_dir / name;
    }
    return std::nullopt;
  }

};

TEST_F(ServiceFault, AUnitThatIgnoresStopEndsTheRestoreAtTheStopTimeoutWithDataUntouched) {
  fs::path archive = backup();
  ASSERT_FALSE(HasFailure());
  // The JVM ignores the stop signal; systemd would SIGKILL it after 8 s.
  ASSERT_TRUE(ensemble_->replace_unit(0, "KillSignal=SIGCONT\nTimeoutStopSec=8\n"));
  const Live before = live();
  const auto snap_before = listing(node().data_dir / "version-2");

  TimedRun r = run_node({"restore", archive.string(), "--stop-timeout", "2"});
  EXPECT_EQ(r.run.exit_code, 5) << r.run.err;
  EXPECT_EQ(lines(r.run.err), 1u) << r.run.err;
  EXPECT_TRUE(r.run.err.starts_with("zk-tool restore: stop " + unit() + " on ")) << r.run.err;
  EXPECT_TRUE(has(r.run.err, "is still pending after 2.")) << r.run.err;
  EXPECT_TRUE(has(r.run.err, "the live data was not touched")) << r.run.err;
  EXPECT_LT(r.took, 20s);  // staging, then 2 s of stop, not systemd's 8
  auto after = live();
  EXPECT_EQ(after.data_dir, before.data_dir) << "staging or a pre-restore copy left";
  EXPECT_EQ(after.snap_dir, snap_before);
  // systemd goes on with the stop job zk-tool left queued, and kills the JVM
  // at its own TimeoutStopSec; the node is down, its data as it was.
  ASSERT_TRUE(ensemble_->replace_unit(0));
  auto deadline = Clock::now() + 30s;
  while (ensemble_->unit_state(0)->main_pid != 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(ensemble_->unit_state(0)->main_pid, 0u);
  EXPECT_EQ(listing(node().data_dir / "version-2"), snap_before);
}

TEST_F(ServiceFault, AUnitThatFailsToStartAfterRestoreSaysWhereTheOldDataIsAndHowToRollBack) {
  fs::path archive = backup();
  ASSERT_FALSE(HasFailure());
  const auto snap_before = listing(node().data_dir / "version-2");
  ASSERT_TRUE(ensemble_->replace_unit(0, "ExecStartPre=/bin/false\n"));

  TimedRun r = run_node({"restore", archive.string(), "--wait-timeout", "30"});
  EXPECT_EQ(r.run.exit_code, 5) << r.run.err;
  EXPECT_EQ(lines(r.run.err), 1u) << r.run.err;
  EXPECT_TRUE(r.run.err.starts_with("zk-tool restore: restored data is in place but start " +
                                    unit() + " on "))
      << r.run.err;
  auto aside = pre_restore_dir();
  ASSERT_TRUE(aside) << r.run.err;
  EXPECT_TRUE(r.run.err.ends_with("the previous data is in " + aside->string() +
                                  ", and zk-tool rollback puts it back\n"))
      << r.run.err;
  EXPECT_EQ(listing(*aside), snap_before);
  EXPECT_LT(r.took, 60s);

  // The advice works: with the unit fixed, rollback brings the old data back.
  ASSERT_TRUE(ensemble_->replace_unit(0));
  TimedRun back = run_node({"rollback", "--wait-timeout", "60"});
  EXPECT_EQ(back.run.exit_code, 0) << back.run.err;
  ASSERT_TRUE(ensemble_->wait_healthy());
  // The old files are back (ZooKeeper and rollback add a snapshot and epochs).
  const auto after = listing(node().data_dir / "version-2");
  EXPECT_TRUE(std::includes(after.begin(), after.end(), snap_before.begin(), snap_before.end()));
  EXPECT_FALSE(fs::exists(*aside));
}

// The swap's renames fail as a dying disk makes them (strace injects EIO
// into renameat2). With only the last rename of the restored data in
// failing, the live data is put back and the unit restarted. When putting it
// back fails too, the unit stays stopped (ZooKeeper would start on a missing
// or half-swapped version-2) and the one line says where the data is.
TEST_F(ServiceFault, ASwapThatFailsPutsTheDataBackOrLeavesTheUnitStoppedSayingWhereItIs) {
  fs::path archive = backup();
  ASSERT_FALSE(HasFailure());
  const fs::path trace = dir_ / "renames.trace";
  auto under_strace = [&](const std::string& inject) {
    // LeakSanitizer cannot run under ptrace; the other sanitizers can.
    std::vector<std::string> argv{"/usr/bin/env", "ASAN_OPTIONS=detect_leaks=0",
                                  "/usr/bin/strace", "-f", "-qq", "-o", trace.string(),
                                  "-e", "trace=renameat2"};
    if (!inject.empty()) argv.insert(argv.end(), {"-e", "inject=renameat2:error=EIO:when=" + inject});
    argv.insert(argv.end(), {ZKTOOL_BINARY, "restore", archive.string(), "--wait-timeout", "60"});
    auto extra = node_args();
    argv.insert(argv.end(), extra.begin(), extra.end());
    return ts::run_captured(argv);
  };
  // A restore that succeeds: its last renameat2 is the rename of the
  // restored data into place.
  ts::CapturedRun counted = under_strace("");
  ASSERT_EQ(counted.exit_code, 0) << counted.err;
  const std::string calls = testing::read_file(trace);
  const auto renames = std::count(calls.begin(), calls.end(), '\n');
  ASSERT_GE(renames, 2) << calls;
  const std::string rename_in = std::to_string(renames);
  ASSERT_TRUE(ensemble_->wait_healthy());
  const auto snap_before = listing(node().data_dir / "version-2");

  ts::CapturedRun undone = under_strace(rename_in);
  EXPECT_EQ(undone.exit_code, 4) << undone.err;
  EXPECT_EQ(lines(undone.err), 1u) << undone.err;
  EXPECT_TRUE(has(undone.err, "Input/output error; every directory was put back: the live data "
                              "is in place and the unit restarted"))
      << undone.err;
  // ZooKeeper, started again, may add a snapshot of its own: every file must still be there.
  const auto holds_every_file = [&](const fs::path& dir) {
    auto now = listing(dir);
    return std::includes(now.begin(), now.end(), snap_before.begin(), snap_before.end());
  };
  EXPECT_TRUE(holds_every_file(node().data_dir / "version-2"));
  ASSERT_TRUE(ensemble_->wait_healthy());

  ts::CapturedRun stuck = under_strace(rename_in + "+");
  EXPECT_EQ(stuck.exit_code, 7) << stuck.err;
  EXPECT_EQ(lines(stuck.err), 1u) << stuck.err;
  EXPECT_FALSE(has(stuck.err, "/proc/self/fd/")) << "paths as the operator knows them";
  std::optional<fs::path> aside;  // this run's: the newest
  for (const std::string& name : listing(node().data_dir)) {
    if (name.starts_with("version-2.pre-restore-")) aside = node().data_dir / name;
  }
  ASSERT_TRUE(aside) << stuck.err;
  EXPECT_TRUE(has(stuck.err, "; putting the data back failed; ")) << stuck.err;
  EXPECT_TRUE(has(stuck.err, (node().data_dir / "version-2").string() + " is still at " +
                                 aside->string()))
      << stuck.err;
  EXPECT_TRUE(stuck.err.ends_with(": the unit was left stopped\n")) << stuck.err;
  EXPECT_TRUE(holds_every_file(*aside)) << "the live data, whole, where the line says";
  auto state = ensemble_->unit_state(0);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->main_pid, 0u) << "the unit must not start on half-swapped data";
}

TEST_F(ServiceFault, NoSystemdAtTheGivenAddressIsAnImmediateServiceError) {
  fs::path archive = backup();
  ASSERT_FALSE(HasFailure());
  const Live before = live();
  const std::string nowhere = "unix:path=" + (dir_ / "no-such-socket").string();
  for (const std::string command : {"backup", "restore"}) {
    auto args = node_args();
    *std::find(args.begin(), args.end(), ensemble_->bus_target().address()) = nowhere;
    std::vector<std::string> all = {command, command == "backup"
                                                 ? (dir_ / "never.tar.zst").string()
                                                 : archive.string()};
    if (command == "backup") all.push_back("--cold");
    all.insert(all.end(), args.begin(), args.end());
    TimedRun r = zk_tool(all);
    EXPECT_EQ(r.run.exit_code, 5) << command << ": " << r.run.err;
    EXPECT_EQ(lines(r.run.err), 1u) << r.run.err;
    EXPECT_TRUE(has(r.run.err, nowhere)) << r.run.err;
    EXPECT_LT(r.took, 15s) << command;
  }
  EXPECT_FALSE(fs::exists(dir_ / "never.tar.zst"));
  EXPECT_FALSE(fs::exists(dir_ / "never.tar.zst.part"));
  EXPECT_EQ(live(), before);
}

struct ExhibitorFault {
  const char* name;
  Mode mode;
  const char* says;  // part of the one-line error
};

class ExhibitorFaults : public ServiceFault, public ::testing::WithParamInterface<ExhibitorFault> {};

TEST_P(ExhibitorFaults, StatusAndTheRestorePreflightEndBoundedWithExit6) {
  const Live before = live();
  ensemble_->exhibitor().set_mode(GetParam().mode);

  TimedRun status = zk_tool({"status", "--exhibitor-url", ensemble_->exhibitor_url(),
                             "--timeout", "3s"});
  EXPECT_EQ(status.run.exit_code, 6) << status.run.err;
  EXPECT_TRUE(has(status.run.err, GetParam().says)) << status.run.err;
  EXPECT_TRUE(has(status.run.err, ensemble_->exhibitor_url())) << status.run.err;
  EXPECT_EQ(lines(status.run.err), 1u) << status.run.err;
  EXPECT_LT(status.took, 10s);

  // Health comes first: the archive is not even opened.
  const fs::path archive = dir_ / "not-read.tar.zst";
  TimedRun restore = run_node({"restore", archive.string()});
  EXPECT_EQ(restore.run.exit_code, 6) << restore.run.err;
  EXPECT_TRUE(restore.run.err.starts_with("zk-tool restore: cannot see the ensemble (")) << restore.run.err;
  EXPECT_TRUE(has(restore.run.err, GetParam().says)) << restore.run.err;
  EXPECT_TRUE(restore.run.err.ends_with("); nothing was changed\n")) << restore.run.err;
  EXPECT_LT(restore.took, 10s);
  EXPECT_EQ(live(), before);
}

const ExhibitorFault kExhibitorFaults[] = {
    {"Garbage", Mode::kGarbage, "not HTTP"},
    {"NotJson", Mode::kNotJson, "not JSON"},
    {"Http500", Mode::kHttp500, "HTTP 500"},
    {"Silent", Mode::kSilent, "connected, but no complete answer within"},
    {"ClosesWithoutReply", Mode::kCloseWithoutReply, "closed the connection without answering"},
    {"Redirect", Mode::kRedirect, "redirects are not followed"},
};

INSTANTIATE_TEST_SUITE_P(Modes, ExhibitorFaults, ::testing::ValuesIn(kExhibitorFaults),
                         [](const auto& p) { return std::string(p.param.name); });

// Exhibitor through DC/OS Admin Router (HTTPS) with a CA bundle that did not
// sign its certificate: the restore preflight exits 9, the TLS code, before
// the archive is opened or the unit stopped; --dry-run and --no-wait too.
TEST_F(ServiceFault, AnExhibitorCertificateFromAnotherCaRefusesTheRestoreWithExit9) {
  const Live before = live();
  auto ca = ts::TestCa::create(dir_, "cluster-ca");
  auto other = ts::TestCa::create(dir_, "unrelated-ca");
  ASSERT_TRUE(ca) << ca.error().message;
  ASSERT_TRUE(other) << other.error().message;
  auto server = ca->issue("server", ts::CertUse::kServer, {"127.0.0.1"}, -1h, 24h);
  ASSERT_TRUE(server) << server.error().message;
  ts::ExhibitorFixture::Access access;
  access.tls = ts::ExhibitorFixture::Tls{server->cert, server->key, {}};
  auto exhibitor =
      ts::ExhibitorFixture::start({{"127.0.0.1", node().client_port}}, 0, 2s, access);
  ASSERT_TRUE(exhibitor) << exhibitor.error().message;
  const std::string url = (*exhibitor)->status_url();

  const fs::path archive = dir_ / "not-read.tar.zst";
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, {"--dry-run"}, {"--no-wait"}}) {
    std::vector<std::string> args = {"restore", archive.string(), "--zoo-cfg",
                                     ensemble_->zoo_cfg(0).string(), "--unit", unit(),
                                     "--systemd-address", ensemble_->bus_target().address(),
                                     "--exhibitor-url", url, "--exhibitor-ca",
                                     other->cert_file().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    TimedRun restore = zk_tool(args);
    EXPECT_EQ(restore.run.exit_code, 9) << restore.run.err;
    EXPECT_EQ(lines(restore.run.err), 1u) << restore.run.err;
    EXPECT_TRUE(restore.run.err.starts_with("zk-tool restore: cannot see the ensemble (GET " + url +
                                            ": the server's certificate is not trusted ("))
        << restore.run.err;
    EXPECT_TRUE(restore.run.err.ends_with("); nothing was changed\n")) << restore.run.err;
    EXPECT_LT(restore.took, 10s);
  }
  EXPECT_EQ((*exhibitor)->status_requests(), 0u);
  EXPECT_EQ(live(), before);  // same files, same main PID: never stopped
}

TEST_F(ServiceFault, ANodeThatNeverServesEndsTheRestoreAtTheWaitTimeoutWithItsState) {
  fs::path archive = backup();
  ASSERT_FALSE(HasFailure());
  // The unit starts and stays up, but nothing ever serves ZooKeeper.
  ASSERT_TRUE(ensemble_->replace_unit(0, "ExecStart=\nExecStart=/bin/sleep infinity\n"));

  TimedRun r = run_node({"restore", archive.string(), "--wait-timeout", "5"});
  EXPECT_EQ(r.run.exit_code, 6) << r.run.err;
  EXPECT_EQ(lines(r.run.err), 1u) << r.run.err;
  EXPECT_TRUE(r.run.err.starts_with("zk-tool restore: this node's restored data is in place and "
                                    "started, but the ensemble did not become healthy in time: "))
      << r.run.err;
  EXPECT_TRUE(has(r.run.err, node().client_address())) << r.run.err;
  auto aside = pre_restore_dir();
  ASSERT_TRUE(aside);
  EXPECT_TRUE(has(r.run.err, "the previous data is in " + aside->string())) << r.run.err;
  EXPECT_LT(r.took, 30s);
  ASSERT_TRUE(ensemble_->replace_unit(0));
}

}  // namespace
}  // namespace zktool
