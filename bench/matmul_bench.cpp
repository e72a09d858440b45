// ops::matmul per weight dtype and instruction set: GEMV (m = 1, decoding) and GEMM (m = 128,
// 512, prefill), with OpenBLAS sgemv/sgemm on the same f32 shapes and the machine's memory read
// bandwidth measured in the same run.
//
//   build/bench/gb_benchmarks --benchmark_filter='membw|sgemv/n4096_k4096|gemv/.*/n4096_k4096'
//   build/bench/gb_benchmarks --benchmark_filter='sgemm/m128/n4096_k4096|gemm/m128/.*/n4096_k4096'
//
// Names: gemv/<variant>/<isa>/n<rows>_k<cols>/threads:<t>, gemm/m<m>/<variant>/<isa>/<path>/...
// (variant: dtype, or dtype:f32x / dtype:bf16x for the activation options, see Variant),
// openblas/{sgemv,sgemm}/..., membw/threads:<t>, fma_peak/<isa>. Counters:
//   weights_GBps  bytes of W read per second (GEMV), 1 GB = 1e9 bytes
//   bw_frac       weights_GBps over the streaming read bandwidth (membw) with as many threads
//   GFLOPs        2 m n k per second (GEMM); for fma_peak, one thread's f32 FMA throughput with
//                 nothing loaded (2 flops per lane): the ceiling of any one-thread f32 product
//   vs_openblas   OpenBLAS's time / ours on the f32 product of the same shape and thread count,
//                 measured earlier in the same run (> 1: faster than OpenBLAS)
// Counters come from the fastest call of each benchmark (see timed_loop). GEMV cycles through
// copies of W that together exceed the last-level cache several times, so the weights come from
// DRAM as when decoding a whole model; GEMM uses one copy.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <immintrin.h>

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "ops/matmul.h"
#include "random_normal.h"
#include "timed_loop.h"

namespace gb {
namespace {

struct Shape {
  int64_t n, k;  // W: [n, k]
};
constexpr Shape kShapes[] = {{4096, 4096}, {3072, 768}, {768, 3072}};
constexpr Shape kGemmShapes[] = {{4096, 4096}, {3072, 768}};
constexpr int kThreads[] = {1, 2};
// A weight dtype and how the activations may be rounded (ops::MatmulOptions): "q8_0:f32x" keeps
// x in f32 for Q8_0 weights, "bf16:bf16x" rounds x to bf16 for BF16 weights (m > 1 only).
struct Variant {
  DType dtype;
  ops::MatmulOptions options;
  const char* name;
};
const Variant kVariants[] = {
    {DType::F32, {}, "f32"},   {DType::F16, {}, "f16"},
    {DType::BF16, {}, "bf16"}, {DType::BF16, {.bf16_activations = true}, "bf16:bf16x"},
    {DType::Q8_0, {}, "q8_0"}, {DType::Q8_0, {.quantize_activations = false}, "q8_0:f32x"},
    {DType::Q4_0, {}, "q4_0"}, {DType::Q4_0, {.quantize_activations = false}, "q4_0:f32x"},
};
constexpr size_t kColdBytes = size_t(256) << 20;  // GEMV weight copies and bandwidth buffer

std::string shape_name(Shape s) {
  return cat("n", s.n, "_k", s.k);
}

// Results of earlier benchmarks in this run: seconds per call of OpenBLAS, bytes/s of membw.
std::map<std::string, double>& results() {
  static std::map<std::string, double> r;
  return r;
}

ThreadPool& pool(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  auto& p = pools[threads];
  if (!p) p = std::make_unique<ThreadPool>(threads);
  return *p;
}

// `copies` copies of one random [n, k] weight matrix in `dtype`.
struct Weights {
  DType dtype;
  Shape shape;
  size_t bytes = 0;  // of one copy
  int copies = 1;
  std::vector<uint8_t> data;

