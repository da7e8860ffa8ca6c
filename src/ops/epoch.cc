#include "ops/epoch.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "util/file_ops.h"
#include "snapshot/data_dir.h"

namespace zktool {

namespace fs = std::filesystem;

int64_t round_of(std::string_view identity) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : identity) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<int64_t>(hash & kRoundMask);
}

bool in_round(int64_t epoch, int64_t round) {
  return generation_of(epoch) > 0 && ((epoch >> kRoundShift) & kRoundMask) == round;
}

Result<int64_t> epoch_for_round(int64_t round, const std::vector<int64_t>& observed) {
  int64_t highest_generation = 0;
  for (int64_t epoch : observed) {
    if (in_round(epoch, round)) {
      return (generation_of(epoch) << kGenerationShift) | (round << kRoundShift);
    }
    highest_generation = std::max(highest_generation, generation_of(epoch));
  }
  int64_t generation = highest_generation + 1;
  // Epochs fill the high 32 bits of a zxid, which is a signed long.
  if (generation >= (int64_t{1} << (31 - kGenerationShift))) {
    return make_error(ErrorKind::Unsafe, "epoch generation " + std::to_string(highest_generation) +
                                             " leaves no room for another restore");
  }
  return (generation << kGenerationShift) | (round << kRoundShift);
}

std::optional<int64_t> highest_epoch_in(const fs::path& snap_dir) {
  std::optional<int64_t> highest;
  for (const char* name : snapshot::kEpochFiles) {
    std::ifstream in(snap_dir / name);
    int64_t value = 0;
    if (in >> value) highest = std::max(highest.value_or(value), value);
  }
  return highest;
}

Status write_epochs(const fs::path& snap_dir, int64_t epoch) {
  // Held once, never followed if it is a link: the directory may be one its
  // owner can swap (rollback writes into a pre-restore copy).
  UniqueFd dir(::open(snap_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid() && errno == ELOOP) {
    return make_error(ErrorKind::Unsafe, snap_dir.string() + " is a symbolic link; not followed");
  }
  if (!dir.valid()) {
    return make_error(ErrorKind::Io, snap_dir.string() + ": " + std::strerror(errno));
  }
  for (const char* name : snapshot::kEpochFiles) {
    if (Status s = write_file_atomically_at(dir.get(), snap_dir, name, std::to_string(epoch));
        !s) {
      return s;
    }
  }
  return Ok{};
}

}  // namespace zktool
