#include <map>
#include <string>

#include "../support/files.h"
#include "backup_archive.h"
#include "campaign.h"
#include "mutator.h"
#include "ops/zk_archive.h"

namespace zktool::testing {

namespace {

namespace fs = std::filesystem;

using Files = std::map<std::string, std::string>;  // relative path -> contents

Files files_under(const fs::path& root) {
  Files files;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = read_file(e.path());
  }
  return files;
}

// Names the part of an uncompressed tar that holds `offset`: an entry's
// header, data or padding, or the end-of-archive blocks. Compressed
// archives have no such map: their bytes are all codec stream.
std::string tar_region(std::string_view tar, size_t offset) {
  size_t pos = 0;
  while (pos + 512 <= tar.size()) {
    std::string_view header = tar.substr(pos, 512);
    if (header.find_first_not_of('\0') == std::string_view::npos) break;
    std::string name(header.substr(0, 100).substr(0, header.substr(0, 100).find('\0')));
    if (header[156] == 'x') name = "a pax extended header";
    size_t size = std::stoul(std::string(header.substr(124, 12)), nullptr, 8);
    size_t data_end = pos + 512 + size, next = pos + 512 + (size + 511) / 512 * 512;
    if (offset < pos + 512) return "the tar header of " + name;
    if (offset < data_end) return "the data of " + name;
    if (offset < next) return "the tar padding after " + name;
    pos = next;
  }
  return offset < tar.size() ? "the end-of-archive blocks" : "past the end";
}

// The manifest fields that differ: no checksum covers the manifest, so only
// what verification compares (files, summary) is protected.
std::string changed_fields(const archive::Manifest& a, const archive::Manifest& b) {
  std::string fields;
  auto note = [&](bool same, const char* field) {
    if (!same) fields += (fields.empty() ? "" : ", ") + std::string(field);
  };
  note(a.created == b.created, "created");
  note(a.host == b.host, "host");
  note(a.tool_version == b.tool_version, "tool_version");
  note(a.mode == b.mode, "mode");
  note(a.source == b.source, "source");
  note(a.files == b.files, "files");
  note(a.summary == b.summary, "summary");
  return fields;
}

}  // namespace

Result<Tally> archive_campaign(const snapshot::DataDirs& dirs, archive::Compression compression,
                               uint64_t mutations, std::mt19937_64& rng, const fs::path& work) {
  const std::string name(archive::to_string(compression));
  const fs::path original = work / ("original." + name), mutant = work / ("mutant." + name);
  fs::remove(original);
  auto written = write_backup_archive(dirs, original, compression);
  if (!written) return written.error();
  auto baseline = stage_and_verify(original, work);
  if (!baseline) return baseline.error();
  const Files original_files = files_under(baseline->dir.path());
  const std::string bytes = read_file(original);

  Tally tally;
  for (uint64_t i = 0; i < mutations; ++i) {
    Mutation m;
    write_file(mutant, mutate(bytes, rng, m));
    ++tally.mutations;
    auto staged = stage_and_verify(mutant, work);
    if (!staged) {
      ++tally.detected;
      continue;
    }
    std::string where = compression == archive::Compression::None
                            ? tar_region(bytes, m.offset)
                            : "the " + name + " stream";
    if (files_under(staged->dir.path()) != original_files) {
      tally.failures.push_back(name + ": " + m.describe() + " in " + where +
                               " was accepted and changed the restored files");
      continue;
    }
    std::string why = std::string(to_string(m.kind)) + " in " + where;
    if (staged->manifest != baseline->manifest) {
      why += staged->manifest && baseline->manifest
                 ? " (manifest " + changed_fields(*staged->manifest, *baseline->manifest) +
                       " changed, files identical)"
                 : " (manifest lost, files identical)";
    }
    ++tally.harmless[why];
  }
  return tally;
}

}  // namespace zktool::testing
