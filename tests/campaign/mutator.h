// Random damage for the corruption campaign: each mutation is drawn from a
// seeded PRNG, so a run is reproduced by its seed alone.
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

namespace zktool::testing {

enum class MutationKind { BitFlip, Truncate, Insert, Delete, SwapBlocks };
inline constexpr int kMutationKinds = 5;
std::string_view to_string(MutationKind kind);

struct Mutation {
  MutationKind kind = MutationKind::BitFlip;
  size_t offset = 0;  // of the first byte changed, or where the file is cut
  size_t length = 0;  // bytes flipped (bits), inserted, deleted or swapped
  size_t other = 0;   // SwapBlocks: the second block's offset
  std::string describe() const;
};

// Returns `input` damaged by one random mutation, never equal to `input`
// (`input` must not be empty). `applied` says what was done.
std::string mutate(std::string_view input, std::mt19937_64& rng, Mutation& applied);

}  // namespace zktool::testing
