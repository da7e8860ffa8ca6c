// `zk-tool status`: is the ensemble healthy? Asks Exhibitor's status API (the
// default, as on DC/OS masters) or each zoo.cfg member's four-letter words,
// prints a table or JSON, and exits 0 only when every member serves and
// exactly one leads; --wait polls until then or until its timeout.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cli/command.h"
#include "util/zxid.h"
#include "util/duration.h"
#include "health/ensemble_health.h"
#include "ops/zoo_cfg.h"

namespace zktool {

namespace {

namespace health = zktool::health;
using std::chrono::milliseconds;

constexpr milliseconds kPollInterval{1000};

void print_table(const health::EnsembleHealth& state) {
  using Row = std::array<std::string, 6>;
  std::vector<Row> rows{{"HOST", "PORT", "STATE", "MODE", "ZXID", "LEADER"}};
  for (const health::MemberHealth& m : state.members) {
    rows.push_back({m.host, m.client_port ? std::to_string(*m.client_port) : "-",
                    std::string(health::to_string(m.state)),
                    m.mode ? std::string(health::to_string(*m.mode)) : "-",
                    m.zxid ? zxid_hex(*m.zxid) : "-", m.is_leader ? "yes" : "no"});
  }
  std::array<size_t, 6> widths{};
  for (const Row& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const Row& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

void print_json(const health::EnsembleHealth& state) {
  nlohmann::ordered_json members = nlohmann::ordered_json::array();
  for (const health::MemberHealth& m : state.members) {
    nlohmann::ordered_json member;
    member["host"] = m.host;
    member["port"] = m.client_port ? nlohmann::ordered_json(*m.client_port) : nullptr;
    member["state"] = health::to_string(m.state);
    member["code"] = static_cast<int>(m.state);  // Exhibitor's code for the state
    member["mode"] = m.mode ? nlohmann::ordered_json(health::to_string(*m.mode)) : nullptr;
    member["zxid"] = m.zxid ? nlohmann::ordered_json(zxid_hex(*m.zxid)) : nullptr;
    member["leader"] = m.is_leader;
    if (!m.detail.empty()) member["detail"] = m.detail;
    members.push_back(std::move(member));
  }
  nlohmann::ordered_json out;
  out["source"] = state.source;
  out["healthy"] = state.healthy();
  out["summary"] = state.summary();
  out["members"] = std::move(members);
  print_json_result(out);
}

class StatusCommand : public Command {
 public:
  const char* name() const override { return "status"; }
  const char* example() const override {
    return "zk-tool status --wait 10m";
  }
  const char* summary() const override {
    return "Show whether the ZooKeeper ensemble is healthy (Exhibitor or four-letter words)";
  }

  void setup(CLI::App& app) override {
    app.add_flag("--json", json_, "Print one JSON object instead of the table");
    wait_option_ = app.add_option("--wait", wait_, "Poll until healthy, for at most DURATION")
                       ->expected(0, 1)
                       ->default_str("300s")
                       ->check(duration_validator());
    exhibitor_option_ = add_exhibitor_options(app, exhibitor_);
    app.add_option("--health", source_, "Where health comes from: exhibitor, or zk (4lw)")
        ->check(CLI::IsMember({"exhibitor", "zk"}));
    zoo_cfg_option_ =
        app.add_option("--zoo-cfg", zoo_cfg_, "ZooKeeper config whose servers --health zk probes");
    app.add_option("--timeout", timeout_, "Time each probe may take")
        ->default_str(timeout_)
        ->check(duration_validator());
    exhibitor_option_->excludes(zoo_cfg_option_);
    app.footer(
        "Healthy: every member serving and exactly one leader (or one standalone server).\n"
        "Exit 0 when healthy, 6 when not, when --wait runs out, or when the source does not\n"
        "answer; 9 when Exhibitor's TLS certificate is not trusted, 10 when it refuses the\n"
        "client certificate or token. --health zk probes each zoo.cfg server with ruok and\n"
        "srvr, which needs them in 4lw.commands.whitelist.");
  }

  Status run() override {
    auto probe = make_probe();
    if (!probe) return probe.error();
    bool wait = wait_option_->count() > 0;
    Result<health::EnsembleHealth> state = wait ? wait_until_healthy(*probe) : (*probe)();
    if (!state) return state.error();
    if (json_) {
      print_json(*state);
    } else {
      print_table(*state);
    }
    if (!state->healthy()) {
      std::string waited = wait ? " after waiting " + wait_ : "";
      return make_error(ErrorKind::Unhealthy, "ensemble not healthy" + waited + " (" +
                                                  state->source + "): " + state->summary());
    }
    if (!json_) std::printf("healthy: %s\n", state->summary().c_str());
    return Ok{};
  }

 private:
  Result<health::EnsembleHealth> wait_until_healthy(const health::HealthProbe& probe) const {
    auto deadline = std::chrono::steady_clock::now() + *parse_duration(wait_);
    std::string last_seen;
    auto log_change = [&](const Result<health::EnsembleHealth>& seen) {
      std::string now = seen ? seen->summary() : seen.error().message;
      if (now != last_seen) spdlog::info("waiting: {}", now);
      last_seen = std::move(now);
    };
    return health::wait_until_healthy(probe, deadline, kPollInterval, log_change);
  }

  Result<health::HealthProbe> make_probe() const {
    milliseconds timeout = *parse_duration(timeout_);
    if (source_ != "zk") {
      if (zoo_cfg_option_->count() > 0) {
        return make_error(ErrorKind::Usage, "--zoo-cfg is for --health zk");
      }
      auto endpoint = health::resolve_exhibitor(exhibitor_);
      if (!endpoint) return endpoint.error();
      return health::HealthProbe([endpoint = std::move(*endpoint), timeout] {
        return health::probe_exhibitor(endpoint, timeout);
      });
    }
    if (zoo_cfg_.empty()) return make_error(ErrorKind::Usage, "--health zk needs --zoo-cfg FILE");
    auto cfg = read_zoo_cfg(zoo_cfg_);
    if (!cfg) return cfg.error();
    std::vector<health::Endpoint> members;
    for (const ZooCfgServer& server : cfg->servers) {
      if (server.client_port == 0) {
        return make_error(ErrorKind::Usage, zoo_cfg_ + ": server." + std::to_string(server.id) +
                                                " has no client port (no clientPort, no ;port)");
      }
      members.push_back({server.host, server.client_port});
    }
    if (members.empty()) {  // standalone
      if (cfg->client_port == 0) return make_error(ErrorKind::Usage, zoo_cfg_ + ": no clientPort");
      members.push_back({"localhost", cfg->client_port});
    }
    return health::HealthProbe([members, timeout]() -> Result<health::EnsembleHealth> {
      return health::probe_direct(members, timeout);
    });
  }

  bool json_ = false;
  std::string wait_;
  health::ExhibitorOptions exhibitor_;
  std::string source_ = "exhibitor";
  std::string zoo_cfg_;
  std::string timeout_ = "5s";
  CLI::Option* wait_option_ = nullptr;
  CLI::Option* exhibitor_option_ = nullptr;
  CLI::Option* zoo_cfg_option_ = nullptr;
};

}  // namespace

std::unique_ptr<Command> make_status_command() { return std::make_unique<StatusCommand>(); }

}  // namespace zktool
