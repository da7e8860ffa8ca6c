#include "epoch.h"

#include <fstream>

#include "file_ops.h"

namespace zktool {

namespace fs = std::filesystem;

Result<int64_t> next_generation_epoch(int64_t highest_epoch) {
  int64_t epoch = (generation_of(highest_epoch) + 1) << kGenerationShift;
  // Epochs fill the high 32 bits of a zxid, which is a signed long.
  if (epoch >= (int64_t{1} << 31)) {
    return make_error(ErrorKind::Unsafe, "the epoch " + std::to_string(highest_epoch) +
                                             " leaves no room for another restore generation");
  }
  return epoch;
}

std::optional<int64_t> highest_epoch_in(const fs::path& snap_dir) {
  std::optional<int64_t> highest;
  for (const char* name : {"acceptedEpoch", "currentEpoch"}) {
    std::ifstream in(snap_dir / name);
    int64_t value = 0;
    if (in >> value) highest = std::max(highest.value_or(value), value);
  }
  return highest;
}

Status write_epochs(const fs::path& snap_dir, int64_t epoch) {
  for (const char* name : {"acceptedEpoch", "currentEpoch"}) {
    if (Status s = write_file_atomically(snap_dir / name, std::to_string(epoch)); !s) return s;
  }
  return Ok{};
}

}  // namespace zktool
