// Helpers for the archive tests: temporary directories, files, external
// commands, and raw tar archives built with libarchive's writer for the
// malicious cases zk-tool's own writer can never produce.
#pragma once

#include <archive_entry.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "archive/compression.h"
#include "archive/manifest.h"
#include "../support/files.h"

namespace zktool::archive::testing {

namespace fs = std::filesystem;

using zktool::testing::read_file;
using zktool::testing::TempDir;
using zktool::testing::write_file;

// Deterministic bytes that do not compress.
std::string random_bytes(size_t size, uint32_t seed);
std::string sha256_hex(std::string_view data);
// Every path under `dir`, relative and sorted.
std::vector<std::string> tree(const fs::path& dir);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
CommandResult run(const std::string& command);

// A complete manifest of kind zookeeper with no files.
Manifest sample_manifest();
// sample_manifest() listing `files` (path, content) with their real sizes
// and digests, as JSON.
std::string manifest_json(const std::vector<std::pair<std::string, std::string>>& files);

struct RawEntry {
  std::string path{};
  std::string data{};
  unsigned type = AE_IFREG;  // AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFBLK, AE_IFIFO
  std::string symlink{};     // target, for AE_IFLNK
  std::string hardlink{};    // target; makes the entry a hard link
};
void write_raw_archive(const fs::path& path, const std::vector<RawEntry>& entries,
                       Compression compression = Compression::Gzip);
// A pax writer on a new file `path`, compressed as asked; the caller closes
// and frees it. write_raw_archive() and hand-made archives start here.
struct archive* open_raw_writer(const fs::path& path, Compression compression);

// A hand-made archive a reader must refuse, with the message it must give
// (after "<archive>: "); the parameter of the refusal tables.
struct CraftedArchive {
  const char* name;
  std::vector<RawEntry> entries;
  std::string message;
};

}  // namespace zktool::archive::testing
