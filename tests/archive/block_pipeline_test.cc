#include "archive/block_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

namespace zktool::archive {
namespace {

constexpr size_t kBlockSize = 64;

// Produces `blocks` blocks, block i filled with the byte i % 251 and i % 7 + 1
// bytes long, so order and lengths are both visible to the consumer.
struct NumberedBlocks {
  size_t blocks;
  size_t produced = 0;
  Result<size_t> operator()(char* buffer, size_t capacity) {
    if (produced == blocks) return size_t{0};
    const size_t length = std::min(capacity, produced % 7 + 1);
    std::memset(buffer, static_cast<int>(produced % 251), length);
    ++produced;
    return length;
  }
};

TEST(BlockPipeline, DeliversEveryBlockInOrderWithItsLength) {
  BlockPipeline pipeline(kBlockSize);
  NumberedBlocks source{1000};
  size_t consumed = 0;
  std::string mismatch;
  Status s = pipeline.run(std::ref(source), [&](const char* data, size_t size) -> Status {
    const std::string expected(consumed % 7 + 1, static_cast<char>(consumed % 251));
    if (mismatch.empty() && std::string(data, size) != expected) {
      mismatch = "block " + std::to_string(consumed);
    }
    ++consumed;
    return Ok{};
  });
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(consumed, 1000u);
  EXPECT_EQ(mismatch, "");
}

TEST(BlockPipeline, ConsumesOnAnotherThread) {
  BlockPipeline pipeline(kBlockSize);
  NumberedBlocks source{3};
  std::thread::id consumer;
  ASSERT_TRUE(pipeline.run(std::ref(source), [&](const char*, size_t) -> Status {
    consumer = std::this_thread::get_id();
    return Ok{};
  }));
  EXPECT_NE(consumer, std::this_thread::get_id());
}

TEST(BlockPipeline, AnEmptyStreamConsumesNothing) {
  BlockPipeline pipeline(kBlockSize);
  NumberedBlocks source{0};
  bool called = false;
  ASSERT_TRUE(pipeline.run(std::ref(source), [&](const char*, size_t) -> Status {
    called = true;
    return Ok{};
  }));
  EXPECT_FALSE(called);
}

TEST(BlockPipeline, AProducerFailureIsReturnedAndStopsTheConsumer) {
  BlockPipeline pipeline(kBlockSize);
  size_t produced = 0;
  std::atomic<size_t> consumed{0};
  Status s = pipeline.run(
      [&](char*, size_t) -> Result<size_t> {
        if (++produced == 10) return make_error(ErrorKind::Corrupt, "bad block 10");
        return size_t{1};
      },
      [&](const char*, size_t) -> Status {
        ++consumed;
        return Ok{};
      });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(s.error().message, "bad block 10");
  EXPECT_LE(consumed.load(), 9u);
}

TEST(BlockPipeline, AConsumerFailureIsReturnedAndStopsTheProducerWithinTheBlocksInFlight) {
  BlockPipeline pipeline(kBlockSize);
  size_t produced = 0;
  size_t consumed = 0;
  Status s = pipeline.run(
      [&](char*, size_t) -> Result<size_t> {
        ++produced;
        return size_t{1};  // endless: only the consumer's failure ends it
      },
      [&](const char*, size_t) -> Status {
        if (++consumed == 5) return make_error(ErrorKind::Io, "disk full at block 5");
        return Ok{};
      });
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, ErrorKind::Io);
  EXPECT_EQ(s.error().message, "disk full at block 5");
  EXPECT_EQ(consumed, 5u);
  EXPECT_LE(produced, 5 + BlockPipeline::kBlocks + 1);
}

TEST(BlockPipeline, RunsAgainAfterAFailure) {
  BlockPipeline pipeline(kBlockSize);
  ASSERT_FALSE(pipeline.run([](char*, size_t) -> Result<size_t> {
    return make_error(ErrorKind::Io, "first run fails");
  }, [](const char*, size_t) -> Status { return Ok{}; }));
  NumberedBlocks source{20};
  size_t consumed = 0;
  ASSERT_TRUE(pipeline.run(std::ref(source), [&](const char*, size_t) -> Status {
    ++consumed;
    return Ok{};
  }));
  EXPECT_EQ(consumed, 20u);
}

}  // namespace
}  // namespace zktool::archive
