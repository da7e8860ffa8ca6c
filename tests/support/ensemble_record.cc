#include "support/ensemble_record.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

namespace zktool::testsupport {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json config_to_json(const EnsembleConfig& c) {
  return {{"base_dir", c.base_dir.string()},
          {"nodes", c.nodes},
          {"base_port", c.base_port},
          {"tick_time_ms", c.tick_time_ms},
          {"init_limit_ticks", c.init_limit_ticks},
          {"sync_limit_ticks", c.sync_limit_ticks},
          {"snap_count", c.snap_count},
          {"pre_alloc_size_kb", c.pre_alloc_size_kb},
          {"autopurge_snap_retain_count", c.autopurge_snap_retain_count},
          {"autopurge_purge_interval_hours", c.autopurge_purge_interval_hours},
          {"separate_log_dir", c.separate_log_dir},
          {"extended_types_enabled", c.extended_types_enabled},
          {"snapshot_compression", c.snapshot_compression},
          {"digest_enabled", c.digest_enabled},
          {"container_check_interval_ms", c.container_check_interval_ms},
          {"jvm_heap_mb", c.jvm_heap_mb},
          {"extra_jvm_options", c.extra_jvm_options}};
}

EnsembleConfig config_from_json(const json& j) {
  EnsembleConfig c;
  c.base_dir = j.at("base_dir").get<std::string>();
  j.at("nodes").get_to(c.nodes);
  j.at("base_port").get_to(c.base_port);
  j.at("tick_time_ms").get_to(c.tick_time_ms);
  j.at("init_limit_ticks").get_to(c.init_limit_ticks);
  j.at("sync_limit_ticks").get_to(c.sync_limit_ticks);
  j.at("snap_count").get_to(c.snap_count);
  j.at("pre_alloc_size_kb").get_to(c.pre_alloc_size_kb);
  j.at("autopurge_snap_retain_count").get_to(c.autopurge_snap_retain_count);
  j.at("autopurge_purge_interval_hours").get_to(c.autopurge_purge_interval_hours);
  j.at("separate_log_dir").get_to(c.separate_log_dir);
  j.at("extended_types_enabled").get_to(c.extended_types_enabled);
  j.at("snapshot_compression").get_to(c.snapshot_compression);
  j.at("digest_enabled").get_to(c.digest_enabled);
  j.at("container_check_interval_ms").get_to(c.container_check_interval_ms);
  j.at("jvm_heap_mb").get_to(c.jvm_heap_mb);
  j.at("extra_jvm_options").get_to(c.extra_jvm_options);
  return c;
}

}  // namespace

fs::path ensemble_record_path(const fs::path& base_dir) { return base_dir / "ensemble.json"; }

Status save_ensemble_record(const EnsembleRecord& record) {
  json pids = json::array();
  for (pid_t pid : record.pids) pids.push_back(pid);
  json doc = {{"config", config_to_json(record.layout.config)}, {"pids", pids}};

  fs::path path = ensemble_record_path(record.layout.config.base_dir);
  fs::path part = path;
  part += ".part";
  {
    std::ofstream out(part, std::ios::trunc);
    out << doc.dump(2) << "\n";
    out.close();
    if (!out) return make_error(ErrorKind::Io, part.string() + ": cannot write");
  }
  std::error_code ec;
  fs::rename(part, path, ec);
  if (ec) return make_error(ErrorKind::Io, path.string() + ": " + ec.message());
  return Ok{};
}

Result<EnsembleRecord> load_ensemble_record(const fs::path& base_dir) {
  fs::path path = ensemble_record_path(base_dir);
  std::ifstream in(path);
  if (!in) return make_error(ErrorKind::Io, path.string() + ": no ensemble recorded here");
  EnsembleRecord record;
  try {
    json doc = json::parse(in);
    auto planned = plan_ensemble(config_from_json(doc.at("config")));
    if (!planned)
      return make_error(ErrorKind::Corrupt, path.string() + ": " + planned.error().message);
    record.layout = std::move(*planned);
    for (const auto& pid : doc.at("pids")) record.pids.push_back(pid.get<pid_t>());
  } catch (const json::exception& e) {
    return make_error(ErrorKind::Corrupt, path.string() + ": " + e.what());
  }
  if (record.pids.size() != record.layout.nodes.size()) {
    return make_error(ErrorKind::Corrupt,
                      path.string() + ": " + std::to_string(record.pids.size()) + " pids for " +
                          std::to_string(record.layout.nodes.size()) + " nodes");
  }
  return record;
}

}  // namespace zktool::testsupport
