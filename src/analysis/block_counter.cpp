#include "analysis/block_counter.h"

#include <algorithm>

namespace gb::analysis {

namespace {

// Values per block counted from which counting is split over the model's threads. Below the
// staged blocks of decoding (kStagedValues): counted by one thread, they kept the others waiting
// (llama100m q8_0, two threads, stats/none decode @128: 0.75-0.85 -> 0.87-0.95).
constexpr int64_t kParallelValues = 1 << 14;
// Rows per other part from which a block's channel statistics are cut by rows (see count_block):
// merging one part's statistics into a hook's costs about what counting 8 of its rows does
// (about 4 ns per channel, read from another core's cache, against 0.55 ns per value).
constexpr int64_t kMergeRows = 8;
// Rows that arrive a few at a time (decoding: one per hook and step) are gathered, up to
// kStagedValues values per hook, and counted as one block: a hook's running statistics (tens of
// bytes per channel, too many to stay in cache across a forward pass) are then read and written
// once per block instead of once per row. Blocks that fill wait until a hook's next rows come (the
// next forward pass, mostly) and are counted together, each whole by one thread: one call of the
// pool for all instead of one per hook, with no parts to merge. Blocks of kStagedRows rows or more
// are counted as they come: gathered, they cost a copy to memory (the gathered blocks of all
// hooks do not stay in cache) and save little (embedded model, stats/none with each run's
// statistics complete at its end, best of 8: one thread, prefill 64 0.70 -> 0.75, prefill 128
// 0.73 -> 0.78; two threads 0.68 -> 0.69 and 0.70 -> 0.70).
constexpr int64_t kStagedValues = 32768;
constexpr int64_t kStagedRows = 16;

}  // namespace

BlockCounter::BlockCounter(const Model& model, float fire_threshold, int64_t part_memory)
    : model_(model), fire_threshold_(fire_threshold), part_memory_(part_memory) {}

void BlockCounter::expect_hook(int64_t channels) {
  part_bytes_ += channels * ChannelStats::kBytesPerChannel + ValueHistogram::kBytes;
}

void BlockCounter::add(std::vector<HookStats>& hooks, size_t index, const float* rows, int64_t n) {
  if (staged_.size() < hooks.size()) staged_.resize(hooks.size());
  const int64_t C = hooks[index].channels.channels();
  Staged& st = staged_[index];
  const int64_t capacity = std::max<int64_t>(1, kStagedValues / C);  // rows
  if (n >= std::min(capacity, kStagedRows)) {
    count_block(hooks, index, rows, n);
    return;
  }
  if (st.rows + n > capacity) {
    count_full(hooks);           // this hook's block among them, if it is full
    count_staged(hooks, index);  // if it was not
  }
  st.values.resize(size_t(capacity * C));
  std::copy_n(rows, n * C, st.values.begin() + st.rows * C);
  st.rows += n;
  if (st.rows == capacity) full_.push_back(index);
}

void BlockCounter::flush(std::vector<HookStats>& hooks) {
  // every block held back, full or not, counted in one call of the pool
  full_.clear();
  for (size_t i = 0; i < staged_.size(); ++i)
    if (staged_[i].rows > 0) full_.push_back(i);
  count_full(hooks);
  // each hook's kept parts merged by one thread
  model_.pool().parallel_for(int64_t(kept_.size()), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (Part& p : kept_[size_t(i)]) merge_part(hooks[size_t(i)], p, true);
  });
}

void BlockCounter::count_full(std::vector<HookStats>& hooks) {
  if (full_.empty()) return;
  model_.pool().parallel_for(int64_t(full_.size()), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      Staged& st = staged_[full_[size_t(i)]];
      count_serially(hooks[full_[size_t(i)]], st.values.data(), st.rows);
      st.rows = 0;
    }
  });
  full_.clear();
}

void BlockCounter::count_staged(std::vector<HookStats>& hooks, size_t index) {
  Staged& st = staged_[index];
  if (st.rows == 0) return;
  count_block(hooks, index, st.values.data(), st.rows);
  st.rows = 0;
}

void BlockCounter::count_serially(HookStats& h, const float* rows, int64_t n) {
  // The histogram's pass first: it reads the block in order, which the hardware prefetcher
  // follows, and leaves it in cache for the channel statistics' pass, which reads it a strip of
  // columns at a time (llama100m q8_0, one thread: stats/none decode @128 0.89-0.91 -> 0.93,
  // prefill 128 0.84-0.86 -> 0.86-0.87).
  h.histogram.add_values(rows, n * h.channels.channels());
  h.channels.add_rows(rows, n);
}

