#include "health_test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

namespace zktool::testsupport {

namespace fs = std::filesystem;

int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

void LiveEnsembleTest::SetUp() {
  EnsembleConfig config;
  if (config.release == ZooKeeperRelease::k3_4_14 && !zookeeper_3_4_14_jar()) {
    GTEST_SKIP() << "no ZooKeeper 3.4.14 jar at " << zookeeper_3_4_14_jar_search();
  }
  scratch_.emplace("zktool-health-", " (each node's zookeeper.log is inside)");
  dir_ = scratch_->path();
  config.base_dir = dir_;
  config.nodes = 3;
  auto ensemble = LocalEnsemble::start(config, LocalEnsemble::Lifetime::kTiedToCaller);
  ASSERT_TRUE(ensemble) << ensemble.error().message;
  ensemble_ = std::move(*ensemble);
}

void LiveEnsembleTest::TearDown() {
  ensemble_.reset();
  scratch_.reset();
}

std::vector<health::Endpoint> LiveEnsembleTest::endpoints() const {
  std::vector<health::Endpoint> nodes;
  for (size_t i = 0; i < ensemble_->size(); ++i) {
    nodes.push_back({ensemble_->node(i).host, ensemble_->node(i).client_port});
  }
  return nodes;
}

fs::path LiveEnsembleTest::write_status_zoo_cfg() const {
  fs::path file = dir_ / "status-zoo.cfg";
  std::ofstream out(file);
  out << "dataDir=" << (dir_ / "unused").string() << "\n";
  // As each release writes it: 3.4's server lines cannot name a client port,
  // so its members share the one clientPort (support/ensemble.h).
  const bool v3_4 = ensemble_->layout().config.release == ZooKeeperRelease::k3_4_14;
  if (v3_4) out << "clientPort=" << ensemble_->node(0).client_port << "\n";
  for (size_t i = 0; i < ensemble_->size(); ++i) {
    const NodeLayout& node = ensemble_->node(i);
    out << "server." << node.id << "=" << node.host << ":" << node.peer_port << ":"
        << node.election_port;
    if (!v3_4) out << ";" << node.client_address();
    out << "\n";
  }
  return file;
}

size_t LiveEnsembleTest::follower() const {
  auto leader = ensemble_->leader();
  EXPECT_TRUE(leader) << leader.error().message;
  return leader ? (*leader + 1) % ensemble_->size() : 0;
}

bool LiveEnsembleTest::eventually(const health::HealthProbe& probe,
                                  const std::function<bool(const health::EnsembleHealth&)>& done,
                                  std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto state = probe();
    if (state && done(*state)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace zktool::testsupport
