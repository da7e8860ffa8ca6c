// Four-letter words: the srvr parser on replies ZooKeeper 3.8 wrote, the
// transport's deadlines and bounds, and both against a real ensemble.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include "../support/files.h"
#include "health/four_letter.h"
#include "health_test_support.h"
#include "support/zk_client.h"

namespace zktool::testsupport {
namespace {

using namespace std::chrono_literals;
using health::ServerMode;

// Captured with `printf srvr | nc` from Debian's ZooKeeper 3.8.0 (a 3-node
// ensemble on 127.0.0.1, before any write).
constexpr const char* kFollowerReply =
    "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n"
    "Latency min/avg/max: 0/0.0/0\n"
    "Received: 3\n"
    "Sent: 2\n"
    "Connections: 1\n"
    "Outstanding: 0\n"
    "Zxid: 0x0\n"
    "Mode: follower\n"
    "Node count: 5\n";
constexpr const char* kLeaderReply =
    "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n"
    "Latency min/avg/max: 0/0.0/0\n"
    "Received: 3\n"
    "Sent: 2\n"
    "Connections: 1\n"
    "Outstanding: 0\n"
    "Zxid: 0x100000000\n"
    "Mode: leader\n"
    "Node count: 5\n"
    "Proposal sizes last/min/max: -1/-1/-1\n";
// The survivor of a 3-node ensemble after the other two were stopped.
constexpr const char* kNotServingReply =
    "This ZooKeeper instance is not currently serving requests\n";

TEST(ParseSrvr, ReadsAFollowerReply) {
  auto info = health::parse_srvr(kFollowerReply);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_TRUE(info->serving);
  EXPECT_EQ(info->mode, ServerMode::kFollower);
  EXPECT_EQ(info->zxid, 0);
  EXPECT_EQ(info->node_count, 5);
  EXPECT_FALSE(info->leads());
}

TEST(ParseSrvr, ReadsALeaderReply) {
  auto info = health::parse_srvr(kLeaderReply);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->mode, ServerMode::kLeader);
  EXPECT_EQ(info->zxid, 0x100000000);
  EXPECT_TRUE(info->leads());
}

TEST(ParseSrvr, AServerWithoutQuorumIsNotServing) {
  auto info = health::parse_srvr(kNotServingReply);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_FALSE(info->serving);
  EXPECT_FALSE(info->leads());
}

TEST(ParseSrvr, ReadsStandaloneAndReadOnlyModes) {
  std::string standalone = kFollowerReply;
  standalone.replace(standalone.find("follower"), 8, "standalone");
  auto info = health::parse_srvr(standalone);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->mode, ServerMode::kStandalone);
  EXPECT_TRUE(info->leads());

  // StatCommand adds a line for a ReadOnlyZooKeeperServer, whose state is "read-only".
  std::string read_only = kFollowerReply;
  read_only.replace(read_only.find("follower"), 8, "read-only");
  read_only.insert(read_only.find('\n') + 1, "READ-ONLY mode; serving only read-only clients\n");
  info = health::parse_srvr(read_only);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->mode, ServerMode::kReadOnly);
  EXPECT_FALSE(info->leads());
}

TEST(ParseSrvr, RefusesRepliesItCannotRead) {
  struct Case {
    std::string reply;
    const char* says;
  };
  std::string follower = kFollowerReply;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string reply = follower;
    reply.replace(reply.find(from), from.size(), to);
    return reply;
  };
  for (const Case& c : {
           Case{"", "lacks"},
           Case{"Zookeeper version: 3.8.0\nMode: leader\n", "lacks"},
           Case{replace("Mode: follower\n", ""), "lacks"},
           Case{replace("Node count: 5\n", ""), "lacks"},
           Case{replace("Zxid: 0x0\n", ""), "lacks"},
           Case{replace("follower", "leaderish"), "unknown Mode \"leaderish\""},
           Case{replace("Zxid: 0x0", "Zxid: 0xZZ"), "unreadable Zxid"},
           Case{replace("Zxid: 0x0", "Zxid: 0x"), "unreadable Zxid"},
           Case{replace("Node count: 5", "Node count: 5 nodes"), "unreadable Node count"},
       }) {
    auto info = health::parse_srvr(c.reply);
    ASSERT_FALSE(info) << c.reply;
    EXPECT_EQ(info.error().kind, ErrorKind::Unhealthy);
    EXPECT_NE(info.error().message.find(c.says), std::string::npos) << info.error().message;
    EXPECT_EQ(info.error().message.find('\n'), std::string::npos) << info.error().message;
  }
}

TEST(FourLetterWord, ARefusedConnectionNamesTheWordAndAddress) {
  int port = unused_port();
  ASSERT_NE(port, 0);
  auto reply = health::four_letter_word("127.0.0.1", port, "ruok", 2s);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, ErrorKind::Unhealthy);
  EXPECT_EQ(reply.error().message,
            "ruok to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  auto status = health::ruok("127.0.0.1", port, 2s);
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("Connection refused"), std::string::npos);
}

