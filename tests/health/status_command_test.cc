// `zk-tool status`, the binary: its table, JSON and exit codes against a real
// ensemble through the Exhibitor fixture and through zoo.cfg, --wait, and the
// command-line mistakes it refuses.
#include <gtest/gtest.h>

#include <future>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "exhibitor/exhibitor_fixture.h"
#include "health_test_support.h"

namespace zktool::testsupport {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The whitespace-separated cells of a table line.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream words(line);
  std::string word;
  while (words >> word) out.push_back(word);
  return out;
}

class StatusCommandTest : public LiveEnsembleTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(LiveEnsembleTest::SetUp());
    auto fixture = ExhibitorFixture::start(endpoints());
    ASSERT_TRUE(fixture) << fixture.error().message;
    exhibitor_ = std::move(*fixture);
  }

  std::vector<std::string> exhibitor_args() const {
    return {"status", "--exhibitor-url", exhibitor_->status_url(), "--timeout", "3s"};
  }

  std::unique_ptr<ExhibitorFixture> exhibitor_;
};

TEST_F(StatusCommandTest, AHealthyEnsembleThroughExhibitorExitsZero) {
  auto run = zk_tool(exhibitor_args());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto lines = lines_of(run.out);
  ASSERT_EQ(lines.size(), 5u) << run.out;
  EXPECT_EQ(cells(lines[0]),
            (std::vector<std::string>{"HOST", "PORT", "STATE", "MODE", "ZXID", "LEADER"}));
  auto leader = ensemble_->leader();
  ASSERT_TRUE(leader) << leader.error().message;
  for (size_t i = 0; i < 3; ++i) {
    std::string host = ensemble_->node(i).client_address();
    EXPECT_EQ(cells(lines[i + 1]), (std::vector<std::string>{host, "-", "serving", "-", "-",
                                                             i == *leader ? "yes" : "no"}));
  }
  EXPECT_EQ(lines[4], "healthy: 3 of 3 members serving, leader " +
                          ensemble_->node(*leader).client_address());
  EXPECT_EQ(exhibitor_->status_requests(), 1u);
}

