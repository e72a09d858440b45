#include "tokenizer/merge_table.h"

#include <algorithm>
#include <bit>

namespace gb::tok {

size_t MergeTable::slot_of(uint64_t k) const {
  // Fibonacci hashing: the top bits of the product pick the slot.
  const size_t mask = slots_.size() - 1;
  size_t i = size_t((k * 0x9E3779B97F4A7C15ull) >> shift_);
  while (slots_[i].key != kEmpty && slots_[i].key != k) i = (i + 1) & mask;
  return i;
}

void MergeTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max<size_t>(64, old.size() * 2), Slot{});
  shift_ = 64 - std::countr_zero(slots_.size());
  for (const Slot& s : old)
    if (s.key != kEmpty) slots_[slot_of(s.key)] = s;
}

bool MergeTable::add(int32_t left, int32_t right, MergeRule rule) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  const uint64_t k = key(left, right);
  Slot& s = slots_[slot_of(k)];
  if (s.key == k) return false;
  s = {k, rule};
  ++count_;
  return true;
}

const MergeRule* MergeTable::find(int32_t left, int32_t right) const {
  if (slots_.empty()) return nullptr;
  const Slot& s = slots_[slot_of(key(left, right))];
  return s.key == kEmpty ? nullptr : &s.rule;
}

void MergeTable::apply(std::vector<int32_t>& ids, MergeScratch& scratch) const {
  const auto n = int32_t(ids.size());
  if (n < 2) return;
  using Candidate = MergeScratch::Candidate;
  auto& prev = scratch.prev;
  auto& next = scratch.next;
  auto& heap = scratch.heap;
  auto& pending = scratch.pending;
  prev.resize(size_t(n));
  next.resize(size_t(n));
  heap.clear();
  pending.clear();
  // Min-heap on (rank, left position): std heap functions build max-heaps, so invert.
  const auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  const auto consider = [&](std::vector<Candidate>& into, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    if (const MergeRule* r = find(ids[size_t(left)], ids[size_t(right)]))
      into.push_back({r->rank, left, right, ids[size_t(left)], ids[size_t(right)]});
  };
  for (int32_t i = 0; i < n; ++i) {
    prev[size_t(i)] = i - 1;
    next[size_t(i)] = i + 1 < n ? i + 1 : -1;
    if (i + 1 < n) consider(heap, i, i + 1);
  }
  std::make_heap(heap.begin(), heap.end(), later);

  while (!heap.empty()) {
    // One pass: every occurrence of the lowest-ranked pair, left to right. Pairs created by
    // these merges wait in `pending` until the pass is over, as in GPT-2's reference loop.
    const int32_t rank = heap.front().rank;
    while (!heap.empty() && heap.front().rank == rank) {
      std::pop_heap(heap.begin(), heap.end(), later);
      const Candidate c = heap.back();
      heap.pop_back();
      const auto l = size_t(c.left), r = size_t(c.right);
      if (next[l] != c.right || ids[l] != c.left_id || ids[r] != c.right_id) continue;
      ids[l] = find(c.left_id, c.right_id)->merged;
      next[l] = next[r];
      if (next[r] >= 0) prev[size_t(next[r])] = c.left;
      next[r] = -2;  // removed
      ids[r] = -1;
      consider(pending, prev[l], c.left);
      consider(pending, c.left, next[l]);
    }
    for (const Candidate& c : pending) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end(), later);
    }
    pending.clear();
  }

  size_t out = 0;
  for (int32_t i = 0; i >= 0; i = next[size_t(i)]) ids[out++] = ids[size_t(i)];
  ids.resize(out);
}

}  // namespace gb::tok
