#include "cli/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

namespace gb::cli {
namespace {

// Σ x[i] with 16 partial sums, so the loop is bound by loads, not by the adds.
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) float sum(const float* x,
                                                                                 int64_t n) {
  float acc[16] = {};
  for (int64_t i = 0; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += x[i + j];
  float s = 0;
  for (float a : acc) s += a;
  return s;
}

}  // namespace

double read_bandwidth(ThreadPool& pool, size_t bytes, int repeats) {
  const int64_t n = int64_t(bytes / sizeof(float)) / 4096 * 4096;
  std::unique_ptr<float[]> buf(new float[size_t(n)]);
  pool.parallel_for(
      n, [&](int64_t b, int64_t e) { std::fill(buf.get() + b, buf.get() + e, 1.0f); }, 4096);
  std::vector<float> sink(size_t(pool.size()) * 16);  // keeps the sums alive
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(
        n,
        [&](int64_t b, int64_t e) {
          sink[size_t(b * pool.size() / n) * 16] += sum(buf.get() + b, e - b);
        },
        4096);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, double(n) * sizeof(float) / s);
  }
  if (sink[0] < 0) std::memset(buf.get(), 0, 4);  // never true; the sums must not be dropped
  return best;
}

}  // namespace gb::cli
