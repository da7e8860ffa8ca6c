// Internal to the archive library: overlaps making blocks of a stream with
// using them, on two threads. The calling thread produces (decompresses,
// reads) the next block while a worker consumes (hashes, writes) the last, so
// a pass costs about the slower of the two instead of their sum. At most
// kBlocks blocks of block_size bytes are in flight; blocks reach the consumer
// in order.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "util/result.h"

namespace zktool::archive {

class BlockPipeline {
 public:
  static constexpr size_t kBlocks = 4;

  // Fills `buffer` with up to `capacity` bytes; returns how many, 0 at the end.
  using Producer = std::function<Result<size_t>(char* buffer, size_t capacity)>;
  // Takes one block. Runs on the worker thread, never on two blocks at once.
  using Consumer = std::function<Status(const char* data, size_t size)>;

  explicit BlockPipeline(size_t block_size);
  ~BlockPipeline();
  BlockPipeline(BlockPipeline&&) noexcept;
  BlockPipeline& operator=(BlockPipeline&&) noexcept;

  // Runs until `produce` returns 0 or either side fails, and returns the
  // first failure; the other side stops at its next block. Every consume
  // call has returned when run() does.
  Status run(const Producer& produce, const Consumer& consume);

 private:
  struct Buffers;
  size_t block_size_;
  std::unique_ptr<Buffers> buffers_;  // allocated on the first run()
};

}  // namespace zktool::archive
