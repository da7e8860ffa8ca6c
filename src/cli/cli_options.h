// Every option declaration the commands share, in one place: the procedures
// below (node.h, service_options.h, duration.h, the snapshot reader) take
// plain structs and know nothing of CLI11.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "archive/encryption.h"
#include "health/exhibitor_access.h"
#include "ops/node.h"
#include "ops/service_options.h"
#include "storage/aws_config.h"
#include "snapshot/snapshot_file.h"

namespace zktool {

// --data-dir, --data-log-dir, --zoo-cfg, the service options, --host,
// --client-port, --health and the Exhibitor options.
void add_node_options(CLI::App& app, NodeOptions& options);

// --exhibitor-url, --exhibitor-ca, --exhibitor-cert, --exhibitor-key and
// --exhibitor-token-file; returns --exhibitor-url's option.
CLI::Option* add_exhibitor_options(CLI::App& app, health::ExhibitorOptions& options);

// --unit (described by `unit_help`), --user, --bus, --systemd-address,
// --stop-timeout and --start-timeout.
void add_service_options(CLI::App& app, ServiceOptions& options, const std::string& unit_help);

// --max-expansion, for every command that reads an archive's snapshots: how
// far a compressed snapshot may decompress before it is refused as a bomb.
void add_snapshot_read_options(CLI::App& app, snapshot::SnapshotReadOptions& options);

// --encrypt-key-file: the key `zk-tool keygen` wrote, which encrypts what a
// command writes or opens what it reads. Read in run(), never at parse time.
struct KeyFileOption {
  std::optional<std::filesystem::path> path;
  // The key, or nullopt when no file was given.
  Result<std::optional<archive::ArchiveKey>> load() const;
};
void add_key_file_option(CLI::App& app, KeyFileOption& option, const std::string& help);

// --s3-endpoint, --s3-region, --s3-path-style and --aws-profile, for every
// command that takes an s3:// archive; unset ones fall back as the AWS tools
// do (storage/aws_config.h).
void add_s3_options(CLI::App& app, storage::AwsSettings& settings);

// A CLI11 check that admits exactly what parse_duration() accepts.
CLI::Validator duration_validator();

}  // namespace zktool