TEST_F(StatusCommandTest, ZooCfgMembersShowPortModeAndZxidInJson) {
  auto run = zk_tool(
      {"status", "--health", "zk", "--zoo-cfg", write_status_zoo_cfg().string(), "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto json = nlohmann::json::parse(run.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << run.out;
  EXPECT_EQ(json["source"], "four-letter words");
  EXPECT_EQ(json["healthy"], true);
  ASSERT_EQ(json["members"].size(), 3u);
  auto leader = ensemble_->leader();
  ASSERT_TRUE(leader) << leader.error().message;
  for (size_t i = 0; i < 3; ++i) {
    const auto& m = json["members"][i];
    EXPECT_EQ(m["host"], ensemble_->node(i).host);
    EXPECT_EQ(m["port"], ensemble_->node(i).client_port);
    EXPECT_EQ(m["state"], "serving");
    EXPECT_EQ(m["code"], 3);
    EXPECT_EQ(m["mode"], i == *leader ? "leader" : "follower");
    EXPECT_EQ(m["leader"], i == *leader);
    ASSERT_TRUE(m["zxid"].is_string()) << m.dump();
    EXPECT_EQ(m["zxid"].get<std::string>().rfind("0x", 0), 0u);
  }
  auto srvr = ensemble_->srvr(*leader);
  ASSERT_TRUE(srvr) << srvr.error().message;
  char zxid[32];
  std::snprintf(zxid, sizeof zxid, "0x%llx", static_cast<unsigned long long>(srvr->zxid));
  EXPECT_EQ(json["members"][*leader]["zxid"], zxid);
}

TEST_F(StatusCommandTest, AStoppedNodeExitsSixAndWaitSeesItRejoin) {
  size_t stopped = follower();
  ASSERT_TRUE(ensemble_->stop_node(stopped));
  std::string stopped_name = ensemble_->node(stopped).client_address();

  auto run = zk_tool(exhibitor_args());
  EXPECT_EQ(run.exit_code, 6) << run.out << run.err;
  auto lines = lines_of(run.out);
  ASSERT_EQ(lines.size(), 4u) << run.out;  // the table, no "healthy:" line
  EXPECT_EQ(cells(lines[stopped + 1])[2], "down") << run.out;
  EXPECT_NE(run.err.find("zk-tool status: ensemble not healthy (" + exhibitor_->status_url() +
                         "): 2 of 3 members serving"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find(stopped_name + " down"), std::string::npos) << run.err;

  auto direct =
      zk_tool({"status", "--health", "zk", "--zoo-cfg", write_status_zoo_cfg().string()});
  EXPECT_EQ(direct.exit_code, 6) << direct.out << direct.err;
  EXPECT_NE(
      direct.err.find(stopped_name + " down (ruok to " + stopped_name + ": Connection refused)"),
      std::string::npos)
      << direct.err;

  // --wait that runs out reports the last state.
  auto start = std::chrono::steady_clock::now();
  auto timed_out = zk_tool(
      {"status", "--exhibitor-url", exhibitor_->status_url(), "--wait", "2s", "--timeout", "1s"});
  auto took = elapsed_since(start);
  EXPECT_EQ(timed_out.exit_code, 6) << timed_out.out << timed_out.err;
  EXPECT_NE(timed_out.err.find("ensemble not healthy after waiting 2s"), std::string::npos)
      << timed_out.err;
  EXPECT_GE(took, 2s);
  EXPECT_LT(took, 6s);

  // Started while the node is still down, --wait returns once it serves again.
  auto waiting = std::async(std::launch::async, [&] {
    auto args = exhibitor_args();
    args.insert(args.end(), {"--wait", "90s"});
    return zk_tool(args);
  });
  std::this_thread::sleep_for(2s);
  size_t requests_while_down = exhibitor_->status_requests();
  ASSERT_TRUE(ensemble_->start_node(stopped));
  auto waited = waiting.get();
  EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  EXPECT_NE(waited.out.find("healthy: 3 of 3 members serving"), std::string::npos) << waited.out;
  EXPECT_GE(requests_while_down, 2u);  // it polled while the node was down
}

TEST_F(StatusCommandTest, ExhibitorFailuresExitSixWithTheirOwnMessage) {
  exhibitor_->set_mode(ExhibitorFixture::Mode::kHttp500);
  auto run = zk_tool(exhibitor_args());
  EXPECT_EQ(run.exit_code, 6);
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_EQ(run.err, "zk-tool status: GET " + exhibitor_->status_url() +
                         ": HTTP 500, body \"java.lang.NullPointerException\\n\"\n");

  int port = unused_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + ExhibitorFixture::kStatusPath;
  run = zk_tool({"status", "--exhibitor-url", url});
  EXPECT_EQ(run.exit_code, 6);
  EXPECT_EQ(run.err, "zk-tool status: GET " + url + ": cannot connect: Connection refused\n");

  // The default source is Exhibitor on localhost:8181, where nothing listens here.
  run = zk_tool({"status", "--timeout", "1s"});
  EXPECT_EQ(run.exit_code, 6);
  EXPECT_NE(run.err.find("GET http://localhost:8181/exhibitor/v1/cluster/status: "),
            std::string::npos)
      << run.err;
}

TEST(StatusCommand, CommandLineMistakesExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"status", "--health", "zk"},
           {"status", "--health", "zookeeper"},
           {"status", "--zoo-cfg", "/etc/zookeeper/conf/zoo.cfg"},
           {"status", "--exhibitor-url", "http://x/", "--zoo-cfg", "/x/zoo.cfg"},
           {"status", "--wait", "soon"},
           {"status", "--timeout", "0"},
           {"status", "--exhibitor-url", "ftp://localhost/"},
       }) {
    auto run = zk_tool(args);
    std::string line;
    for (const auto& a : args) line += a + " ";
    EXPECT_EQ(run.exit_code, 2) << line << run.err;
    EXPECT_TRUE(run.out.empty()) << line << run.out;
    EXPECT_FALSE(run.err.empty()) << line;
  }
}

TEST(StatusCommand, AZooCfgItCannotReadExitsFour) {
  auto run = zk_tool({"status", "--health", "zk", "--zoo-cfg", "/nonexistent/zoo.cfg"});
  EXPECT_EQ(run.exit_code, 4) << run.err;
  EXPECT_EQ(run.err,
            "zk-tool status: /nonexistent/zoo.cfg: cannot read: No such file or directory\n");
}

// Credentials in the Exhibitor URL (DC/OS Enterprise puts them there) never reach stderr, stdout
// or the JSON: the unreachable port makes zk-tool report the URL it tried.
TEST(StatusCommand, TheExhibitorUrlIsShownWithoutItsCredentials) {
  for (bool json : {false, true}) {
    std::vector<std::string> args = {"status", "--exhibitor-url",
                                     "http://admin:s3cret@127.0.0.1:1/exhibitor/v1/cluster/status",
                                     "--timeout", "1s"};
    if (json) args.push_back("--json");
    auto run = zk_tool(args);
    EXPECT_EQ(run.exit_code, 6) << run.out << run.err;
    EXPECT_EQ((run.out + run.err).find("s3cret"), std::string::npos) << run.out << run.err;
    EXPECT_EQ((run.out + run.err).find("admin"), std::string::npos) << run.out << run.err;
    EXPECT_NE(run.err.find("http://***@127.0.0.1:1/exhibitor/v1/cluster/status"), std::string::npos)
        << run.err;
  }
}

}  // namespace
}  // namespace zktool::testsupport