  Weights(DType t, Shape s, bool cold) : dtype(t), shape(s) {
    bytes = dtype_bytes(t, s.k) * size_t(s.n);
    copies = cold ? int(std::max<size_t>(2, kColdBytes / bytes)) : 1;
    data.resize(bytes * size_t(copies));
    const std::vector<float> w = bench::random_normal(size_t(s.n * s.k), 1);  // [n, k]
    for (int64_t r = 0; r < s.n; ++r)
      quantize_row(t, w.data() + r * s.k, data.data() + size_t(r) * dtype_bytes(t, s.k), s.k);
    for (int c = 1; c < copies; ++c) std::copy_n(data.begin(), bytes, data.begin() + c * bytes);
  }
  WeightMatrix at(int64_t i) const {
    return {.data = data.data() + size_t(i % copies) * bytes,
            .dtype = dtype,
            .rows = shape.n,
            .cols = shape.k};
  }
};

// ---- memory bandwidth ---------------------------------------------------------------------

// Σ of n 64-bit words with 4 independent 16-byte accumulators (GCC vector extension: plain SSE2
// on x86-64, NEON on ARM), fast enough that only memory limits it (~100 GB/s from L2 on Zen 4).
uint64_t stream_sum(const uint64_t* p, int64_t n) {
  using u64x2 = uint64_t __attribute__((vector_size(16)));
  u64x2 acc[4] = {};
  for (int64_t j = 0; j + 8 <= n; j += 8) {
    u64x2 v[4];
    std::memcpy(v, p + j, sizeof(v));
    acc[0] += v[0];
    acc[1] += v[1];
    acc[2] += v[2];
    acc[3] += v[3];
  }
  const u64x2 t = acc[0] + acc[1] + acc[2] + acc[3];
  return t[0] + t[1];
}

// Streaming read of 16 MiB windows of a 256 MiB buffer, a different window each call (so the data
// comes from DRAM, as the GEMV weights do), split over the threads.
void membw(benchmark::State& state, int threads) {
  constexpr int64_t kWindow = (int64_t(16) << 20) / 8, kWindows = int64_t(kColdBytes / 8) / kWindow;
  static const std::vector<uint64_t> buf(kColdBytes / 8, 1);
  ThreadPool& tp = pool(threads);
  std::atomic<uint64_t> sink{0};
  const double sec = bench::timed_loop(state, [&](int64_t call) {
    const uint64_t* win = buf.data() + (call % kWindows) * kWindow;
    tp.parallel_for(
        kWindow, [&](int64_t b, int64_t e) { sink += stream_sum(win + b, e - b); }, 1024);
  });
  benchmark::DoNotOptimize(sink.load());
  const double bps = double(kWindow * 8) / sec;
  results()[cat("membw/", threads)] = bps;
  state.counters["read_GBps"] = bps / 1e9;
}

// ---- FMA peak -----------------------------------------------------------------------------

// `iters` rounds of `Chains` independent chains of v = v·m + c on vectors V of floats (GCC vector
// types; GCC contracts the expression into one FMA where the caller's target has FMA), enough
// chains to cover the FMA latency on every pipe; returns a sum of the results so that nothing is
// optimised away. Inlined into the per-ISA functions below, which set the instruction set.
typedef float Floats16 __attribute__((vector_size(64)));
typedef float Floats8 __attribute__((vector_size(32)));
template <class V, int Chains>
[[gnu::always_inline]] inline float fma_chains(int64_t iters) {
  V a[Chains];
  for (int i = 0; i < Chains; ++i) a[i] = V{} + (1.0f + float(i) * 1e-7f);
  const V m = V{} + 0.9999999f, c = V{} + 1e-7f;
  for (int64_t it = 0; it < iters; ++it)
#pragma GCC unroll 16
    for (auto& v : a) v = v * m + c;
  float out = 0;
  for (const V& v : a) out += v[0];
  return out;
}

// AVX2 code has 16 vector registers, AVX-512 code 32.
constexpr int kChains512 = 16, kChains256 = 12;
__attribute__((target("avx512f"))) float fma_chains_avx512(int64_t iters) {
  return fma_chains<Floats16, kChains512>(iters);
}
__attribute__((target("avx2,fma"))) float fma_chains_avx2(int64_t iters) {
  return fma_chains<Floats8, kChains256>(iters);
}

void fma_peak(benchmark::State& state, ops::Isa isa) {
  constexpr int64_t kIters = 1 << 16;
  const bool wide = isa == ops::Isa::Avx512;
  float sink = 0;
  const double sec = bench::timed_loop(
      state, [&](int64_t) { sink += wide ? fma_chains_avx512(kIters) : fma_chains_avx2(kIters); });
  benchmark::DoNotOptimize(sink);
  const double flops = wide ? double(kChains512) * 16 * 2 : double(kChains256) * 8 * 2;
  state.counters["GFLOPs"] = double(kIters) * flops / sec / 1e9;
}

// ---- GEMV ---------------------------------------------------------------------------------

void openblas_sgemv(benchmark::State& state, Shape s, int threads) {
  const Weights w(DType::F32, s, true);
  const auto x = bench::random_normal(size_t(s.k), 2);
  std::vector<float> y(size_t(s.n));
  openblas_set_num_threads(threads);
  const double sec = bench::timed_loop(state, [&](int64_t i) {
    cblas_sgemv(CblasRowMajor, CblasNoTrans, int(s.n), int(s.k), 1.0f,
                static_cast<const float*>(w.at(i).data), int(s.k), x.data(), 1, 0.0f, y.data(), 1);
  });
  openblas_set_num_threads(1);  // as glassbox's own BLAS calls expect it (see ops/blas.h)
  results()[cat("sgemv/", shape_name(s), "/", threads)] = sec;
  state.counters["weights_GBps"] = double(w.bytes) / sec / 1e9;
}

void gemv(benchmark::State& state, Variant v, ops::Isa isa, Shape s, int threads) {
  ops::set_isa(isa);
  ops::set_matmul_options(v.options);
  const Weights w(v.dtype, s, true);
  const auto x = bench::random_normal(size_t(s.k), 2);
  std::vector<float> y(size_t(s.n));
  ThreadPool& tp = pool(threads);
  const double sec = bench::timed_loop(
      state, [&](int64_t i) { ops::matmul(x.data(), 1, w.at(i), nullptr, y.data(), tp); });
  ops::set_matmul_options({});
  const double gbps = double(w.bytes) / sec / 1e9;
  state.counters["weights_GBps"] = gbps;
  if (auto bw = results().find(cat("membw/", threads)); bw != results().end())
    state.counters["bw_frac"] = gbps * 1e9 / bw->second;
  if (auto ref = results().find(cat("sgemv/", shape_name(s), "/", threads)); ref != results().end())
    state.counters["vs_openblas"] = ref->second / sec;
}

// ---- GEMM ---------------------------------------------------------------------------------

void openblas_sgemm(benchmark::State& state, int64_t m, Shape s, int threads) {
  const Weights w(DType::F32, s, false);
  const auto x = bench::random_normal(size_t(m * s.k), 2);
  std::vector<float> y(size_t(m * s.n));
  openblas_set_num_threads(threads);
  const double sec = bench::timed_loop(state, [&](int64_t) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(s.n), int(s.k), 1.0f, x.data(),
                int(s.k), static_cast<const float*>(w.at(0).data), int(s.k), 0.0f, y.data(),
                int(s.n));
  });
  openblas_set_num_threads(1);  // as glassbox's own BLAS calls expect it (see ops/blas.h)
  results()[cat("sgemm/", m, "/", shape_name(s), "/", threads)] = sec;
  state.counters["GFLOPs"] = 2.0 * double(m * s.n * s.k) / sec / 1e9;
}

