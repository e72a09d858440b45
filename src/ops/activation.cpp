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

// x / (1 + e^−x), vectorised through exp_poly. Where e^−x passes exp_poly's clamp (x < −88) the
// quotient is x · 0 instead, as the library exp's overflow to +inf would give: −0 for finite x and
// NaN for −inf.
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void silu(float* x,
                                                                                 int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i], y = v / (1.0f + exp_poly(-v));
    x[i] = v < -88.0f ? v * 0.0f : y;
  }
}

void mul(const float* a, float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] *= a[i];
}

}  // namespace gb::ops
