// The parts of a ZooKeeper configuration file (zoo.cfg) zk-tool uses: where the
// data lives, the client port, and the ensemble members.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace zktool {

struct ZooCfgServer {
  int id = 0;
  std::string host;
  int client_port = 0;  // from `;host:port` on the server line, else the global clientPort
};

struct ZooCfg {
  std::filesystem::path data_dir;
  std::optional<std::filesystem::path> data_log_dir;
  int client_port = 0;
  std::optional<std::string> client_address;  // clientPortAddress: what the client port binds
  std::vector<ZooCfgServer> servers;  // empty for a standalone server
};

// Reads `file` as ZooKeeper does (Java properties: key_value_file.h). A
// missing dataDir, or a port that is not one, is ErrorKind::Usage.
// A dynamic config file (dynamicConfigFile=) is read for its server lines.
Result<ZooCfg> read_zoo_cfg(const std::filesystem::path& file);

}  // namespace zktool
