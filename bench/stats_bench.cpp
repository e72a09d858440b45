// The streaming statistics' per-value cost: ChannelStats::add_rows and ValueHistogram::add_values
// on blocks shaped like one hook call (rows × channels of a 125M model), in nanoseconds per value.
//
//   build/bench/gb_benchmarks --benchmark_filter='stats/'
//
// Names: stats/{channels,histogram,hook}/rows<r>_c<C> (hook: both, histogram first, as
// ActivationStats counts a hook call on one thread). Counter ns_per_value: the fastest call's wall
// time over rows × C. The block is the same in every call (in cache, as a hook's activations
// just written by the forward pass are), while the running state of ChannelStats is one of many
// that together exceed the last-level cache (one per hook of a model), so it comes from memory
// as it does when a forward pass goes through every hook before returning to the first.
#include <benchmark/benchmark.h>

#include <vector>

#include "analysis/channel_stats.h"
#include "analysis/value_histogram.h"
#include "random_normal.h"
#include "timed_loop.h"

namespace gb {
namespace {

constexpr size_t kColdValues = size_t(64) << 20 >> 2;  // 64 MiB of floats: running states

struct Block {
  int64_t rows, channels;
};
constexpr Block kBlocks[] = {{1, 768}, {1, 2048}, {8, 768}, {128, 768}, {128, 2048}, {512, 2048}};

template <typename Call>
void timed(benchmark::State& state, int64_t values, Call&& call) {
  state.counters["ns_per_value"] = bench::timed_loop(state, call) * 1e9 / double(values);
}

// One block of values, and as many running states as the hooks of a model whose hook calls are
// this shape (call i counts into state i modulo their number).
struct HookCalls {
  explicit HookCalls(Block b)
      : values(b.rows * b.channels),
        x(bench::random_normal(size_t(values), 5)),
        states(std::max<size_t>(2, kColdValues / 16 / size_t(b.channels)),
               analysis::ChannelStats(b.channels, 0.0f)) {}
  analysis::ChannelStats& state(int64_t i) { return states[size_t(i) % states.size()]; }

  int64_t values;
  std::vector<float> x;
  std::vector<analysis::ChannelStats> states;
};

void channels(benchmark::State& state, Block b) {
  HookCalls c(b);
  timed(state, c.values, [&](int64_t i) { c.state(i).add_rows(c.x.data(), b.rows); });
}

void histogram(benchmark::State& state, Block b) {
  const int64_t values = b.rows * b.channels;
  const std::vector<float> x = bench::random_normal(size_t(values), 5);
  analysis::ValueHistogram h;
  timed(state, values, [&](int64_t) { h.add_values(x.data(), values); });
}

void hook(benchmark::State& state, Block b) {
  HookCalls c(b);
  analysis::ValueHistogram h;
  timed(state, c.values, [&](int64_t i) {
    h.add_values(c.x.data(), c.values);
    c.state(i).add_rows(c.x.data(), b.rows);
  });
}

[[maybe_unused]] const bool registered = [] {
  for (const Block& b : kBlocks) {
    const std::string shape = "rows" + std::to_string(b.rows) + "_c" + std::to_string(b.channels);
    benchmark::RegisterBenchmark(("stats/channels/" + shape).c_str(), channels, b);
    benchmark::RegisterBenchmark(("stats/histogram/" + shape).c_str(), histogram, b);
    benchmark::RegisterBenchmark(("stats/hook/" + shape).c_str(), hook, b);
  }
  return true;
}();

}  // namespace
}  // namespace gb
