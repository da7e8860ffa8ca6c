// The fuzzing entry points, shared by the libFuzzer binaries (fuzz_main.cc,
// clang, ZKTOOL_FUZZ=ON) and the regression test that replays every saved
// input under GCC (regression_test.cc). Each takes any bytes, must never
// crash, leak or hit undefined behaviour, and aborts (a finding) when a
// parser's output breaks a property it promises, e.g. a round trip. Returns
// whether the parser accepted the input (the properties were then checked).
#pragma once

#include <string_view>
#include <vector>

namespace zktool::fuzz {

struct Target {
  std::string_view name;  // also the folder of its seeds and regressions
  bool (*run)(std::string_view input);
};

// snapshot, txn_log, manifest, exhibitor_status, archive.
const std::vector<Target>& targets();
const Target* find_target(std::string_view name);

}  // namespace zktool::fuzz
