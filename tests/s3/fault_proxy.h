// A TCP proxy on 127.0.0.1 between a client and a store, misbehaving on
// purpose: for the first `faulty` connections it answers 503 SlowDown, or
// cuts the connection once the client has sent `cut_after` bytes (mid-part),
// or stalls; every later connection is passed through untouched. Each
// connection gets its own thread; the destructor closes everything.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/result.h"

namespace zktool::testsupport {

enum class Fault {
  kSlowDown,  // reply "503 SlowDown" and close, without reaching the store
  kCut,       // forward, then close both sides after `cut_after` bytes from the client
  kStall,     // accept and never answer
};

struct FaultPlan {
  Fault fault = Fault::kSlowDown;
  int faulty = 0;  // how many connections, from the first, misbehave; -1: all of them
  uint64_t cut_after = 0;
};

class FaultProxy {
 public:
  // Listens on a free port of 127.0.0.1 and forwards to `upstream_port` there.
  static Result<std::unique_ptr<FaultProxy>> start(int upstream_port, FaultPlan plan);
  ~FaultProxy();

  // "http://127.0.0.1:PORT"
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }

 private:
  FaultProxy(int listener, int port, int upstream_port, FaultPlan plan);
  void accept_loop();
  void serve(int client, int number);

  int listener_;
  int port_;
  int upstream_port_;
  FaultPlan plan_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;
  std::mutex fds_mutex_;      // guards open_fds_
  std::vector<int> open_fds_;  // every socket, closed by the destructor
};

}  // namespace zktool::testsupport
