#include "ops/activation.h"

#include <cmath>

#include "ops/exp_poly.h"

namespace gb::ops {

void gelu_tanh(float* x, int64_t n) {
  constexpr float k = 0.7978845608028654f;  // √(2/π)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(k * (v + 0.044715f * v * v * v)));
  }
}

void gelu_erf(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.7071067811865476f));
}

void relu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] > 0 ? x[i] : 0.0f;
}

// x / (1 + e^−x) through exp_poly. Where e^−x passes exp_poly's clamp (x < −88) the quotient is
// x · 0 instead, as the library exp's overflow to +inf would give: −0 for finite x and NaN for
// −inf.
inline float silu_one(float v) {
  const float y = v / (1.0f + exp_poly(-v)), beyond = v * 0.0f;  // both always (vectorisable)
  return v < -88.0f ? beyond : y;
}

// In blocks of 16: at -O2 GCC vectorises only loops that need no remainder loop of their own.
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void silu(float* x,
                                                                                 int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) x[i + j] = silu_one(x[i + j]);
  for (; i < n; ++i) x[i] = silu_one(x[i]);
}

}  // namespace gb::ops
