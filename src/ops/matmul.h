// Linear-layer products with weights in any dtype: y[m, n] = x[m, k] @ W[n, k]ᵀ.
//
// Activations are f32; weights stay in their file dtype (F32, F16, BF16, Q8_0, Q4_0) and are
// converted inside the kernels, block by block. Accumulation is f32.
#pragma once

#include <cstdint>

#include "core/matrix.h"
#include "core/thread_pool.h"

namespace gb::ops {

// x: [m, w.cols], y: [m, w.rows] (overwritten). bias: [w.rows] or nullptr.
void matmul(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool& pool);

// The f32 values of row r of W: out[w.cols].
void weight_row(const WeightMatrix& w, int64_t r, float* out);

}  // namespace gb::ops
