#include "ops/rope.h"

#include <cmath>

#include "ops/v16.h"

namespace gb::ops {
namespace {

// (v[i], v[i + half]) rotated by the angle of cos c[i], sin s[i], for i < half.
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void rotate_halves(
    float* v, const float* c, const float* s, int half) {
  for_sixteens(
      half, [&](int64_t i, auto lanes) __attribute__((always_inline)) {
        const auto a = lanes.load(v + i), b = lanes.load(v + i + half);
        const auto ci = lanes.load(c + i), si = lanes.load(s + i);
        lanes.store(v + i, a * ci - b * si);
        lanes.store(v + i + half, b * ci + a * si);
      });
}

}  // namespace

Rope::Rope(int dims, float base) : dims_(dims), inv_freq_(size_t(dims / 2)) {
  // As Hugging Face computes it: 1 / base^(2i/dims) in f32.
  for (int i = 0; i < dims / 2; ++i)
    inv_freq_[size_t(i)] = 1.0f / std::pow(base, float(2 * i) / float(dims));
}

void Rope::grow(int64_t n_positions) {
  const int64_t have = int64_t(cos_.size()) / (dims_ / 2);
  if (n_positions <= have) return;
  const int half = dims_ / 2;
  cos_.resize(size_t(n_positions * half));
  sin_.resize(size_t(n_positions * half));
  for (int64_t p = have; p < n_positions; ++p) {
    for (int i = 0; i < half; ++i) {
      const float angle = float(p) * inv_freq_[size_t(i)];
      cos_[size_t(p * half + i)] = std::cos(angle);
      sin_[size_t(p * half + i)] = std::sin(angle);
    }
  }
}

void Rope::apply(float* x, int64_t n_pos, int n_heads, int d_head, int64_t pos0) {
  const int half = dims_ / 2;
  grow(pos0 + n_pos);
  for (int64_t p = 0; p < n_pos; ++p) {
    const float* c = cos_.data() + (pos0 + p) * half;
    const float* s = sin_.data() + (pos0 + p) * half;
    for (int h = 0; h < n_heads; ++h) rotate_halves(x + (p * n_heads + h) * d_head, c, s, half);
  }
}

void deinterleave_heads(float* x, int64_t n_rows, int n_heads, int d_head) {
  std::vector<float> tmp(static_cast<size_t>(d_head));
  const int half = d_head / 2;
  for (int64_t r = 0; r < n_rows * n_heads; ++r) {
    float* v = x + r * d_head;
    for (int i = 0; i < half; ++i) {
      tmp[size_t(i)] = v[2 * i];
      tmp[size_t(i + half)] = v[2 * i + 1];
    }
    for (int i = 0; i < d_head; ++i) v[i] = tmp[size_t(i)];
  }
}

}  // namespace gb::ops
