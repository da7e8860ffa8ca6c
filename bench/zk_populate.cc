// zk-populate: writes one of the test environment's data sets into a running
// ZooKeeper through its client API, for the README demo and the benchmarks.
//
//   zk-populate --connect 127.0.0.1:PORT --profile varied|r1 [--znodes N] [--data-size BYTES]
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "support/populate.h"
#include "support/zk_client.h"

namespace {

using zktool::testsupport::ZkClient;

int fail(const zktool::Error& error) {
  std::cerr << "zk-populate: " << error.message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Write a test data set into a running ZooKeeper"};
  std::string connect;
  std::string profile;
  zktool::testsupport::R1Options r1;
  zktool::testsupport::VariedOptions varied;
  bool no_ttl = false;
  app.add_option("--connect", connect, "host:port[,host:port...]")->required();
  app.add_option("--profile", profile, "varied (every znode kind) or r1 (the benchmark set)")
      ->required()
      ->check(CLI::IsMember({"varied", "r1"}));
  app.add_option("--znodes", r1.znodes, "r1: data znodes")->capture_default_str();
  app.add_option("--data-size", r1.data_size, "r1: bytes per znode")->capture_default_str();
  app.add_option("--seed", r1.seed, "random seed")->capture_default_str();
  app.add_option("--root", varied.root, "varied: root znode")->capture_default_str();
  app.add_option("--bulk", varied.bulk_znodes, "varied: pipelined small znodes")
      ->capture_default_str();
  app.add_flag("--no-ttl", no_ttl, "varied: skip TTL znodes (server without extendedTypesEnabled)");
  CLI11_PARSE(app, argc, argv);
  varied.ttl = !no_ttl;
  varied.seed = r1.seed;

  auto client = ZkClient::connect(connect);
  if (!client) return fail(client.error());
  auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  if (profile == "r1") {
    auto summary = zktool::testsupport::write_r1_data(**client, r1);
    if (!summary) return fail(summary.error());
    std::printf("r1: %zu znodes, %zu parents, %zu updates, %llu data bytes in %.1f s\n",
                summary->znodes, summary->parents, summary->updates,
                static_cast<unsigned long long>(summary->data_bytes), seconds());
  } else {
    auto set = zktool::testsupport::write_varied_data(**client, varied);
    if (!set) return fail(set.error());
    std::printf("varied: %zu znodes present, %zu removed, %zu reapable, %zu writes in %.1f s\n",
                set->present.size(), set->absent.size(), set->reapable.size(), set->writes,
                seconds());
    std::printf("digest credentials: %s\n", zktool::testsupport::kVariedDigestCredentials);
    // The data set's lasting ephemerals belong to this session and go when it ends.
    std::printf("session 0x%llx closes now; its ephemerals go with it\n",
                static_cast<unsigned long long>((*client)->session_id()));
  }
  return 0;
}
