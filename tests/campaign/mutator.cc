#include "mutator.h"

#include <algorithm>

namespace zktool::testing {

namespace {

size_t uniform(std::mt19937_64& rng, size_t lo, size_t hi) {  // [lo, hi]
  return std::uniform_int_distribution<size_t>(lo, hi)(rng);
}

std::string apply(std::string_view input, std::mt19937_64& rng, Mutation& m) {
  std::string out(input);
  const size_t size = input.size();
  m.kind = static_cast<MutationKind>(uniform(rng, 0, kMutationKinds - 1));
  if (size < 2 && m.kind == MutationKind::SwapBlocks) m.kind = MutationKind::BitFlip;
  switch (m.kind) {
    case MutationKind::BitFlip:
      m.length = uniform(rng, 1, 8);
      m.offset = uniform(rng, 0, size - 1);
      for (size_t i = 0; i < m.length; ++i) {
        size_t at = i == 0 ? m.offset : uniform(rng, 0, size - 1);
        out[at] = static_cast<char>(out[at] ^ (1 << uniform(rng, 0, 7)));
      }
      break;
    case MutationKind::Truncate:
      m.offset = uniform(rng, 0, size - 1);
      out.resize(m.offset);
      break;
    case MutationKind::Insert: {
      m.offset = uniform(rng, 0, size);
      m.length = uniform(rng, 1, 64);
      std::string bytes(m.length, '\0');
      for (char& c : bytes) c = static_cast<char>(uniform(rng, 0, 255));
      out.insert(m.offset, bytes);
      break;
    }
    case MutationKind::Delete:
      m.offset = uniform(rng, 0, size - 1);
      m.length = uniform(rng, 1, std::min<size_t>(64, size - m.offset));
      out.erase(m.offset, m.length);
      break;
    case MutationKind::SwapBlocks: {
      // Two non-overlapping blocks of equal length trade places.
      m.length = uniform(rng, 1, std::max<size_t>(1, std::min<size_t>(512, size / 2)));
      size_t a = uniform(rng, 0, size - 2 * m.length);
      size_t b = uniform(rng, a + m.length, size - m.length);
      std::swap_ranges(out.begin() + static_cast<ptrdiff_t>(a),
                       out.begin() + static_cast<ptrdiff_t>(a + m.length),
                       out.begin() + static_cast<ptrdiff_t>(b));
      m.offset = a;
      m.other = b;
      break;
    }
  }
  return out;
}

}  // namespace

std::string_view to_string(MutationKind kind) {
  switch (kind) {
    case MutationKind::BitFlip: return "bit flip";
    case MutationKind::Truncate: return "truncation";
    case MutationKind::Insert: return "insertion";
    case MutationKind::Delete: return "deletion";
    case MutationKind::SwapBlocks: return "block swap";
  }
  return "?";
}

std::string Mutation::describe() const {
  std::string s(to_string(kind));
  switch (kind) {
    case MutationKind::BitFlip:
      return s + " of " + std::to_string(length) + " bit(s), first at " + std::to_string(offset);
    case MutationKind::Truncate: return s + " at " + std::to_string(offset);
    case MutationKind::Insert:
    case MutationKind::Delete:
      return s + " of " + std::to_string(length) + " byte(s) at " + std::to_string(offset);
    case MutationKind::SwapBlocks:
      return s + " of " + std::to_string(length) + " byte(s) at " + std::to_string(offset) +
             " and " + std::to_string(other);
  }
  return s;
}

std::string mutate(std::string_view input, std::mt19937_64& rng, Mutation& applied) {
  for (;;) {  // a swap of equal blocks or flips that cancel change nothing: draw again
    std::string out = apply(input, rng, applied);
    if (out != input) return out;
  }
}

}  // namespace zktool::testing
