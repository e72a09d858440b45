#include "ops/vec.h"

#include <algorithm>
#include <limits>

#include "ops/v16.h"

namespace gb::ops {

// Eight independent partial sums let the compiler vectorise without reassociation flags.
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) float dot(const float* a,
                                                                                 const float* b,
                                                                                 int64_t n) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  float s = 0;
  for (; i < n; ++i) s += a[i] * b[i];
  for (int j = 0; j < 16; ++j) s += acc[j];
  return s;
}

// The elementwise loops, sixteen values at a time (see for_sixteens in ops/v16.h).
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void axpy(float a,
                                                                                 const float* x,
                                                                                 float* y,
                                                                                 int64_t n) {
  for_sixteens(
      n, [&](int64_t i, auto lanes) __attribute__((always_inline)) {
        lanes.store(y + i, lanes.load(y + i) + a * lanes.load(x + i));
      });
}

__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void scale(float a, float* x,
                                                                                  int64_t n) {
  for_sixteens(
      n, [&](int64_t i, auto lanes)
             __attribute__((always_inline)) { lanes.store(x + i, lanes.load(x + i) * a); });
}

__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void add(const float* x,
                                                                                float* y,
                                                                                int64_t n) {
  for_sixteens(
      n, [&](int64_t i, auto lanes) __attribute__((always_inline)) {
        lanes.store(y + i, lanes.load(y + i) + lanes.load(x + i));
      });
}

__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void mul(const float* a,
                                                                                float* x,
                                                                                int64_t n) {
  for_sixteens(
      n, [&](int64_t i, auto lanes) __attribute__((always_inline)) {
        lanes.store(x + i, lanes.load(x + i) * lanes.load(a + i));
      });
}

// Sixteen running maxima, so that the loop vectorises (a single one is a serial chain); NaN is
// passed over as std::max(m, x) passes it.
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) float max_value(
    const float* x, int64_t n) {
  constexpr float kLowest = -std::numeric_limits<float>::infinity();
  float acc[16];
  for (float& a : acc) a = kLowest;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] = acc[j] < x[i + j] ? x[i + j] : acc[j];
  float m = kLowest;
  for (; i < n; ++i) m = std::max(m, x[i]);
  for (const float a : acc) m = std::max(m, a);
  return m;
}

}  // namespace gb::ops
