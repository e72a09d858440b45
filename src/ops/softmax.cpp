#include "ops/softmax.h"

#include <bit>
#include <cstring>
#include <limits>

#include "ops/vec.h"

namespace gb::ops {
namespace {

// exp(x) = 2^n · e^r with n = round(x·log2 e) and |r| ≤ ln2/2; e^r by a degree-6 Taylor polynomial
// (its remainder r⁷/7! < 2e-7 relative). Arguments below −87 give 0 (2^n would leave the normal
// range), above 88 are clamped (softmax arguments are ≤ 0 anyway).
inline float exp_poly(float x) {
  constexpr float kLog2e = 1.44269504f, kLn2Hi = 0.693145752f, kLn2Lo = 1.42860677e-6f;
  const float xc = x > 88.0f ? 88.0f : (x < -87.0f ? -87.0f : x);
  const float n = __builtin_floorf(xc * kLog2e + 0.5f);
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const float two_n = std::bit_cast<float>((int32_t(n) + 127) << 23);
  return x < -87.0f ? 0.0f : p * two_n;
}

}  // namespace

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
