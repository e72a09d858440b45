// Decode attention over a KV cache: one query position, the heads of a 100M Llama (12 query heads
// sharing 4 kv heads of 64), in nanoseconds per key per query head.
//
//   build/bench/gb_benchmarks --benchmark_filter='attention/'
//
// Names: attention/decode/{f32,f16}/k<k_len>. Each call reads the next of as many layers' caches
// as together exceed the last-level cache, so keys and values come from memory as they do when a
// decode step goes through every layer. Counter ns_per_key: the fastest call's wall time over
// k_len × query heads; GB_per_s: the cache bytes that call read over its time.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "ops/attention.h"
#include "ops/f16_rows.h"
#include "random_normal.h"
#include "timed_loop.h"

namespace gb {
namespace {

constexpr int kHeads = 12, kKvHeads = 4, kHeadDim = 64;
constexpr size_t kColdBytes = size_t(64) << 20;  // the layers' caches together

// One layer's keys and values: k_len rows of kKvHeads·kHeadDim, in the cache's type.
struct LayerCache {
  std::vector<float> k32, v32;
  std::vector<uint16_t> k16, v16;
};

void decode(benchmark::State& state, DType type, int64_t k_len) {
  const int64_t width = kKvHeads * kHeadDim;
  const size_t elem = type == DType::F16 ? 2 : 4;
  const size_t layer_bytes = size_t(2 * k_len * width) * elem;
  const size_t layers = std::max<size_t>(2, kColdBytes / layer_bytes);
  std::vector<LayerCache> caches(layers);
  const std::vector<float> kv = bench::random_normal(size_t(2 * k_len * width), 7);
  for (LayerCache& c : caches) {
    if (type == DType::F32) {
      c.k32.assign(kv.begin(), kv.begin() + k_len * width);
      c.v32.assign(kv.begin() + k_len * width, kv.end());
    } else {
      c.k16.resize(size_t(k_len * width));
      c.v16.resize(size_t(k_len * width));
      ops::to_f16_rows(kv.data(), c.k16.data(), k_len * width);
      ops::to_f16_rows(kv.data() + k_len * width, c.v16.data(), k_len * width);
    }
  }
  const std::vector<float> q = bench::random_normal(kHeads * kHeadDim, 8);
  std::vector<float> z(kHeads * kHeadDim);
  ops::AttentionDims d;
  d.n_heads = kHeads;
  d.n_kv_heads = kKvHeads;
  d.d_head = kHeadDim;
  d.q_len = 1;
  d.k_len = k_len;
  d.q_pos0 = k_len - 1;
  d.scale = 0.125f;
  ThreadPool pool(1);
  const bool f16 = type == DType::F16;
  const double best = bench::timed_loop(state, [&](int64_t i) {
    const LayerCache& c = caches[size_t(i) % layers];
    const ops::KvRows k{f16 ? static_cast<const void*>(c.k16.data()) : c.k32.data(), type, width};
    const ops::KvRows v{f16 ? static_cast<const void*>(c.v16.data()) : c.v32.data(), type, width};
    ops::attention_streaming(q.data(), k, v, z.data(), d, pool);
  });
  state.counters["ns_per_key"] = best * 1e9 / double(k_len * kHeads);
  state.counters["GB_per_s"] = double(layer_bytes) / best / 1e9;
}

[[maybe_unused]] const bool registered = [] {
  for (const DType type : {DType::F32, DType::F16})
    for (const int64_t k_len : {128, 1024, 4096}) {
      const std::string name = std::string("attention/decode/") +
                               (type == DType::F16 ? "f16" : "f32") + "/k" + std::to_string(k_len);
      benchmark::RegisterBenchmark(name.c_str(), decode, type, k_len);
    }
  return true;
}();

}  // namespace
}  // namespace gb
