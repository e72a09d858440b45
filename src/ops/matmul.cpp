#include "ops/matmul.h"

#include <cblas.h>

#include <algorithm>
#include <vector>

#include "core/error.h"

namespace gb::ops {
namespace {

float dot(const float* a, const float* b, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Converts rows [r0, r1) of W to f32 one row at a time and takes dot products with every x row.
void matmul_rows(const float* x, int64_t m, const WeightMatrix& w, float* y, int64_t r0,
                 int64_t r1) {
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = r0; r < r1; ++r) {
    weight_row(w, r, row.data());
    for (int64_t i = 0; i < m; ++i) y[i * w.rows + r] = dot(x + i * w.cols, row.data(), w.cols);
  }
}

}  // namespace

void weight_row(const WeightMatrix& w, int64_t r, float* out) {
  dequantize_row(w.dtype, w.row(r), out, w.cols);
}

void matmul(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool& pool) {
  if (w.dtype == DType::F32 && m > 1) {
    openblas_set_num_threads(pool.size());
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(w.rows), int(w.cols), 1.0f, x,
                int(w.cols), static_cast<const float*>(w.data), int(w.cols), 0.0f, y, int(w.rows));
  } else {
    pool.parallel_for(
        w.rows, [&](int64_t r0, int64_t r1) { matmul_rows(x, m, w, y, r0, r1); }, 16);
  }
  if (bias) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t r = 0; r < w.rows; ++r) y[i * w.rows + r] += bias[r];
  }
}

}  // namespace gb::ops
