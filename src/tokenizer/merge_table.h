// BPE merge rules as a table (left id, right id) -> (rank, merged id), and the merge loop that
// applies them to a sequence of token ids with GPT-2's semantics: repeatedly take the pair with
// the lowest rank present and merge all its non-overlapping occurrences from left to right.
// The loop uses a min-heap over (rank, position) with lazy invalidation, O(n log n) per word.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gb::tok {

struct MergeRule {
  int32_t rank;
  int32_t merged;  // id of the token left+right
};

// Reusable buffers for MergeTable::apply (one per encode call; no allocation per word).
struct MergeScratch {
  struct Candidate {
    int32_t rank;
    int32_t left;  // positions in the word
    int32_t right;
    int32_t left_id;
    int32_t right_id;
  };
  std::vector<int32_t> prev, next;
  std::vector<Candidate> heap, pending;
};

class MergeTable {
 public:
  // Adds a rule; returns false (and changes nothing) if the pair already has one.
  bool add(int32_t left, int32_t right, MergeRule rule);
  const MergeRule* find(int32_t left, int32_t right) const;
  size_t size() const { return count_; }

  // Merges `ids` in place ([n] -> [m], m <= n).
  void apply(std::vector<int32_t>& ids, MergeScratch& scratch) const;

 private:
  struct Slot {
    uint64_t key = kEmpty;
    MergeRule rule{};
  };
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  static uint64_t key(int32_t left, int32_t right) {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
  }
  size_t slot_of(uint64_t k) const;
  void grow();

  std::vector<Slot> slots_;  // open addressing, linear probing; size a power of two
  size_t count_ = 0;
  int shift_ = 64;  // 64 - log2(slots_.size())
};

}  // namespace gb::tok
