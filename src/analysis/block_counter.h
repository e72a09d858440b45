// Counts rows of activations into HookStats in blocks, on the model's thread pool: the part of
// ActivationStats that decides when rows are counted and by which threads.
//
// Rows that come a few at a time (decoding: one per hook and step) are held back per hook and
// counted once a block of them fills; larger blocks are counted as they come, cut over the threads
// when big enough. A block cut over T threads counts its parts 1.. into statistics of their own,
// merged into the hook's after the block, or kept until flush() when memory allows
// (`part_memory`). flush() must come before the statistics are read.
#pragma once

#include <cstdint>
#include <vector>

#include "analysis/hook_stats.h"
#include "model/model.h"

namespace gb::analysis {

class BlockCounter {
 public:
  // T − 1 copies of the statistics of every hook expected (T: the pool's threads) are kept until
  // flush() while they fit in part_memory bytes.
  BlockCounter(const Model& model, float fire_threshold, int64_t part_memory);
  // One more hook, of this many channels, may be counted.
  void expect_hook(int64_t channels);

  // rows [n, channels] of hooks[index]: counted now, or held back until more come.
  void add(std::vector<HookStats>& hooks, size_t index, const float* rows, int64_t n);
  // Every block held back counted, and the kept parts merged into their hooks.
  void flush(std::vector<HookStats>& hooks);

 private:
  // Rows of one hook held back to be counted as one block.
  struct Staged {
    std::vector<float> values;  // [capacity, channels]
    int64_t rows = 0;
  };
  // Part t > 0 of a block cut over threads counts into a Part of its own (see count_block).
  struct Part {
    ValueHistogram histogram;
    ChannelStats channels;
  };

  // The held-back blocks of full_, counted.
  void count_full(std::vector<HookStats>& hooks);
  // The rows held back for hooks[index], counted.
  void count_staged(std::vector<HookStats>& hooks, size_t index);
  // rows [n, channels] into h's statistics, by the calling thread.
  static void count_serially(HookStats& h, const float* rows, int64_t n);
  // rows [n, channels] into hooks[index]'s statistics, cut over the threads when big enough.
  void count_block(std::vector<HookStats>& hooks, size_t index, const float* rows, int64_t n);
  // Hook index's kept Parts, at least T − 1, of its C channels.
  std::vector<Part>& kept_parts(size_t index, int64_t T, int64_t C);
  // The shared Parts, at least T − 1, of C channels.
  std::vector<Part>& shared_parts(int64_t T, int64_t C);
  // p's histogram (and its channel statistics, when `channels`) counted into h, and emptied.
  static void merge_part(HookStats& h, Part& p, bool channels);

  const Model& model_;
  float fire_threshold_;
  int64_t part_memory_, part_bytes_ = 0;  // part_bytes_: one part of every hook expected
  std::vector<Staged> staged_;            // per hook
  std::vector<size_t> full_;              // hooks whose held-back block is full
  std::vector<std::vector<Part>> kept_;   // kept_[i][t - 1]: hook i's, merged by flush()
  std::vector<Part> shared_;              // [t - 1]: any hook's, merged after each block
};

}  // namespace gb::analysis