TEST(FourLetterWord, AnUnknownHostIsUnhealthy) {
  auto reply = health::four_letter_word("zk-tool-test.invalid", 2181, "srvr", 2s);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().kind, ErrorKind::Unhealthy);
  EXPECT_NE(reply.error().message.find("srvr to zk-tool-test.invalid:2181: cannot resolve"),
            std::string::npos)
      << reply.error().message;
}

TEST(FourLetterWord, AServerThatNeverAnswersTimesOut) {
  // The kernel completes the connection from the listen backlog; nothing ever reads or writes.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  int port = ntohs(address.sin_port);

  auto start = std::chrono::steady_clock::now();
  auto reply = health::four_letter_word("127.0.0.1", port, "srvr", 700ms);
  auto took = elapsed_since(start);
  ::close(fd);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().message.find("no complete reply within 700 ms"), std::string::npos)
      << reply.error().message;
  EXPECT_GE(took, 650ms);
  EXPECT_LT(took, 1400ms);
}

// A resolver that takes the query and never answers (resolv.conf says wait
// 30 s, 3 times): the probe still ends at its deadline. The stalled resolver
// is a UDP socket of this test's; the child sees it through a resolv.conf
// bound over the real one in a mount namespace of its own.
TEST(FourLetterWord, AResolverThatNeverAnswersStillEndsAtTheDeadline) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: a mount namespace and port 53";
  int dns = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(dns, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(53);
  ASSERT_EQ(::inet_pton(AF_INET, "127.77.0.1", &address.sin_addr), 1);
  ASSERT_EQ(::bind(dns, reinterpret_cast<sockaddr*>(&address), sizeof address), 0)
      << std::strerror(errno);
  testing::TempDir dir;
  const std::string conf = (dir.path() / "resolv.conf").string();
  testing::write_file(conf, "nameserver 127.77.0.1\noptions timeout:30 attempts:3\n");

  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount(conf.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0) {
      ::_exit(10);
    }
    const auto start = std::chrono::steady_clock::now();
    auto reply = health::four_letter_word("zk-tool-stall.example", 2181, "srvr", 700ms);
    const auto took = elapsed_since(start);
    if (reply) ::_exit(11);
    if (reply.error().message !=
        "srvr to zk-tool-stall.example:2181: cannot resolve: no answer from the resolver in time") {
      ::_exit(12);
    }
    ::_exit(took < 650ms ? 13 : took > 1500ms ? 14 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  // The query reached the stalled resolver: the name was looked up there.
  char query[512];
  const ssize_t got = ::recv(dns, query, sizeof query, MSG_DONTWAIT);
  ::close(dns);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 namespace, 11 answered, 12 message, 13 early, 14 late";
  EXPECT_GT(got, 0) << "no query reached the stalled resolver";
}

using FourLetterLiveTest = LiveEnsembleTest;

TEST_F(FourLetterLiveTest, EveryNodeAnswersAndExactlyOneLeads) {
  int leaders = 0, followers = 0;
  for (const health::Endpoint& node : endpoints()) {
    ASSERT_TRUE(health::ruok(node.host, node.client_port, 2s));
    auto info = health::srvr(node.host, node.client_port, 2s);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_TRUE(info->serving);
    leaders += info->mode == ServerMode::kLeader;
    followers += info->mode == ServerMode::kFollower;
  }
  EXPECT_EQ(leaders, 1);
  EXPECT_EQ(followers, 2);
}

TEST_F(FourLetterLiveTest, SrvrReportsTheLeadersZxidAndNodeCountAfterAWrite) {
  auto client = ZkClient::connect(ensemble_->connect_string());
  ASSERT_TRUE(client) << client.error().message;
  auto created = (*client)->create("/health-probe", "x");
  ASSERT_TRUE(created) << created.error().message;

  auto leader = ensemble_->leader();
  ASSERT_TRUE(leader) << leader.error().message;
  const health::Endpoint node = endpoints()[*leader];
  auto info = health::srvr(node.host, node.client_port, 2s);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->zxid, created->stat.czxid);
  // "", "/", /zookeeper, /zookeeper/config (3.5 and later), /zookeeper/quota and the new znode.
  const bool v3_4 = ensemble_->layout().config.release == ZooKeeperRelease::k3_4_14;
  EXPECT_EQ(info->node_count, v3_4 ? 5 : 6);

  auto raw = health::four_letter_word(node.host, node.client_port, "srvr", 2s);
  ASSERT_TRUE(raw) << raw.error().message;
  EXPECT_NE(raw->find("Mode: leader\n"), std::string::npos) << *raw;
}

TEST_F(FourLetterLiveTest, AReplyLongerThanTheBoundIsRefused) {
  const health::Endpoint node = endpoints()[0];
  auto reply = health::four_letter_word(node.host, node.client_port, "srvr", 2s, 50);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().message.find("reply exceeds 50 bytes"), std::string::npos)
      << reply.error().message;
}

}  // namespace
}  // namespace zktool::testsupport
