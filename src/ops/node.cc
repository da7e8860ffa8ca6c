#include "ops/node.h"

#include <algorithm>
#include <thread>

#include "util/file_ops.h"
#include "ops/zoo_cfg.h"

namespace zktool {

namespace fs = std::filesystem;

namespace {

// A restore or rollback killed between moving a version-2 aside and renaming
// its replacement in leaves that version-2 missing, a pre-restore copy beside
// it; the directories still resolve, so that the next run can complete it.
std::optional<snapshot::DataDirs> interrupted_swap(const fs::path& dir,
                                                   const std::optional<fs::path>& log_dir) {
  std::error_code ec;
  bool dcos = fs::is_directory(dir / "snapshot", ec) && fs::is_directory(dir / "transactions", ec);
  snapshot::DataDirs dirs{dcos ? dir / "snapshot" / "version-2" : dir / "version-2",
                          dcos ? dir / "transactions" / "version-2" : dir / "version-2"};
  if (log_dir) {
    dirs.log_dir = log_dir->filename() == "version-2" ? *log_dir : *log_dir / "version-2";
  }
  for (const fs::path& live : {dirs.snap_dir, dirs.log_dir}) {
    if (fs::is_directory(live, ec)) continue;
    auto entries = list_directory(live.parent_path());
    if (!entries) return std::nullopt;
    const bool kept = std::any_of(entries->begin(), entries->end(), [](const fs::path& e) {
      return e.filename().string().starts_with("version-2.pre-restore-");
    });
    if (!kept) return std::nullopt;
  }
  return dirs;
}

bool is_wildcard_address(const std::string& address) {
  return address == "0.0.0.0" || address == "::" || address == "[::]";
}

}  // namespace

Result<Node> resolve_node(const NodeOptions& o) {
  Node node;
  std::optional<fs::path> dir = o.data_dir;
  std::optional<fs::path> log_dir = o.data_log_dir;
  int client_port = 2181;
  std::string host = "127.0.0.1";
  if (o.zoo_cfg) {
    auto cfg = read_zoo_cfg(*o.zoo_cfg);
    if (!cfg) return cfg.error();
    if (!dir) dir = cfg->data_dir;
    if (!log_dir) log_dir = cfg->data_log_dir;
    if (cfg->client_port != 0) client_port = cfg->client_port;
    if (cfg->client_address && !is_wildcard_address(*cfg->client_address)) {
      host = *cfg->client_address;
    }
    for (const ZooCfgServer& s : cfg->servers) node.members.push_back({s.host, s.client_port});
  }
  if (o.client_port) client_port = *o.client_port;
  const fs::path root = dir.value_or(kDcosZooKeeperDir);
  auto dirs = snapshot::resolve_data_dirs(root, log_dir);
  auto interrupted = dirs ? std::nullopt : interrupted_swap(root, log_dir);
  if (!dirs && !interrupted) return dirs.error();
  node.dirs = dirs ? *dirs : *interrupted;
  node.data_dir = node.dirs.snap_dir.parent_path();
  node.data_log_dir = node.dirs.log_dir.parent_path();
  ServiceTarget service = resolve_service(o.service);
  node.unit = service.unit.value_or(kDcosUnit);
  node.bus = service.bus;
  node.stop_timeout = service.stop_timeout;
  node.start_timeout = service.start_timeout;
  node.local = {o.host.value_or(host), client_port};
  if (o.health == "zk" && node.members.empty()) {
    return make_error(ErrorKind::Usage, "--health zk needs the members: give --zoo-cfg");
  }
  node.health = o.health;
  if (o.health == "exhibitor") {
    auto exhibitor = health::resolve_exhibitor(o.exhibitor);
    if (!exhibitor) return exhibitor.error();
    node.exhibitor = std::move(*exhibitor);
  }
  return node;
}

Result<health::EnsembleHealth> Node::probe(std::chrono::milliseconds timeout) const {
  if (health == "zk") return health::probe_direct(members, timeout);
  return health::probe_exhibitor(exhibitor, timeout);
}

health::MemberHealth Node::probe_self(std::chrono::milliseconds timeout) const {
  health::EnsembleHealth self = health::probe_direct({local}, timeout);
  return self.members.front();
}

Status Node::stop(service::ServiceManager& systemd) const {
  using Clock = std::chrono::steady_clock;
  auto stopped = systemd.stop_unit(unit, Clock::now() + stop_timeout);
  if (!stopped) return stopped.error();
  auto deadline = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    health::MemberHealth self = probe_self(std::chrono::milliseconds(500));
    if (self.state == health::MemberState::kDown) return Ok{};
    if (Clock::now() > deadline) {
      return make_error(ErrorKind::Unsafe, unit + " is stopped but " + self.name() +
                                               " still answers: another ZooKeeper serves there");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace zktool
