#include "ops/norm.h"

#include <cmath>

namespace gb::ops {
namespace {

// Row statistics in double: the sums of a wide row lose too much in f32 for 1e-5 parity.
double row_mean(const float* x, int64_t d) {
  double s = 0;
  for (int64_t i = 0; i < d; ++i) s += x[i];
  return s / double(d);
}

}  // namespace

void norm_scale(NormKind kind, const float* x, int64_t rows, int64_t d, float eps, float* scale) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    const double mean = kind == NormKind::LayerNorm ? row_mean(xr, d) : 0.0;
    double ss = 0;
    for (int64_t i = 0; i < d; ++i) ss += (xr[i] - mean) * (xr[i] - mean);
    scale[r] = float(std::sqrt(ss / double(d) + double(eps)));
  }
}

void norm_normalize(NormKind kind, const float* x, const float* scale, int64_t rows, int64_t d,
                    float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    const float mean = kind == NormKind::LayerNorm ? float(row_mean(xr, d)) : 0.0f;
    const float inv = 1.0f / scale[r];
    float* o = out + r * d;
    for (int64_t i = 0; i < d; ++i) o[i] = (xr[i] - mean) * inv;
  }
}

void norm_affine(float* out, int64_t rows, int64_t d, const float* w, const float* b) {
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out + r * d;
    if (b) {
      for (int64_t i = 0; i < d; ++i) o[i] = o[i] * w[i] + b[i];
    } else {
      for (int64_t i = 0; i < d; ++i) o[i] *= w[i];
    }
  }
}

}  // namespace gb::ops
