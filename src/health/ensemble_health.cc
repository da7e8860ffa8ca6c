#include "health/ensemble_health.h"

#include <algorithm>
#include <thread>

namespace zktool::health {

namespace {

using Clock = std::chrono::steady_clock;

MemberHealth probe_member(const Endpoint& endpoint, std::chrono::milliseconds timeout) {
  MemberHealth member;
  member.host = endpoint.host;
  member.client_port = endpoint.client_port;
  auto deadline = Clock::now() + timeout;
  if (Status alive = ruok(endpoint.host, endpoint.client_port, timeout); !alive) {
    member.detail = alive.error().message;
    return member;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  auto info =
      srvr(endpoint.host, endpoint.client_port, std::max(left, std::chrono::milliseconds(1)));
  if (!info) {
    member.detail = info.error().message;
    return member;
  }
  if (!info->serving) {
    member.state = MemberState::kNotServing;
    return member;
  }
  member.state = MemberState::kServing;
  member.mode = info->mode;
  member.zxid = info->zxid;
  member.is_leader = info->leads();
  return member;
}

MemberState state_for(ExhibitorCode code) {
  switch (code) {
    case ExhibitorCode::kLatent: return MemberState::kLatent;
    case ExhibitorCode::kDown: return MemberState::kDown;
    case ExhibitorCode::kNotServing: return MemberState::kNotServing;
    case ExhibitorCode::kServing: return MemberState::kServing;
  }
  return MemberState::kDown;
}

}  // namespace

std::string_view to_string(MemberState state) {
  switch (state) {
    case MemberState::kLatent: return "latent";
    case MemberState::kDown: return "down";
    case MemberState::kNotServing: return "not serving";
    case MemberState::kServing: return "serving";
  }
  return "unknown";
}

std::string MemberHealth::name() const {
  return client_port ? host_port(host, *client_port) : host;
}

bool EnsembleHealth::healthy() const {
  if (members.empty()) return false;
  size_t leaders = 0;
  for (const MemberHealth& member : members) {
    if (member.state != MemberState::kServing) return false;
    if (member.mode == ServerMode::kStandalone && members.size() != 1) return false;
    leaders += member.is_leader ? 1 : 0;
  }
  return leaders == 1;
}

std::string EnsembleHealth::summary() const {
  if (members.empty()) return "no members";
  size_t serving = 0;
  std::vector<std::string> leaders;
  std::string trouble;
  for (const MemberHealth& member : members) {
    if (member.state == MemberState::kServing) {
      ++serving;
    } else {
      trouble += "; " + member.name() + " " + std::string(to_string(member.state));
      if (!member.detail.empty()) trouble += " (" + member.detail + ")";
    }
    if (member.is_leader) leaders.push_back(member.name());
    if (member.mode == ServerMode::kStandalone && members.size() != 1) {
      trouble += "; " + member.name() + " runs standalone in an ensemble";
    }
  }
  std::string line =
      std::to_string(serving) + " of " + std::to_string(members.size()) + " members serving, ";
  if (leaders.empty()) {
    line += "no leader";
  } else if (leaders.size() == 1) {
    line += "leader " + leaders.front();
  } else {
    line += std::to_string(leaders.size()) + " leaders (";
    for (size_t i = 0; i < leaders.size(); ++i) line += (i > 0 ? ", " : "") + leaders[i];
    line += ")";
  }
  return line + trouble;
}

EnsembleHealth probe_direct(const std::vector<Endpoint>& members,
                            std::chrono::milliseconds timeout) {
  EnsembleHealth health;
  health.source = "four-letter words";
  health.members.resize(members.size());
  std::vector<std::jthread> probes;
  probes.reserve(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    probes.emplace_back([&, i] { health.members[i] = probe_member(members[i], timeout); });
  }
  probes.clear();  // joins
  return health;
}

EnsembleHealth from_exhibitor(const std::string& url,
                              const std::vector<ExhibitorServerStatus>& servers) {
  EnsembleHealth health;
  health.source = without_credentials(url);
  for (const ExhibitorServerStatus& server : servers) {
    MemberHealth member;
    member.host = server.hostname;
    member.state = state_for(server.code);
    member.is_leader = server.is_leader;
    health.members.push_back(std::move(member));
  }
  return health;
}

Result<EnsembleHealth> probe_exhibitor(const ExhibitorEndpoint& endpoint,
                                       std::chrono::milliseconds timeout) {
  auto servers = get_exhibitor_status(endpoint, HttpLimits{timeout, timeout});
  if (!servers) return servers.error();
  return from_exhibitor(endpoint.url, *servers);
}

Result<EnsembleHealth> wait_until_healthy(const HealthProbe& probe, Clock::time_point deadline,
                                          std::chrono::milliseconds poll_interval,
                                          const ProbeObserver& observer) {
  for (;;) {
    Result<EnsembleHealth> state = probe();
    if (observer) observer(state);
    if (state ? state->healthy() : state.error().kind != ErrorKind::Unhealthy) return state;
    auto now = Clock::now();
    if (now >= deadline) return state;
    std::this_thread::sleep_for(std::min<Clock::duration>(poll_interval, deadline - now));
  }
}

}  // namespace zktool::health
