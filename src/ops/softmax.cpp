#include "ops/softmax.h"

#include <cstring>
#include <limits>

#include "ops/exp_poly.h"
#include "ops/vec.h"

namespace gb::ops {

__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) float exp_shift_sum(
    float* x, int64_t n, float shift) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) {
      x[i + j] = exp_poly(x[i + j] - shift);
      acc[j] += x[i + j];
    }
  float s = 0;
  for (; i < n; ++i) {
    x[i] = exp_poly(x[i] - shift);
    s += x[i];
  }
  for (int j = 0; j < 16; ++j) s += acc[j];
  return s;
}

void softmax_row(float* x, int64_t n) {
  const float m = max_value(x, n);
  if (m == -std::numeric_limits<float>::infinity()) {
    std::memset(x, 0, size_t(n) * sizeof(float));
    return;
  }
  scale(1.0f / exp_shift_sum(x, n, m), x, n);
}

}  // namespace gb::ops
