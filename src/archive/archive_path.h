// The rules every path inside an archive obeys, shared by the manifest, the
// writer and the reader so that what one accepts the others accept too.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace zktool::archive {

// The first entry of every zk-tool archive.
inline constexpr std::string_view kManifestName = "zk-tool-manifest.json";

// Top-level folders a payload may live under (the roots dcos-zk uses).
inline constexpr std::string_view kZooKeeperRoot = "zookeeper";
inline constexpr std::string_view kReplicatedLogRoot = "replicated_log";

// Why `path` may not name a payload file or folder, or std::nullopt if it
// may: it must be relative, made of printable ASCII, with no empty, "." or
// ".." component, and lie under one of the roots above (or be a root).
std::optional<std::string> unsafe_path_reason(std::string_view path);

// The first component of a path that passed unsafe_path_reason.
std::string_view path_root(std::string_view path);

// An entry name as tar tools write it, reduced to the form above: one
// leading "./" and trailing slashes are dropped ("./zookeeper/" -> "zookeeper",
// "./" -> "").
std::string_view normalize_entry_path(std::string_view raw);

// `text` in double quotes for a one-line message, whatever an archive put in
// it: unprintable bytes become '?' and anything past 200 bytes "...".
std::string quote_for_message(std::string_view text);

}  // namespace zktool::archive