// A block of kParallelValues values or more, with T > 1 threads, is cut in T parts, one per
// thread of the pool (whichever thread takes it). Part t counts a run of rows into a histogram: h's
// for part 0, a Part's of its own for the others. Its channel statistics are cut one of two ways:
//  - by rows (rows_cut): part t counts the same run of rows as a block of its own, into h for
//    part 0 and into its Part for the others. Each thread then reads only its rows, once for both
//    passes; cut by channels, each read half of every row from the cache of the core that wrote
//    it (two threads, at the slower of this VM's two two-thread speeds, best of 5 runs:
//    stats/none 0.79 -> 0.84 at prefill 128 and 0.82 -> 0.88 at 512, llama100m q8_0 and q4_0;
//    the same at the faster speed).
//  - by channels: part t counts whole strips of a range of channels, of every row, into h,
//    exactly as serially.
// When T − 1 copies of every hook's statistics fit in part_memory_, each hook has Parts of
// its own, kept until flush() merges them. Else one set of Parts serves every hook and is merged
// after each block, by the caller alone: each part reads C × 76 bytes from another core's cache
// (1.1 ms of a 49 ms two-thread prefill pass, llama100m q8_0 at 128 tokens; in parallel by
// channel ranges, the hook's statistics moved between the cores' caches: slower). That cost
// grows with T while each part's counting shrinks, so then rows are cut only when each part has
// kMergeRows rows per other part (n >= 16 at two threads, 96 at four, 448 at eight), which bounds
// the merges by the counting. Only two threads could be measured here; that bound is reckoned,
// not measured.
void BlockCounter::count_block(std::vector<HookStats>& hooks, size_t index, const float* rows,
                               int64_t n) {
  HookStats& h = hooks[index];
  const int64_t C = h.channels.channels();
  ThreadPool& pool = model_.pool();
  const int64_t T = pool.size();
  if (n * C < kParallelValues || T == 1) {
    count_serially(h, rows, n);
    return;
  }
  const bool keep = (T - 1) * part_bytes_ <= part_memory_;
  const bool rows_cut = keep || n >= kMergeRows * T * (T - 1);
  std::vector<Part>& parts = keep ? kept_parts(index, T, C) : shared_parts(T, C);
  pool.parallel_for(T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t r0 = n * t / T, r1 = n * (t + 1) / T;
      ValueHistogram& hist = t == 0 ? h.histogram : parts[size_t(t - 1)].histogram;
      hist.add_values(rows + r0 * C, (r1 - r0) * C);
      if (rows_cut) {
        ChannelStats& channels = t == 0 ? h.channels : parts[size_t(t - 1)].channels;
        channels.add_rows(rows + r0 * C, r1 - r0);
      } else {
        constexpr int64_t S = ChannelStats::kStrip;
        const int64_t c0 = C * t / T / S * S, c1 = t + 1 == T ? C : C * (t + 1) / T / S * S;
        h.channels.add_rows(rows, n, c0, c1);
      }
    }
  });
  if (keep) return;
  for (Part& p : parts) merge_part(h, p, rows_cut);
}

std::vector<BlockCounter::Part>& BlockCounter::kept_parts(size_t index, int64_t T, int64_t C) {
  if (kept_.size() <= index) kept_.resize(index + 1);
  std::vector<Part>& parts = kept_[index];
  if (parts.size() < size_t(T - 1))
    parts.resize(size_t(T - 1), Part{{}, ChannelStats(C, fire_threshold_)});
  return parts;
}

std::vector<BlockCounter::Part>& BlockCounter::shared_parts(int64_t T, int64_t C) {
  if (shared_.size() < size_t(T - 1)) shared_.resize(size_t(T - 1));
  for (Part& p : shared_)
    if (p.channels.channels() != C) p.channels = ChannelStats(C, fire_threshold_);
  return shared_;
}

void BlockCounter::merge_part(HookStats& h, Part& p, bool channels) {
  h.histogram.merge(p.histogram);
  p.histogram.clear();
  if (!channels) return;
  h.channels.merge(p.channels);
  p.channels.reset(h.channels.channels());
}

}  // namespace gb::analysis
