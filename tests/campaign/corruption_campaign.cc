// corruption_campaign [--mutations N] [--seed S] [--data DIR] [--work DIR]
//
// Damages real backups and data directories at random and checks that zk-tool
// notices (README.md beside this file). Prints the seed, the detection rate
// per archive compression and for the data directory, why each accepted
// mutation is harmless, and every failure; exits 1 if there was any.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>

#include "../support/files.h"
#include "campaign.h"

namespace {

namespace fs = std::filesystem;
using zktool::testing::Tally;

int usage(const char* program) {
  std::fprintf(stderr, "usage: %s [--mutations N] [--seed S] [--data DIR] [--work DIR]\n",
               program);
  return 2;
}

size_t report(const std::string& what, const Tally& t) {
  std::printf("%-22s %5llu mutations, %5llu detected (%.1f%%), %llu accepted, %zu failures\n",
              what.c_str(), static_cast<unsigned long long>(t.mutations),
              static_cast<unsigned long long>(t.detected),
              t.mutations ? 100.0 * static_cast<double>(t.detected) /
                                static_cast<double>(t.mutations)
                          : 0.0,
              static_cast<unsigned long long>(t.mutations - t.detected - t.failures.size()),
              t.failures.size());
  for (const auto& [how, n] : t.detected_by) {
    std::printf("    detected %5llu  %s\n", static_cast<unsigned long long>(n), how.c_str());
  }
  for (const auto& [why, n] : t.harmless) {
    std::printf("    accepted %5llu  %s\n", static_cast<unsigned long long>(n), why.c_str());
  }
  for (const std::string& f : t.failures) std::printf("    FAILURE  %s\n", f.c_str());
  return t.failures.size();
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mutations = 1000;
  uint64_t seed = std::random_device{}();
  fs::path data = fs::path(ZKTOOL_TEST_DATA_DIR) / "zk38";
  fs::path work;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i + 1 == argc) return usage(argv[0]);
    const char* value = argv[++i];
    if (arg == "--mutations") {
      mutations = std::strtoull(value, nullptr, 10);
    } else if (arg == "--seed") {
      seed = std::strtoull(value, nullptr, 10);
    } else if (arg == "--data") {
      data = value;
    } else if (arg == "--work") {
      work = value;
    } else {
      return usage(argv[0]);
    }
  }
  // Every mutant is extracted and fsynced: memory is the fast place for that.
  fs::path parent = work.empty() ? (fs::is_directory("/dev/shm") ? fs::path("/dev/shm")
                                                                   : fs::temp_directory_path())
                                 : work;
  const zktool::testing::TempDir scratch("zk-tool-campaign-", parent);
  std::printf("corruption campaign: seed %llu, %llu mutations each, data %s\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(mutations),
              data.c_str());
  std::fflush(stdout);

  const zktool::snapshot::DataDirs dirs{data / "data" / "version-2", data / "logs" / "version-2"};
  std::mt19937_64 rng(seed);
  size_t failures = 0;
  int status = 0;
  for (auto compression : {zktool::archive::Compression::Zstd, zktool::archive::Compression::Gzip,
                           zktool::archive::Compression::None}) {
    auto tally =
        zktool::testing::archive_campaign(dirs, compression, mutations, rng, scratch.path());
    std::string what = "archive, " + std::string(zktool::archive::to_string(compression));
    if (!tally) {
      std::printf("%s: could not run: %s\n", what.c_str(), tally.error().message.c_str());
      status = 1;
      continue;
    }
    failures += report(what, *tally);
  }
  auto tally = zktool::testing::data_dir_campaign(dirs, mutations, rng, scratch.path());
  if (tally) {
    failures += report("data directory", *tally);
  } else {
    std::printf("data directory: could not run: %s\n", tally.error().message.c_str());
    status = 1;
  }
  if (failures > 0) std::printf("%zu failures (seed %llu)\n", failures,
                                static_cast<unsigned long long>(seed));
  return failures > 0 ? 1 : status;
}
