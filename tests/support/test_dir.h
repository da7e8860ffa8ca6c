// A scratch directory for one GoogleTest test: removed when the test passes,
// kept for a look when it has failed. Header-only, for test binaries (the
// rest of tests/support needs no GoogleTest).
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <string_view>
#include <utility>

#include "files.h"

namespace zktool::testing {

class TestDir : public TempDir {
 public:
  // `worth_a_look` follows the directory's name in the "kept" line.
  explicit TestDir(std::string_view prefix, std::string worth_a_look = {})
      : TempDir(prefix), worth_a_look_(std::move(worth_a_look)) {}
  ~TestDir() {
    if (::testing::Test::HasFailure()) std::cerr << "kept " << release() << worth_a_look_ << "\n";
  }

 private:
  std::string worth_a_look_;
};

}  // namespace zktool::testing