void gemm(benchmark::State& state, int64_t m, Variant v, ops::Isa isa, ops::GemmPath path, Shape s,
          int threads) {
  ops::set_isa(isa);
  ops::set_gemm_path(path);
  ops::set_matmul_options(v.options);
  const Weights w(v.dtype, s, false);
  const auto x = bench::random_normal(size_t(m * s.k), 2);
  std::vector<float> y(size_t(m * s.n));
  ThreadPool& tp = pool(threads);
  const double sec = bench::timed_loop(
      state, [&](int64_t) { ops::matmul(x.data(), m, w.at(0), nullptr, y.data(), tp); });
  ops::set_gemm_path(ops::GemmPath::Auto);
  ops::set_matmul_options({});
  state.counters["GFLOPs"] = 2.0 * double(m * s.n * s.k) / sec / 1e9;
  if (auto ref = results().find(cat("sgemm/", m, "/", shape_name(s), "/", threads));
      ref != results().end())
    state.counters["vs_openblas"] = ref->second / sec;
}

// ---- registration (in this order: the references run before what is compared with them) ----

std::vector<ops::Isa> isas() {
  std::vector<ops::Isa> out;
  for (ops::Isa isa : {ops::Isa::Avx512, ops::Isa::Avx2, ops::Isa::Generic})
    if (ops::isa_supported(isa)) out.push_back(isa);
  return out;
}

const char* path_name(ops::GemmPath p) {
  return p == ops::GemmPath::Auto ? "auto" : p == ops::GemmPath::Kernels ? "kernels" : "blas";
}

template <typename... Args>
void add(const std::string& name, double min_time, Args&&... args) {
  benchmark::RegisterBenchmark(name.c_str(), std::forward<Args>(args)...)
      ->UseRealTime()
      ->MinTime(min_time)
      ->Unit(benchmark::kMicrosecond);
}

const bool registered = [] {
  for (int th : kThreads) add(cat("membw/threads:", th), 0.5, membw, th);
  for (ops::Isa isa : isas())
    if (isa != ops::Isa::Generic) add(cat("fma_peak/", ops::isa_name(isa)), 0.3, fma_peak, isa);
  for (Shape s : kShapes)
    for (int th : kThreads)
      add(cat("openblas/sgemv/", shape_name(s), "/threads:", th), 0.3, openblas_sgemv, s, th);
  for (const Variant& v : kVariants)
    for (ops::Isa isa : isas())
      for (Shape s : kShapes)
        for (int th : kThreads)
          if (!v.options.bf16_activations)  // only m > 1 rounds x to bf16
            add(cat("gemv/", v.name, "/", ops::isa_name(isa), "/", shape_name(s), "/threads:", th),
                0.3, gemv, v, isa, s, th);
  for (int64_t m : {128, 512}) {
    for (Shape s : kGemmShapes)
      for (int th : kThreads)
        add(cat("openblas/sgemm/m", m, "/", shape_name(s), "/threads:", th), 0.3, openblas_sgemm, m,
            s, th);
    for (const Variant& v : kVariants)
      for (ops::Isa isa : isas())
        for (ops::GemmPath path : {ops::GemmPath::Kernels, ops::GemmPath::Blas})
          for (Shape s : kGemmShapes)
            for (int th : kThreads)
              if (isa != ops::Isa::Generic)  // generic m > 1 is BLAS on converted panels
                add(cat("gemm/m", m, "/", v.name, "/", ops::isa_name(isa), "/", path_name(path),
                        "/", shape_name(s), "/threads:", th),
                    0.3, gemm, m, v, isa, path, s, th);
  }
  return true;
}();

}  // namespace
}  // namespace gb
