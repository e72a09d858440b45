#include "ops/norm.h"

#include <cmath>

#include "ops/v16.h"
#include "ops/vec.h"

namespace gb::ops {
namespace {

// Row statistics in double: the sums of a wide row lose too much in f32 for 1e-5 parity. Sixteen
// partial sums, so that the loops vectorise (one running sum is a serial chain).
template <typename Term>
[[gnu::always_inline]] inline double row_sum(const float* x, int64_t d, Term term) {
  double acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= d; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += term(x[i + j]);
  double s = 0;
  for (; i < d; ++i) s += term(x[i]);
  for (const double a : acc) s += a;
  return s;
}

__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) double row_mean(
    const float* x, int64_t d) {
  return row_sum(x, d, [](float v) { return double(v); }) / double(d);
}

__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) double row_squares(
    const float* x, int64_t d, double mean) {
  return row_sum(x, d, [mean](float v) { return (double(v) - mean) * (double(v) - mean); });
}

__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void shift_scale_row(
    const float* x, int64_t d, float shift, float factor, float* out) {
  for_sixteens(
      d, [&](int64_t i, auto lanes) __attribute__((always_inline)) {
        lanes.store(out + i, (lanes.load(x + i) - shift) * factor);
      });
}

__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void scale_shift_row(
    float* o, int64_t d, const float* w, const float* b) {
  for_sixteens(
      d, [&](int64_t i, auto lanes) __attribute__((always_inline)) {
        lanes.store(o + i, lanes.load(o + i) * lanes.load(w + i) + lanes.load(b + i));
      });
}

}  // namespace

void norm_scale(NormKind kind, const float* x, int64_t rows, int64_t d, float eps, float* scale) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    const double mean = kind == NormKind::LayerNorm ? row_mean(xr, d) : 0.0;
    scale[r] = float(std::sqrt(row_squares(xr, d, mean) / double(d) + double(eps)));
  }
}

void norm_normalize(NormKind kind, const float* x, const float* scale, int64_t rows, int64_t d,
                    float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    const float mean = kind == NormKind::LayerNorm ? float(row_mean(xr, d)) : 0.0f;
    shift_scale_row(xr, d, mean, 1.0f / scale[r], out + r * d);
  }
}

void norm_affine(float* out, int64_t rows, int64_t d, const float* w, const float* b) {
  for (int64_t r = 0; r < rows; ++r) {
    if (b)
      scale_shift_row(out + r * d, d, w, b);
    else
      mul(w, out + r * d, d);
  }
}

}  // namespace gb::ops
