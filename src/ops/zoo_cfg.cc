#include "ops/zoo_cfg.h"

#include <algorithm>
#include <charconv>

#include "util/key_value_file.h"

namespace zktool {

namespace fs = std::filesystem;

namespace {

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int> parse_port(std::string_view s) {
  auto port = parse_int(s);
  if (!port || *port < 1 || *port > 65535) return std::nullopt;
  return port;
}

// server.N=host:peerPort:electionPort[:role][;[clientHost:]clientPort]
Result<ZooCfgServer> parse_server(const std::string& key, const std::string& value,
                                  const fs::path& file) {
  auto bad = [&](const char* why) {
    return make_error(ErrorKind::Usage, file.string() + ": " + key + ": " + why);
  };
  auto id = parse_int(std::string_view(key).substr(7));
  if (!id) return bad("server id is not a number");
  ZooCfgServer server;
  server.id = *id;
  std::string_view v = value;
  auto semi = v.find(';');
  std::string_view addresses = v.substr(0, semi);
  if (addresses.starts_with('[')) {  // an IPv6 address: [2001:db8::1]:2888:3888
    const size_t close = addresses.find(']');
    if (close == std::string_view::npos) return bad("no ']' after an IPv6 address");
    server.host = std::string(addresses.substr(1, close - 1));
  } else {
    server.host = std::string(addresses.substr(0, addresses.find(':')));
  }
  if (server.host.empty()) return bad("no host");
  if (semi != std::string_view::npos) {
    std::string_view client = v.substr(semi + 1);
    auto port = parse_port(client.substr(client.rfind(':') == std::string_view::npos
                                             ? 0
                                             : client.rfind(':') + 1));
    if (!port) return bad("the client port is not a port number (1 to 65535)");
    server.client_port = *port;
  }
  return server;
}

Status read_lines(const fs::path& file, ZooCfg& cfg, bool servers_only) {
  auto lines = read_key_value_file(file, KeyValueSyntax::kJavaProperties);
  if (!lines) return lines.error();
  for (const KeyValue& kv : *lines) {
    const std::string& key = kv.key;
    const std::string& value = kv.value;
    if (key.rfind("server.", 0) == 0) {
      auto server = parse_server(key, value, file);
      if (!server) return server.error();
      // As in java.util.Properties, a key given again replaces the first.
      std::erase_if(cfg.servers, [&](const ZooCfgServer& s) { return s.id == server->id; });
      cfg.servers.push_back(server.value());
    } else if (servers_only) {
      continue;
    } else if (key == "dataDir") {
      cfg.data_dir = value;
    } else if (key == "dataLogDir") {
      cfg.data_log_dir = fs::path(value);
    } else if (key == "clientPort") {
      auto port = parse_port(value);
      if (!port) {
        return make_error(ErrorKind::Usage,
                          file.string() + ": clientPort is not a port number (1 to 65535)");
      }
      cfg.client_port = *port;
    } else if (key == "clientPortAddress") {
      cfg.client_address = value;
    } else if (key == "dynamicConfigFile") {
      fs::path dynamic = value;
      if (dynamic.is_relative()) dynamic = file.parent_path() / dynamic;
      if (Status s = read_lines(dynamic, cfg, true); !s) return s;
    }
  }
  return Ok{};
}

}  // namespace

Result<ZooCfg> read_zoo_cfg(const fs::path& file) {
  ZooCfg cfg;
  if (Status s = read_lines(file, cfg, false); !s) return s.error();
  if (cfg.data_dir.empty()) return make_error(ErrorKind::Usage, file.string() + ": no dataDir");
  for (ZooCfgServer& server : cfg.servers) {
    if (server.client_port == 0) server.client_port = cfg.client_port;
  }
  return cfg;
}

}  // namespace zktool
