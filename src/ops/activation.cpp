#include "ops/activation.h"

#include <cmath>

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

void silu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void mul(const float* a, float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] *= a[i];
}

}  // namespace gb::ops
