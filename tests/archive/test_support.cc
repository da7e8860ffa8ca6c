#include "test_support.h"

#include <archive.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "util/sha256.h"
#include "../support/process.h"

namespace zktool::archive::testing {

std::string random_bytes(size_t size, uint32_t seed) {
  std::mt19937 engine(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(engine() & 0xff);
  return bytes;
}

std::string sha256_hex(std::string_view data) {
  Sha256 hash;
  hash.update(data.data(), data.size());
  return hash.finish_hex();
}

std::vector<std::string> tree(const fs::path& dir) {
  std::vector<std::string> paths;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    paths.push_back(fs::relative(entry.path(), dir).string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

CommandResult run(const std::string& command) {
  auto run = testsupport::run_captured({"/bin/sh", "-c", command + " 2>&1"});
  if (run.exit_code < 0) throw std::runtime_error(command + ": " + run.err);
  return {run.exit_code, std::move(run.out)};
}

Manifest sample_manifest() {
  Manifest m;
  m.created = std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + std::chrono::hours{12} +
              std::chrono::minutes{34} + std::chrono::seconds{56};
  m.host = "master-1";
  m.tool_version = "0.1.0";
  m.mode = Mode::Hot;
  m.source = {{"/var/lib/zookeeper/snapshot", "/var/lib/zookeeper/transactions"},
              "dcos-exhibitor.service"};
  m.summary = ZooKeeperSummary{0x100000002, 0x100000007, 12, 1, 2, -3141592653589793, ""};
  return m;
}

std::string manifest_json(const std::vector<std::pair<std::string, std::string>>& files) {
  Manifest m = sample_manifest();
  for (const auto& [path, content] : files) {
    m.files.push_back({path, content.size(), sha256_hex(content)});
  }
  return to_json(m);
}

struct archive* open_raw_writer(const fs::path& path, Compression compression) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (compression == Compression::Gzip) archive_write_add_filter_gzip(a);
  if (compression == Compression::Zstd) archive_write_add_filter_zstd(a);
  if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) {
    throw std::runtime_error("cannot create " + path.string());
  }
  return a;
}

void write_raw_archive(const fs::path& path, const std::vector<RawEntry>& entries,
                       Compression compression) {
  struct archive* a = open_raw_writer(path, compression);
  for (const RawEntry& raw : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, raw.path.c_str());
    archive_entry_set_filetype(entry, raw.type);
    archive_entry_set_perm(entry, raw.type == AE_IFDIR ? 0755 : 0644);
    if (!raw.symlink.empty()) archive_entry_set_symlink(entry, raw.symlink.c_str());
    if (!raw.hardlink.empty()) archive_entry_set_hardlink(entry, raw.hardlink.c_str());
    if (raw.type == AE_IFCHR || raw.type == AE_IFBLK) archive_entry_set_rdev(entry, makedev(1, 3));
    archive_entry_set_size(entry, static_cast<la_int64_t>(raw.data.size()));
    if (archive_write_header(a, entry) != ARCHIVE_OK) {
      throw std::runtime_error(std::string("archive_write_header: ") + archive_error_string(a));
    }
    if (!raw.data.empty()) archive_write_data(a, raw.data.data(), raw.data.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

}  // namespace zktool::archive::testing
