#include "cli/cli_options.h"

#include "util/duration.h"

namespace zktool {

Result<std::optional<archive::ArchiveKey>> KeyFileOption::load() const {
  if (!path) return std::optional<archive::ArchiveKey>();
  auto key = archive::ArchiveKey::read_file(*path);
  if (!key) return key.error();
  return std::optional<archive::ArchiveKey>(std::move(key.value()));
}

void add_key_file_option(CLI::App& app, KeyFileOption& option, const std::string& help) {
  app.add_option("--encrypt-key-file", option.path, help);
}

void add_s3_options(CLI::App& app, storage::AwsSettings& s) {
  app.add_option("--s3-endpoint", s.endpoint,
                 "For s3:// archives: the store's URL (default: AWS_ENDPOINT_URL_S3, "
                 "AWS_ENDPOINT_URL, the profile's endpoint_url, else AWS S3)");
  app.add_option("--s3-region", s.region,
                 "For s3:// archives: the region requests are signed for (default: AWS_REGION, "
                 "AWS_DEFAULT_REGION, the profile's, else us-east-1)");
  app.add_flag("--s3-path-style", s.path_style,
               "Address buckets as http://host/bucket (automatic for an IP address or localhost)");
  app.add_option("--aws-profile", s.profile,
                 "The profile of the AWS shared config and credentials files (default: "
                 "AWS_PROFILE, else default)");
}

void add_service_options(CLI::App& app, ServiceOptions& o, const std::string& unit_help) {
  app.add_option("--unit", o.unit, o.unit ? unit_help + " (default " + *o.unit + ")" : unit_help);
  app.add_flag("--user", o.user_bus, "Talk to the calling user's systemd, not the system's");
  app.add_option("--bus", o.bus, "Reach systemd through the D-Bus daemon at this address");
  app.add_option("--systemd-address", o.systemd_address,
                 "Reach systemd through its private socket (unix:path=...)");
  app.add_option("--stop-timeout", o.stop_timeout_s, "Seconds to wait for the unit to stop")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--start-timeout", o.start_timeout_s, "Seconds to wait for the unit to start")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void add_node_options(CLI::App& app, NodeOptions& o) {
  app.add_option("--data-dir", o.data_dir,
                 std::string("ZooKeeper dataDir, or a DC/OS ZooKeeper directory holding snapshot/ "
                             "and transactions/ (default ") +
                     kDcosZooKeeperDir + ")");
  app.add_option("--data-log-dir", o.data_log_dir, "ZooKeeper dataLogDir, when logs live apart");
  app.add_option("--zoo-cfg", o.zoo_cfg,
                 "Take dataDir, dataLogDir, the client port and the members from this zoo.cfg");
  add_service_options(app, o.service, "The systemd unit that runs this node's ZooKeeper");
  app.add_option("--host", o.host,
                 "Where this node's client port listens (default: zoo.cfg's clientPortAddress, "
                 "else 127.0.0.1)");
  app.add_option("--client-port", o.client_port, "This node's client port (default: zoo.cfg's, else 2181)");
  app.add_option("--health", o.health, "Ensemble health from Exhibitor, or zk: four-letter words")
      ->check(CLI::IsMember({"exhibitor", "zk"}))
      ->capture_default_str();
  add_exhibitor_options(app, o.exhibitor);
}

CLI::Option* add_exhibitor_options(CLI::App& app, health::ExhibitorOptions& o) {
  CLI::Option* url =
      app.add_option("--exhibitor-url", o.url,
                     "Exhibitor's cluster status URL (on DC/OS through Admin Router: "
                     "https://MASTER/exhibitor/exhibitor/v1/cluster/status)")
          ->capture_default_str();
  app.add_option("--exhibitor-ca", o.ca_file,
                 "Trust this CA bundle (PEM) for an https Exhibitor URL instead of the system's "
                 "(DC/OS: /run/dcos/pki/CA/ca-bundle.crt)");
  // Both or neither: resolve_exhibitor() says so, for the config file's keys too.
  app.add_option("--exhibitor-cert", o.cert_file,
                 "Present this client certificate (PEM) to Exhibitor, with --exhibitor-key");
  app.add_option("--exhibitor-key", o.key_file, "The client certificate's private key (PEM)");
  app.add_option("--exhibitor-token-file", o.token_file,
                 "Send the token in this file as \"Authorization: token=...\" (https only)");
  return url;
}

void add_snapshot_read_options(CLI::App& app, snapshot::SnapshotReadOptions& options) {
  app.add_option("--max-expansion", options.max_expansion,
                 "A compressed snapshot may decompress to at most this many times its size (and "
                 "always to " + std::to_string(snapshot::kMinDecompressionLimit >> 20) +
                     " MiB); more is refused as a decompression bomb")
      ->default_val(options.max_expansion)
      ->check(CLI::PositiveNumber);
}

CLI::Validator duration_validator() {
  return CLI::Validator(
      [](const std::string& value) {
        return parse_duration(value)
                   ? std::string()
                   : "\"" + value + "\" is not a duration like 500ms, 90s, 5m, 36h, 7d, 2w";
      },
      "DURATION");
}

}  // namespace zktool
