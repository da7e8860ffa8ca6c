// One libFuzzer binary per target: ZKTOOL_FUZZ_TARGET names it (fuzz_targets.h).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const zktool::fuzz::Target* target = zktool::fuzz::find_target(ZKTOOL_FUZZ_TARGET);
  if (target == nullptr) std::abort();
  target->run(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
