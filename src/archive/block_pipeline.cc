#include "archive/block_pipeline.h"

#include <array>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace zktool::archive {

struct BlockPipeline::Buffers {
  std::array<std::vector<char>, kBlocks> data;
  std::array<size_t, kBlocks> size{};
};

BlockPipeline::BlockPipeline(size_t block_size) : block_size_(block_size) {}
BlockPipeline::~BlockPipeline() = default;
BlockPipeline::BlockPipeline(BlockPipeline&&) noexcept = default;
BlockPipeline& BlockPipeline::operator=(BlockPipeline&&) noexcept = default;

Status BlockPipeline::run(const Producer& produce, const Consumer& consume) {
  if (!buffers_) {
    buffers_ = std::make_unique<Buffers>();
    for (auto& block : buffers_->data) block.resize(block_size_);
  }
  Buffers& b = *buffers_;

  // Blocks [head, head + filled) modulo kBlocks are ready or being consumed;
  // the consumer frees its block only when done with it.
  std::mutex mutex;
  std::condition_variable changed;
  size_t head = 0, filled = 0;
  bool produced_all = false, stop = false;
  std::optional<Error> producer_error, consumer_error;

  std::thread worker([&] {
    std::unique_lock lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return filled > 0 || produced_all || stop; });
      if (stop || filled == 0) return;  // told to stop, or nothing left
      const size_t slot = head;
      lock.unlock();
      Status s = consume(b.data[slot].data(), b.size[slot]);
      lock.lock();
      if (!s) {
        consumer_error = s.error();
        stop = true;
        changed.notify_all();
        return;
      }
      head = (head + 1) % kBlocks;
      --filled;
      changed.notify_all();
    }
  });

  {
    std::unique_lock lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return filled < kBlocks || stop; });
      if (stop) break;
      const size_t slot = (head + filled) % kBlocks;
      lock.unlock();
      Result<size_t> got = produce(b.data[slot].data(), block_size_);
      lock.lock();
      if (!got) {
        producer_error = got.error();
        stop = true;
      } else if (*got == 0) {
        produced_all = true;
      } else {
        b.size[slot] = *got;
        ++filled;
      }
      changed.notify_all();
      if (stop || produced_all) break;
    }
  }
  worker.join();
  if (producer_error) return *producer_error;
  if (consumer_error) return *consumer_error;
  return Ok{};
}

}  // namespace zktool::archive
