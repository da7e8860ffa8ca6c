// One view of a ZooKeeper ensemble's health, from either source: Exhibitor's
// status API, or each member's four-letter words probed directly (where there
// is no Exhibitor). Restores and `zk-tool status` wait on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"
#include "health/exhibitor_client.h"
#include "health/four_letter.h"

namespace zktool::health {

// Exhibitor's states, which the direct probe derives the way Exhibitor does:
// down when ruok fails (or srvr says nothing usable), not serving when srvr
// says so, serving when srvr shows a Mode. Latent comes only from Exhibitor.
enum class MemberState { kLatent, kDown, kNotServing, kServing };
std::string_view to_string(MemberState state);

struct Endpoint {
  std::string host;
  int client_port = 0;
};

struct MemberHealth {
  std::string host;
  std::optional<int> client_port;  // unknown when Exhibitor reports the member
  MemberState state = MemberState::kDown;
  std::optional<ServerMode> mode;  // probed directly and serving
  std::optional<int64_t> zxid;     // probed directly and serving
  bool is_leader = false;          // leader, or a standalone server
  std::string detail;              // why it is down, when the probe says

  std::string name() const;  // host:port, or host when the port is unknown
};

struct EnsembleHealth {
  std::string source;  // the Exhibitor URL, or "four-letter words"
  std::vector<MemberHealth> members;

  // Every member serving and exactly one leader; a standalone server only as
  // the sole member.
  bool healthy() const;
  // One line: how many serve, who leads, and each member that does not serve.
  std::string summary() const;
};

// Probes every member in parallel: ruok, then srvr, both within `timeout` of
// the member's start. Never fails: an unreachable member is a down member.
EnsembleHealth probe_direct(const std::vector<Endpoint>& members,
                            std::chrono::milliseconds timeout);

// One request to Exhibitor's status API; `timeout` bounds connect and answer.
// The errors are get_exhibitor_status()'s.
Result<EnsembleHealth> probe_exhibitor(const ExhibitorEndpoint& endpoint,
                                       std::chrono::milliseconds timeout);

EnsembleHealth from_exhibitor(const std::string& url,
                              const std::vector<ExhibitorServerStatus>& servers);

using HealthProbe = std::function<Result<EnsembleHealth>()>;
using ProbeObserver = std::function<void(const Result<EnsembleHealth>&)>;

// Probes every `poll_interval` until the ensemble is healthy or `deadline`
// passes (a probe under way may overrun it by its own timeout). Returns the
// healthy state; at the deadline, the last state seen (not healthy: check
// healthy()) or, when the last probe failed, its error. Errors other than
// Unhealthy (a bad URL, an untrusted certificate, refused credentials) end the
// wait at once: waiting does not mend them. `observer` sees every probe.
Result<EnsembleHealth> wait_until_healthy(const HealthProbe& probe,
                                          std::chrono::steady_clock::time_point deadline,
                                          std::chrono::milliseconds poll_interval,
                                          const ProbeObserver& observer = {});

}  // namespace zktool::health
